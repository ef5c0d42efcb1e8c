//! What phones do differently: notifications come by push (`push.rs`), there is no tray, no
//! start at login, and the system owns the window. Answers the calls `desktop/` answers; `lib.rs`
//! picks one as `platform`.
//!
//! Built only for the mobile targets (their toolchains are not on the build machines: see the
//! "Phones" in `docs/app.md`).

pub mod push;

use relay_client::Engine;
use tauri::{AppHandle, Builder, Runtime, Window, WindowEvent};

use crate::error::AppResult;

pub fn plugins<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder.plugin(tauri_plugin_remote_push::init())
}

/// The engine's new-content batches reach phones by push from the server, not from the engine.
pub fn engine<R: Runtime>(engine: Engine, _: &AppHandle<R>) -> Engine {
    engine
}

pub fn setup<R: Runtime>(_: &AppHandle<R>) -> tauri::Result<()> {
    Ok(())
}

/// A signed-in phone registers its push token (the system asks the person once).
pub fn signed_in<R: Runtime>(app: &AppHandle<R>) {
    push::register(app);
}

pub fn window_event<R: Runtime>(_: &Window<R>, _: &WindowEvent) {}

pub fn refresh_tray<R: Runtime>(_: &AppHandle<R>) {}

pub fn start_at_login<R: Runtime>(_: &AppHandle<R>) -> bool {
    false
}

pub fn set_start_at_login<R: Runtime>(_: &AppHandle<R>, _: bool) -> AppResult<bool> {
    Ok(false)
}
