use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Network;

/// Body of `POST /v1/shares`: the caller's device posted (or opened a share intent for) an item.
///
/// `share_id` is chosen by the device (a UUID from its outbox); with the session's device id it
/// names the record, so a repeated request is the same record, never a second one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewShareRecord {
    pub share_id: String,
    pub item_id: String,
    pub network: Network,
    pub shared_at: DateTime<Utc>,
    /// The public URL of the post, when the network tells it.
    #[serde(default)]
    pub post_url: Option<String>,
}

/// A recorded share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareRecord {
    pub id: String,
    pub device_id: String,
    pub share_id: String,
    pub person_id: String,
    pub item_id: String,
    pub network: Network,
    pub shared_at: DateTime<Utc>,
    pub post_url: Option<String>,
    pub recorded_at: DateTime<Utc>,
}
