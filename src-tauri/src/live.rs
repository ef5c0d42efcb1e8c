//! Live mode in the background: the engine follows the server's events, sends due shares, and
//! tells the UI (events) and the tray what changed.

use std::sync::atomic::Ordering;

use relay_client::sync::LiveEvent;
use tauri::{AppHandle, Manager, Runtime};
use tauri_specta::Event;

use crate::state::AppState;
use crate::views::Changed;

/// Starts live mode unless it runs; it stops by itself when the device is signed out.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let live = state.live.clone();
    if live.running.swap(true, Ordering::SeqCst) {
        return;
    }
    let engine = state.engine.clone();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let result = engine
            .watch_live(
                &mut |event| {
                    let changed = match event {
                        LiveEvent::Online => {
                            let was = live.online.swap(true, Ordering::Relaxed);
                            (!was).then_some(Changed {
                                feed: false,
                                outbox: false,
                                status: true,
                                programme: false,
                            })
                        }
                        LiveEvent::Offline(_) => {
                            let was = live.online.swap(false, Ordering::Relaxed);
                            was.then_some(Changed {
                                feed: false,
                                outbox: false,
                                status: true,
                                programme: false,
                            })
                        }
                        LiveEvent::Synced(report) => {
                            let feed = report.upserted + report.deleted > 0 || report.reset;
                            Some(Changed {
                                feed,
                                outbox: report.cancelled_shares > 0,
                                status: feed,
                                programme: false,
                            })
                        }
                        LiveEvent::ProgrammeMoved | LiveEvent::DrawMoved(_) => Some(Changed {
                            programme: true,
                            ..Changed::default()
                        }),
                        LiveEvent::OutboxChanged => {
                            crate::tray_refresh(&app);
                            Some(Changed {
                                feed: false,
                                outbox: true,
                                status: true,
                                programme: true,
                            })
                        }
                    };
                    if let Some(changed) = changed {
                        let _ = changed.emit(&app);
                    }
                },
                &live.nudge,
            )
            .await;
        if let Err(e) = result {
            tracing::info!(error = %e, "live mode stopped");
        }
        live.online.store(false, Ordering::Relaxed);
        live.running.store(false, Ordering::SeqCst);
        let _ = Changed {
            feed: true,
            outbox: true,
            status: true,
            programme: true,
        }
        .emit(&app);
    });
}

/// "Sync now": wakes live mode (starting it if it stopped).
pub fn sync_now<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    if state.live.running.load(Ordering::SeqCst) {
        state.live.nudge.notify_one();
    } else if state.engine.status().map(|s| s.signed_in).unwrap_or(false) {
        start(app);
    }
}
