//! What only desktops have: one instance per person (a second launch hands its `relay://` link
//! to the first), start at login, the tray, desktop notifications, and a window that closes to
//! the tray. `mobile/` answers the same calls on phones; `lib.rs` picks one as `platform`.

pub mod notifications;
pub mod tray;

use std::sync::Arc;

use relay_client::Engine;
use tauri::{AppHandle, Builder, Runtime, Window, WindowEvent};
use tauri_plugin_autostart::ManagerExt;

use crate::error::AppResult;
use crate::routes;

/// The desktop's plugins. First the single instance: a second launch hands its arguments (a
/// relay:// link) to this one and exits.
pub fn plugins<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            routes::show_window(app);
            routes::open_links(app, argv);
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--minimized"]),
        ))
}

/// The engine tells of new content through the desktop's notifications.
pub fn engine<R: Runtime>(engine: Engine, app: &AppHandle<R>) -> Engine {
    engine.with_notifier(Arc::new(notifications::DesktopNotifier {
        app: app.clone(),
    }))
}

/// Once the window is made: the tray.
pub fn setup<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    tray::create(app)
}

/// A signed-in device's start: live mode is all (notifications come from the engine).
pub fn signed_in<R: Runtime>(_: &AppHandle<R>) {}

/// Closing the window keeps Relay in the tray, syncing.
pub fn window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        api.prevent_close();
        let _ = window.hide();
    }
}

/// Redraws the tray menu (the queued-shares count, the language).
pub fn refresh_tray<R: Runtime>(app: &AppHandle<R>) {
    tray::refresh(app);
}

pub fn start_at_login<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.autolaunch().is_enabled().unwrap_or(false)
}

pub fn set_start_at_login<R: Runtime>(app: &AppHandle<R>, on: bool) -> AppResult<bool> {
    let launcher = app.autolaunch();
    let result = if on {
        launcher.enable()
    } else {
        launcher.disable()
    };
    result.map_err(|e| crate::error::AppError::invalid(format!("start at login: {e}")))?;
    Ok(start_at_login(app))
}
