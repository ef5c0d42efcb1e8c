//! The session's commands: the device's status, enrolment and company sign-in, the first sync
//! and "Sync now", signing out.

use tauri::{AppHandle, State};
use tauri_specta::Event;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::views::*;

pub(crate) fn status_of(state: &AppState) -> AppResult<AppStatus> {
    view_status(state, state.engine.status()?)
}

fn view_status(state: &AppState, s: relay_client::Status) -> AppResult<AppStatus> {
    let n = |v: u64| v.min(u32::MAX as u64) as u32;
    Ok(AppStatus {
        enrolled: s.server.is_some(),
        server: s.server,
        person: s.person,
        organisation: s.organisation,
        signed_in: s.signed_in,
        signed_out_reason: s.signed_out_reason,
        synced: s.synced,
        online: state.live.online(),
        items: n(s.items),
        unread: n(s.unread),
        queued_shares: n(s.queued_shares),
        failed_shares: n(s.failed_shares),
    })
}

#[tauri::command(async)]
#[specta::specta]
pub fn status(state: State<'_, AppState>) -> AppResult<AppStatus> {
    status_of(&state)
}

/// The status as the device last knew it, without the keychain's round trip: what the UI
/// paints its first screen from, before `status` confirms it.
#[tauri::command(async)]
#[specta::specta]
pub fn status_local(state: State<'_, AppState>) -> AppResult<AppStatus> {
    crate::bench_mark("status asked");
    status_local_of(&state)
}

pub(crate) fn status_local_of(state: &AppState) -> AppResult<AppStatus> {
    view_status(state, state.engine.status_local()?)
}

fn device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| format!("Relay on {h}"))
        .unwrap_or_else(|| "Relay desktop".into())
}

/// Enrols this device with a one-time code.
#[tauri::command]
#[specta::specta]
pub async fn enrol(
    state: State<'_, AppState>,
    server: String,
    code: String,
) -> AppResult<AppStatus> {
    if code.trim().is_empty() {
        return Err(AppError::invalid("enter the enrolment code"));
    }
    state
        .engine
        .enrol(&server, code.trim(), &device_name())
        .await?;
    status_of(&state)
}

/// Signs in with the company's identity provider: its page opens in the browser, the answer
/// comes back to a loopback port, the server checks it. Waits up to five minutes.
#[tauri::command]
#[specta::specta]
pub async fn sign_in_with_company(
    app: AppHandle,
    state: State<'_, AppState>,
    server: String,
) -> AppResult<AppStatus> {
    state
        .engine
        .sign_in_with_company(
            &server,
            &device_name(),
            crate::guard::browser(&app),
            crate::guard::SIGN_IN_PATIENCE,
        )
        .await?;
    status_of(&state)
}

/// A full sync with progress events (the first sync's bar), then live mode.
#[tauri::command]
#[specta::specta]
pub async fn first_sync(app: AppHandle, state: State<'_, AppState>) -> AppResult<AppStatus> {
    let emitter = app.clone();
    let mut last = std::time::Instant::now() - std::time::Duration::from_secs(1);
    state
        .engine
        .sync(&mut |p| {
            // A progress event per page at most every 50 ms: the bar moves, the IPC stays calm.
            if last.elapsed() >= std::time::Duration::from_millis(50) || p.total == Some(p.done) {
                last = std::time::Instant::now();
                let n = |v: u64| v.min(u32::MAX as u64) as u32;
                let _ = SyncProgress {
                    done: n(p.done),
                    total: p.total.map(n),
                }
                .emit(&emitter);
            }
        })
        .await?;
    crate::live::start(&app);
    status_of(&state)
}

/// "Sync now": live mode syncs and sends at once.
#[tauri::command]
#[specta::specta]
pub fn sync_now(app: AppHandle) {
    crate::live::sync_now(&app);
}

#[tauri::command(async)]
#[specta::specta]
pub fn sign_out(state: State<'_, AppState>) -> AppResult<AppStatus> {
    state.engine.sign_out()?;
    status_of(&state)
}
