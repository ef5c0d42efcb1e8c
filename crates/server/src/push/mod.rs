//! Push notifications for new content, to phones (FCM, APNs) and browsers (Web Push).
//!
//! The pipeline, each step a claim in the database so that several server instances over one
//! PostgreSQL do every step once:
//! 1. `queue::scan`: items that became live (approval, scheduled publication, a wider audience)
//!    are queued for each person of their audience who has a push channel (`push_pending`);
//!    the organisation's `push_version` is moved by exactly one instance.
//! 2. `queue::batch`: once a person's oldest queued item is a batch window old (and not during
//!    their quiet hours, nor their pause), their items become one notification per device
//!    (`push_deliveries`), "3 new stories" rather than three pushes.
//! 3. `deliver`: deliveries are claimed and sent, many at once; gone channels are removed,
//!    throttled or failing services retried later, honouring `Retry-After`.
//!
//! This runs in its own task: a slow or failing push service never delays the feed.

mod apns;
mod deliver;
mod fcm;
pub mod message;
pub mod prefs;
pub mod queue;
mod routes;
pub mod settings;
mod store;
mod transport;
mod webpush;

use std::time::Duration;

pub use routes::router;

use crate::error::ApiError;
use crate::state::AppState;
pub use settings::PushSettings;

pub use apns::ApnsConfig;
pub use fcm::{FcmConfig, ServiceAccount};
pub use webpush::WebPushConfig;

/// Items reaching a person within two minutes make one notification.
pub const DEFAULT_BATCH_WINDOW: Duration = Duration::from_secs(120);

impl Default for PushSettings {
    fn default() -> Self {
        PushSettings {
            web_push: None,
            fcm: None,
            apns: None,
            batch_window: DEFAULT_BATCH_WINDOW,
            tick: Duration::from_secs(1),
            retry_base: Duration::from_secs(30),
            max_attempts: 8,
            local_endpoints: false,
        }
    }
}

impl PushSettings {
    /// From `RELAY_VAPID_*`, `RELAY_FCM_*`, `RELAY_APNS_*` and `RELAY_PUSH_BATCH_SECS` (see the
    /// `docs/push.md`). A service whose settings are missing is not offered.
    pub fn from_env() -> anyhow::Result<PushSettings> {
        let mut settings = PushSettings {
            web_push: WebPushConfig::from_env()?,
            fcm: FcmConfig::from_env()?,
            apns: ApnsConfig::from_env()?,
            ..Default::default()
        };
        if let Ok(secs) = std::env::var("RELAY_PUSH_BATCH_SECS") {
            settings.batch_window = Duration::from_secs(secs.parse()?);
        }
        Ok(settings)
    }

    pub fn kinds(&self) -> Vec<relay_protocol::PushKind> {
        use relay_protocol::PushKind;
        let mut kinds = Vec::new();
        if self.web_push.is_some() {
            kinds.push(PushKind::WebPush);
        }
        if self.fcm.is_some() {
            kinds.push(PushKind::Fcm);
        }
        if self.apns.is_some() {
            kinds.push(PushKind::Apns);
        }
        kinds
    }
}

/// A setting read from `NAME`, or from the file `NAME_FILE` names (for keys kept as files).
fn env_or_file(name: &str) -> anyhow::Result<Option<String>> {
    if let Ok(value) = std::env::var(name) {
        return Ok(Some(value));
    }
    match std::env::var(format!("{name}_FILE")) {
        Ok(path) => Ok(Some(std::fs::read_to_string(&path).map_err(|e| {
            anyhow::anyhow!("cannot read {name}_FILE ({path}): {e}")
        })?)),
        Err(_) => Ok(None),
    }
}

/// Runs the pipeline every tick until the server stops.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let sender = deliver::Sender::new(&state.config.push);
        let mut ticker = tokio::time::interval(state.config.push.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stop = state.shutdown.signalled();
        tokio::pin!(stop);
        let mut ticks: u64 = 0;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = &mut stop => return,
            }
            ticks += 1;
            tokio::select! {
                result = tick(&state, &sender, ticks % 60 == 1) => if let Err(err) = result {
                    tracing::warn!(error = %err, "push notifications: a step failed");
                },
                _ = &mut stop => return,
            }
        }
    })
}

/// One pass of the pipeline (and, when `tidy`, removal of signed-out devices' channels).
pub async fn tick(state: &AppState, sender: &deliver::Sender, tidy: bool) -> Result<(), ApiError> {
    if tidy {
        queue::forget_signed_out(state).await?;
    }
    queue::scan(state).await?;
    queue::batch(state).await?;
    sender.deliver_due(state).await?;
    Ok(())
}

pub use deliver::Sender;
