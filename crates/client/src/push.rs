//! Push notifications, the device's side: the channel this device receives them on (a phone's
//! FCM or APNs token, a browser's Web Push subscription) and the pause, both told to the server
//! so that they hold while the app is closed. Both are kept here first and reported when the
//! server can be reached: a pause set offline still reaches the server later.

use relay_protocol::{NotificationPrefs, PushChannel};

use crate::engine::Engine;
use crate::error::ClientError;

const CHANNEL_KEY: &str = "push.channel";
const CHANNEL_REPORTED_KEY: &str = "push.channel_reported";
/// Set while the pause set on this device has not reached the server yet.
const PAUSE_UNSENT_KEY: &str = "notifications.pause_unsent";

impl Engine {
    /// Where this device receives push notifications (`None`: nowhere). Reported at once when
    /// the server answers, else by the live loop later.
    pub async fn set_push_channel(&self, channel: Option<PushChannel>) -> Result<(), ClientError> {
        match &channel {
            Some(channel) => self
                .store
                .set_setting(CHANNEL_KEY, &serde_json::to_string(channel)?)?,
            None => self.store.set_setting(CHANNEL_KEY, "")?,
        }
        self.store.remove_setting(CHANNEL_REPORTED_KEY)?;
        self.report_push().await.map(|_| ())
    }

    /// Tells the server this device's push channel and the pause, where either changed since
    /// it last heard. Answers whether anything was sent.
    pub async fn report_push(&self) -> Result<bool, ClientError> {
        let mut sent = false;
        if let Some(channel) = self.store.setting(CHANNEL_KEY)? {
            if self.store.setting(CHANNEL_REPORTED_KEY)?.as_deref() != Some(channel.as_str()) {
                let parsed: Option<PushChannel> = if channel.is_empty() {
                    None
                } else {
                    Some(serde_json::from_str(&channel)?)
                };
                let api = self.api()?;
                self.check(api.set_push_channel(parsed.as_ref()).await)?;
                self.store.set_setting(CHANNEL_REPORTED_KEY, &channel)?;
                sent = true;
            }
        }
        if self.store.setting(PAUSE_UNSENT_KEY)?.is_some() {
            let api = self.api()?;
            let current = self.check(api.notification_prefs().await)?;
            let prefs = NotificationPrefs {
                paused_until: self.notifications_paused_until()?,
                ..current
            };
            self.check(api.set_notification_prefs(&prefs).await)?;
            self.store.remove_setting(PAUSE_UNSENT_KEY)?;
            sent = true;
        }
        Ok(sent)
    }

    /// Pauses new-content notifications on this device and, through the server, on every
    /// device of the person (`None`: resume). The server hears of it now or when it can.
    pub async fn pause_everywhere(
        &self,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), ClientError> {
        self.pause_notifications(until)?;
        self.store.set_setting(PAUSE_UNSENT_KEY, "1")?;
        if let Err(e) = self.report_push().await {
            tracing::info!(error = %e, "the pause reaches the server later");
        }
        Ok(())
    }
}
