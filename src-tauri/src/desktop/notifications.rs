//! Desktop notifications (notify-rust) for the engine's new-content batches. Clicking one opens
//! the item. Mobile targets will show theirs through the platform instead.

use relay_client::notify::{Notification, NotificationKind, Notifier};
use tauri::{AppHandle, Manager, Runtime};

use crate::i18n;
use crate::routes::{self, Route};
use crate::state::AppState;

pub struct DesktopNotifier<R: Runtime> {
    pub app: AppHandle<R>,
}

/// The action id of a click on the notification itself (the freedesktop spec's "default").
const OPEN: &str = "default";

impl<R: Runtime> Notifier for DesktopNotifier<R> {
    fn notify(&self, n: &Notification) {
        let lang = match self.app.try_state::<AppState>() {
            Some(state) => i18n::current(&state.engine),
            None => i18n::system(),
        };
        let (summary, body, route) = match n.kind {
            NotificationKind::NewContent => (
                i18n::new_items(lang, n.count),
                i18n::new_items_body(lang, &n.newest_title, n.count),
                Route::Item(n.item_id.clone()),
            ),
        };
        let app = self.app.clone();
        // Waiting for a click blocks: one short-lived thread per notification.
        std::thread::spawn(move || {
            let shown = notify_rust::Notification::new()
                .appname("Relay")
                .summary(&summary)
                .body(&body)
                .icon("relay")
                .action(OPEN, i18n::text(lang, i18n::Msg::Open))
                .show();
            match shown {
                #[cfg(all(unix, not(target_os = "macos")))]
                Ok(handle) => handle.wait_for_action(|action| {
                    if action == OPEN {
                        routes::go(&app, route);
                    }
                }),
                #[cfg(not(all(unix, not(target_os = "macos"))))]
                Ok(_) => {
                    let _ = (&app, route);
                }
                Err(e) => tracing::warn!(error = %e, "no notification server"),
            }
        });
    }
}
