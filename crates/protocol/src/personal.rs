//! A person's own data: everything the server holds about them (downloadable from the app), their
//! erasure, and the organisation's switch for exports of one person's figures.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The format tag of [`PersonalData`].
pub const PERSONAL_DATA_FORMAT: &str = "relay-personal-data-v1";

/// Answer of `GET /v1/me/data`: every row the server holds about the caller, table by table,
/// column by column (secrets' hashes left out: they say nothing about the person).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonalData {
    /// [`PERSONAL_DATA_FORMAT`].
    pub format: String,
    pub exported_at: DateTime<Utc>,
    pub person_id: String,
    /// Table name to its rows about the person (times are Unix milliseconds, as stored).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub tables: BTreeMap<String, Vec<serde_json::Map<String, serde_json::Value>>>,
}

/// Body of `POST /v1/me/erasure` and `POST /v1/people/{id}/erasure`. Erasure cannot be undone,
/// so the request says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// Must be `true`.
    pub confirm: bool,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Erasure {
    pub erased_at: DateTime<Utc>,
    /// Rows deleted (devices, sessions, points, links, leaderboard entry...).
    pub deleted: u64,
    /// Rows kept for the company's figures, now tied to no one (shares, consults, draw entries,
    /// content the person wrote, audit entries).
    pub anonymised: u64,
}

/// Whether admins may export one person's figures, and why. Every employee can read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndividualExport {
    pub enabled: bool,
    /// The recorded reason (an agreement with the works council, say), when enabled.
    pub reason: Option<String>,
    /// Since when, when enabled.
    pub since: Option<DateTime<Utc>>,
}

/// Body of `PUT /v1/privacy/individual-export`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IndividualExportChange {
    pub enabled: bool,
    /// Required to enable: 10 to 500 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The organisation's privacy settings, as every employee sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrivacySettings {
    /// The smallest group any figure in the console describes.
    pub min_group: u64,
    pub individual_export: IndividualExport,
}

/// One month of one person's programme figures (`GET /v1/people/{id}/figures`, only while
/// individual exports are enabled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonMonth {
    pub month: String,
    pub points: i64,
    pub verified: i64,
    pub declared: i64,
    pub clicks: i64,
}
