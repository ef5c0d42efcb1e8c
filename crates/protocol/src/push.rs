//! Push notifications to phones and browsers: the channel a device registers with its session,
//! the person's notification preferences (kept on the server so they hold for every device),
//! and the payload a notification carries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

crate::wire_enum! {
    /// The push services the server can deliver through.
    PushKind {
        /// RFC 8030 Web Push with VAPID and RFC 8291 encryption (browsers, UnifiedPush).
        WebPush = "web_push",
        /// Firebase Cloud Messaging HTTP v1 (Android).
        Fcm = "fcm",
        /// Apple Push Notification service, token-based authentication (iOS).
        Apns = "apns",
    }
}

/// Body of `PUT /v1/me/push`: where this device receives notifications. One channel per
/// device; registering again replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PushChannel {
    /// A Web Push subscription, as `PushSubscription.toJSON()` gives it.
    WebPush {
        /// The push service's `https` URL for this subscription.
        endpoint: String,
        /// The subscription's P-256 public key, base64url (65 bytes uncompressed).
        p256dh: String,
        /// The subscription's authentication secret, base64url (16 bytes).
        auth: String,
    },
    /// An FCM registration token.
    Fcm { token: String },
    /// An APNs device token (hex).
    Apns { token: String },
}

impl PushChannel {
    pub fn kind(&self) -> PushKind {
        match self {
            PushChannel::WebPush { .. } => PushKind::WebPush,
            PushChannel::Fcm { .. } => PushKind::Fcm,
            PushChannel::Apns { .. } => PushKind::Apns,
        }
    }
}

/// Answer of `GET /v1/push/config`: what a device needs to subscribe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushConfig {
    /// The push services this server delivers through.
    pub kinds: Vec<PushKind>,
    /// The VAPID public key (base64url), the `applicationServerKey` of a Web Push subscription.
    pub vapid_public_key: Option<String>,
}

/// Quiet hours, in the person's time zone: no notification between `start` and `end`
/// (`"21:00"` to `"08:00"` by default; equal times switch them off). What arrives meanwhile
/// comes as one notification when they end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `HH:MM`
    pub start: String,
    /// `HH:MM`
    pub end: String,
}

/// A person's notification preferences: `GET` and `PUT /v1/me/notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationPrefs {
    /// No notification until then (none: not paused). What arrives during a pause is not
    /// announced later; it is in the feed.
    pub paused_until: Option<DateTime<Utc>>,
    pub quiet_hours: QuietHours,
    /// The person's IANA time zone (none: the organisation's).
    pub time_zone: Option<String>,
}

/// What a push notification carries, whatever the service: the item id(s) and a title, never
/// the content itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushPayload {
    /// The new items, newest first.
    pub items: Vec<String>,
    /// The item's title, or "3 new stories" in the person's language.
    pub title: String,
    /// What a tap opens: `relay://item/<id>` for one item, `relay://feed` for several.
    pub open: String,
}
