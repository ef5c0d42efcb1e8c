//! The person's own data, from the About screen: the organisation's privacy settings, the
//! download of everything the server holds about them, and erasure.

use serde::Serialize;
use specta::Type;
use tauri::{AppHandle, Manager, State};

use crate::error::AppResult;
use crate::state::AppState;
use crate::views::AppStatus;

#[derive(Debug, Clone, Serialize, Type)]
pub struct PrivacyView {
    /// The smallest group any company figure describes.
    pub min_group: u32,
    /// Whether admins may export one person's figures.
    pub individual_export: bool,
    /// Why (the recorded reason), when they may.
    pub reason: Option<String>,
    /// Since when (RFC 3339), when they may.
    pub since: Option<String>,
}

/// The organisation's privacy settings, from the server.
#[tauri::command]
#[specta::specta]
pub async fn privacy(state: State<'_, AppState>) -> AppResult<PrivacyView> {
    let p = state.engine.privacy().await?;
    Ok(PrivacyView {
        min_group: p.min_group.min(u32::MAX as u64) as u32,
        individual_export: p.individual_export.enabled,
        reason: p.individual_export.reason,
        since: p.individual_export.since.map(|t| t.to_rfc3339()),
    })
}

/// Saves everything the server holds about the person in the Downloads folder (the data folder
/// where there is none); returns the file's path.
#[tauri::command]
#[specta::specta]
pub async fn download_my_data(app: AppHandle, state: State<'_, AppState>) -> AppResult<String> {
    let folder = app
        .path()
        .download_dir()
        .unwrap_or_else(|_| state.engine.data_dir().to_path_buf());
    let path = state.engine.download_my_data(&folder).await?;
    Ok(path.display().to_string())
}

/// Erases the person on the server, then signs this device out.
#[tauri::command]
#[specta::specta]
pub async fn erase_me(state: State<'_, AppState>) -> AppResult<AppStatus> {
    state.engine.erase_me().await?;
    crate::commands::status_of(&state)
}
