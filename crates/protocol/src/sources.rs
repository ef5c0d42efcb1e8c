//! Sources: the company's official accounts and feeds, polled by the server, whose entries
//! become drafts in a channel.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

crate::wire_enum! {
    /// What a source reads.
    SourceKind {
        /// An RSS, Atom or JSON Feed URL.
        Feed = "feed",
        /// A YouTube channel (its Atom feed), from a channel URL or id.
        Youtube = "youtube",
        /// A Mastodon account (`@name@instance`), from its RSS.
        Mastodon = "mastodon",
        /// A Bluesky account (a handle), its posts read from its PDS.
        Bluesky = "bluesky",
        /// A web page, read from its OpenGraph tags.
        Page = "page",
    }
}

/// Body of `POST /v1/sources`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSource {
    pub kind: SourceKind,
    /// A feed or page URL, a YouTube channel URL or id (`UC...`), `@name@instance`, or a
    /// Bluesky handle.
    pub address: String,
    /// Where its entries arrive as drafts.
    pub channel_id: String,
    /// Publish entries at once (an official account is already validated) instead of leaving
    /// them in the inbox.
    #[serde(default)]
    pub auto_publish: bool,
    /// Minutes between polls (5 to 1440; 15 when absent).
    #[serde(default)]
    pub interval_minutes: Option<u32>,
}

/// Body of `PATCH /v1/sources/{id}`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SourceUpdate {
    pub channel_id: Option<String>,
    pub auto_publish: Option<bool>,
    pub interval_minutes: Option<u32>,
    pub paused: Option<bool>,
}

/// How a source is doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceHealth {
    pub last_fetch_at: Option<DateTime<Utc>>,
    pub last_new_entry_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Failing without a success since then.
    pub failing_since: Option<DateTime<Utc>>,
    /// Failing for a day or more: the console flags it.
    pub flagged: bool,
    /// Entries gathered as drafts since the source was added.
    pub entries: i64,
    pub next_poll_at: Option<DateTime<Utc>>,
}

/// A source as curators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Source {
    pub id: String,
    pub kind: SourceKind,
    /// What the curator gave, normalised.
    pub address: String,
    /// What the server fetches.
    pub fetch_url: String,
    pub channel_id: String,
    pub auto_publish: bool,
    pub interval_minutes: u32,
    pub paused: bool,
    pub health: SourceHealth,
    pub created_at: DateTime<Utc>,
}

/// What one poll of a source did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PollReport {
    /// `true` when the source answered 304 Not Modified.
    pub not_modified: bool,
    /// Entries in the answer.
    pub seen: u32,
    /// Drafts (or published items) made from new entries.
    pub created: u32,
    /// New entries dropped as duplicates of an item already gathered (same canonical URL).
    pub duplicates: u32,
    /// New entries left out: beyond the newest kept per poll, or without a link.
    pub skipped: u32,
    /// Why the poll failed, if it did.
    pub error: Option<String>,
}
