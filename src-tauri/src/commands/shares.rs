//! The composer's and the queue's commands: shares queued, listed, edited, cancelled, retried.

use chrono::{DateTime, Utc};
use relay_client::store::{LinkChoice, NewShare};
use tauri::{AppHandle, Runtime, State};
use tauri_specta::Event;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::views::*;

fn parse_time(value: &Option<String>) -> AppResult<Option<DateTime<Utc>>> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| AppError::invalid(format!("not a date and time: {v}")))
        })
        .transpose()
}

pub(crate) fn shares_changed<R: Runtime>(app: &AppHandle<R>) {
    crate::tray_refresh(app);
    let _ = Changed {
        feed: false,
        outbox: true,
        status: true,
        programme: false,
    }
    .emit(app);
}

/// Queues one share per chosen account, all or none, then sends what is due.
#[tauri::command(async)]
#[specta::specta]
pub fn queue_share(
    app: AppHandle,
    state: State<'_, AppState>,
    request: ShareRequest,
) -> AppResult<Vec<ShareView>> {
    if request.drafts.is_empty() {
        return Err(AppError::invalid("choose at least one account"));
    }
    let scheduled_at = parse_time(&request.scheduled_at)?;
    let store = state.engine.store();
    let mut queued = Vec::with_capacity(request.drafts.len());
    for draft in &request.drafts {
        if draft.text.trim().is_empty() {
            return Err(AppError::invalid("a share needs some text"));
        }
        if store.account(&draft.account_id)?.is_none() {
            return Err(AppError::invalid("that account is no longer connected"));
        }
    }
    for draft in request.drafts {
        queued.push(store.enqueue(&NewShare {
            link: if request.original_link {
                LinkChoice::Original
            } else {
                LinkChoice::Tracked
            },
            item_id: request.item_id.clone(),
            account_id: draft.account_id,
            text: draft.text,
            scheduled_at,
        })?);
    }
    shares_changed(&app);
    crate::live::sync_now(&app);
    let now = Utc::now();
    Ok(queued.iter().map(|s| ShareView::new(s, now)).collect())
}

/// Every share, newest first (the outbox is local: browsable offline).
#[tauri::command(async)]
#[specta::specta]
pub fn shares(state: State<'_, AppState>) -> AppResult<Vec<ShareView>> {
    let now = Utc::now();
    let mut all = state.engine.store().shares(None)?;
    all.sort_by_key(|s| std::cmp::Reverse(s.created_at));
    Ok(all.iter().map(|s| ShareView::new(s, now)).collect())
}

#[tauri::command(async)]
#[specta::specta]
pub fn edit_share(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    text: String,
    scheduled_at: Option<String>,
) -> AppResult<ShareView> {
    if text.trim().is_empty() {
        return Err(AppError::invalid("a share needs some text"));
    }
    let share =
        state
            .engine
            .store()
            .edit_share(&id, Some(&text), Some(parse_time(&scheduled_at)?))?;
    shares_changed(&app);
    Ok(ShareView::new(&share, Utc::now()))
}

#[tauri::command(async)]
#[specta::specta]
pub fn cancel_share(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> AppResult<ShareView> {
    let share = state
        .engine
        .store()
        .cancel_share(&id, "cancelled on this device")?;
    shares_changed(&app);
    Ok(ShareView::new(&share, Utc::now()))
}

#[tauri::command(async)]
#[specta::specta]
pub fn retry_share(app: AppHandle, state: State<'_, AppState>, id: String) -> AppResult<ShareView> {
    let share = state.engine.store().retry_share(&id)?;
    shares_changed(&app);
    crate::live::sync_now(&app);
    Ok(ShareView::new(&share, Utc::now()))
}
