//! Push on phones: Android through Firebase Cloud Messaging, iOS through APNs, both by
//! `tauri-plugin-remote-push`. On the first run the system asks the person whether Relay may
//! notify them; the device's token then goes to the server with this device's session (the
//! engine keeps it and reports it again when the server could not be reached). The server
//! batches new content into notifications whose tap opens `relay://item/<id>`.

use relay_protocol::PushChannel;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_remote_push::RemotePushExt;

use crate::state::AppState;

/// Asks for notification permission (the system remembers the answer: it asks once) and
/// registers this phone's push token with the server.
pub fn register<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let push = app.remote_push();
        if let Err(e) = push.request_permission() {
            tracing::info!(error = %e, "notifications not permitted: no push");
            return;
        }
        let token = match push.get_token() {
            Ok(token) => token,
            Err(e) => {
                tracing::warn!(error = %e, "no push token from the system");
                return;
            }
        };
        #[cfg(target_os = "android")]
        let channel = PushChannel::Fcm { token };
        #[cfg(target_os = "ios")]
        let channel = PushChannel::Apns { token };
        let state = app.state::<AppState>();
        if let Err(e) = state.engine.set_push_channel(Some(channel)).await {
            tracing::info!(error = %e, "the push token reaches the server later");
        }
    });
}
