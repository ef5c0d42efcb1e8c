//! Push services and their keys, the batch window.

use std::time::Duration;

use super::apns::ApnsConfig;
use super::fcm::FcmConfig;
use super::webpush::WebPushConfig;

/// How the server reaches push services. Their keys live here (from the environment or files),
/// never in the database; `Debug` does not print them.
#[derive(Clone)]
pub struct PushSettings {
    pub web_push: Option<WebPushConfig>,
    pub fcm: Option<FcmConfig>,
    pub apns: Option<ApnsConfig>,
    /// How long items wait to be announced together.
    pub batch_window: Duration,
    /// How often the queue is looked at.
    pub tick: Duration,
    /// The first retry's delay; each next one doubles it (a `Retry-After` wins when longer).
    pub retry_base: Duration,
    /// Attempts before a notification is given up.
    pub max_attempts: i64,
    /// Web Push endpoints over plain `http` and on private addresses (tests' local receivers
    /// only). Otherwise an endpoint is a public `https` host, checked when connecting.
    pub local_endpoints: bool,
}

impl std::fmt::Debug for PushSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSettings")
            .field("web_push", &self.web_push.is_some())
            .field("fcm", &self.fcm.is_some())
            .field("apns", &self.apns.is_some())
            .field("batch_window", &self.batch_window)
            .finish_non_exhaustive()
    }
}
