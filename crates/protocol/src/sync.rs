use serde::{Deserialize, Serialize};

use crate::{Channel, Item};

/// Default and largest page size of `GET /v1/sync`.
pub const SYNC_DEFAULT_LIMIT: u32 = 500;
pub const SYNC_MAX_LIMIT: u32 = 1000;

/// One change in the feed: an item the caller may see, whole, or a tombstone for one they may
/// no longer see (retracted, expired, moved out of their audience).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
// Nearly every change is an upsert: boxing the item would cost an allocation for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Change {
    Upsert {
        item: Item,
    },
    Delete {
        id: String,
        version: i64,
        cause: RemovalCause,
        /// The curators' words, for a retraction (shown where queued shares are cancelled).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(nullable = false))]
        reason: Option<String>,
    },
}

crate::wire_enum! {
    /// Why an item left the caller's feed.
    RemovalCause {
        /// The curators withdrew it.
        Retracted = "retracted",
        /// Its expiry passed.
        Expired = "expired",
        /// It is no longer meant for the caller (its audience changed).
        NotInAudience = "not_in_audience",
    }
}

/// Answer of `GET /v1/sync?cursor=&limit=`.
///
/// Apply `changes` and store `cursor` in one transaction. When `reset` is true, first drop every
/// cached item (never the outbox): this page starts over from nothing. Ask again at once while
/// `has_more` is true.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncPage {
    pub reset: bool,
    pub changes: Vec<Change>,
    /// Opaque: pass it back unchanged. Never a timestamp.
    pub cursor: String,
    pub has_more: bool,
    /// Feed entries still to come after this page, when more follow: an upper bound on the
    /// changes to come (entries not meant for the caller are skipped), for a progress bar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub remaining: Option<u64>,
    /// The organisation's full channel list, sent when it changed since the cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub channels: Option<Vec<Channel>>,
}

/// Data of the `version` event on `GET /v1/events`: a newer feed version exists; sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionEvent {
    pub version: i64,
    /// Milliseconds the devices told of this version spread their syncs over: each waits a
    /// random time between a tenth of this (the announcement reaching the others) and this,
    /// so that one approval announced to thousands of devices at once does not bring all
    /// their syncs in the same instant. 0 (and absent, from older servers): sync at once.
    #[serde(default)]
    pub spread_ms: u64,
}

impl VersionEvent {
    /// How long a device waits before syncing, for `draw` uniform in [0, 1).
    pub fn wait(&self, draw: f64) -> std::time::Duration {
        std::time::Duration::from_millis(self.spread_ms).mul_f64(0.1 + 0.9 * draw.clamp(0.0, 1.0))
    }
}

/// Data of the `draw` event on `GET /v1/events`: a month's prize draw moved (committed, its
/// entry list frozen, drawn). Sent at once, never held back: a device fetches the draw and pins
/// what it sees before the beacon round exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawEvent {
    /// `YYYY-MM`.
    pub month: String,
}

/// Data of the `reconnect` event on `GET /v1/events`, the last a stopping instance sends: its
/// devices reconnect (to the other instances) each at a random moment within `within_ms`, so
/// that a rolling restart does not bring all of one instance's devices to the others at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReconnectEvent {
    pub within_ms: u64,
}

impl ReconnectEvent {
    /// How long a device waits before reconnecting, for `draw` uniform in [0, 1).
    pub fn wait(&self, draw: f64) -> std::time::Duration {
        std::time::Duration::from_millis(self.within_ms).mul_f64(draw.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{ReconnectEvent, VersionEvent};

    #[test]
    fn a_device_reconnects_within_the_window() {
        let event = ReconnectEvent { within_ms: 8_000 };
        assert_eq!(event.wait(0.0), Duration::ZERO);
        assert_eq!(event.wait(0.25), Duration::from_millis(2_000));
        assert_eq!(event.wait(3.0), Duration::from_millis(8_000), "clamped");
    }

    #[test]
    fn a_device_waits_within_the_spread_after_its_first_tenth() {
        let event = |spread_ms| VersionEvent {
            version: 7,
            spread_ms,
        };
        assert_eq!(event(0).wait(0.99), Duration::ZERO, "no spread: at once");
        assert_eq!(event(10_000).wait(0.0), Duration::from_millis(1_000));
        assert_eq!(event(10_000).wait(0.5), Duration::from_millis(5_500));
        assert!(event(10_000).wait(0.999_999) <= Duration::from_millis(10_000));
        assert_eq!(
            event(10_000).wait(7.0),
            Duration::from_millis(10_000),
            "clamped"
        );
        // Older servers send no spread: at once.
        let old: VersionEvent = serde_json::from_str(r#"{"version":3}"#).unwrap();
        assert_eq!(old.wait(0.5), Duration::ZERO);
    }
}
