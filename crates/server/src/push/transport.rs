//! What every push service's client shares: the notification's target, what the service made
//! of it, and how long it may take.

use std::time::Duration;

use relay_protocol::PushKind;

use crate::db::now_ms;

/// A push service gets this long to answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// What a push service made of one notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// The subscription or token no longer exists: forget the channel.
    Gone,
    /// Throttled or failing for now: try again, not before `after` when the service said.
    Retry {
        after: Option<Duration>,
    },
    /// Refused for good (a malformed request, say): give this notification up.
    Refused(String),
}

impl Outcome {
    /// The usual reading of a push service's status (each service refines it).
    pub fn from_status(
        status: reqwest::StatusCode,
        headers: &reqwest::header::HeaderMap,
    ) -> Outcome {
        match status.as_u16() {
            200..=299 => Outcome::Delivered,
            404 | 410 => Outcome::Gone,
            429 | 500..=599 => Outcome::Retry {
                after: retry_after(headers),
            },
            code => Outcome::Refused(format!("the push service answered {code}")),
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.timestamp_millis() - now_ms();
    Some(Duration::from_millis(wait.max(0) as u64))
}

/// A device's channel, as stored.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: PushKind,
    pub address: String,
    pub p256dh: Option<String>,
    pub auth: Option<String>,
}
