//! Start at login (desktop only; a setting).

use tauri::{AppHandle, Runtime};

use crate::error::AppResult;

#[cfg(desktop)]
pub fn enabled<R: Runtime>(app: &AppHandle<R>) -> bool {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().unwrap_or(false)
}

#[cfg(desktop)]
pub fn set<R: Runtime>(app: &AppHandle<R>, on: bool) -> AppResult<bool> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    let result = if on {
        launcher.enable()
    } else {
        launcher.disable()
    };
    result.map_err(|e| crate::error::AppError::invalid(format!("start at login: {e}")))?;
    Ok(enabled(app))
}

#[cfg(mobile)]
pub fn enabled<R: Runtime>(_: &AppHandle<R>) -> bool {
    false
}

#[cfg(mobile)]
pub fn set<R: Runtime>(_: &AppHandle<R>, _: bool) -> AppResult<bool> {
    Ok(false)
}
