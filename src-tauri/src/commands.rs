//! The commands the UI calls (typed for TypeScript by specta). Thin: each one asks the engine
//! and reshapes the answer.
//!
//! Every command that touches the database or the keychain is `async` (or `command(async)`),
//! so Tauri runs it off the main thread: the window keeps painting and taking input while a
//! sync applies a page. Reads use the store's own read connection, which never waits for one.

use chrono::{DateTime, Duration, Local, Utc};
use relay_client::store::{FeedQuery, LinkChoice, NewShare};
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_specta::Event;

use crate::error::{AppError, AppResult};
use crate::i18n;
use crate::state::AppState;
use crate::views::*;

/// Cards per feed page.
const PAGE: u32 = 50;

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

fn decode_after(after: &Option<String>) -> Option<(i64, String)> {
    let (ms, id) = after.as_deref()?.split_once(':')?;
    Some((ms.parse().ok()?, id.to_owned()))
}

/// The feed, newest first, a page at a time (`after`: the last card's `feed_key`).
#[tauri::command(async)]
#[specta::specta]
pub fn feed(state: State<'_, AppState>, filter: FeedFilter) -> AppResult<Vec<Card>> {
    crate::bench_mark("feed asked");
    let cards = feed_of(&state, filter)?;
    crate::bench_mark("feed answered");
    Ok(cards)
}

pub(crate) fn feed_of(state: &AppState, filter: FeedFilter) -> AppResult<Vec<Card>> {
    let items = state.engine.store().feed(&FeedQuery {
        channel_id: filter.channel_id,
        unread_only: filter.unread_only,
        saved_only: filter.saved_only,
        limit: PAGE,
        after: decode_after(&filter.after),
    })?;
    Ok(items.iter().map(Card::from_feed).collect())
}

/// Searches the cache (works offline); words may be prefixes, accents do not matter.
#[tauri::command(async)]
#[specta::specta]
pub fn search(state: State<'_, AppState>, words: String) -> AppResult<Vec<Card>> {
    if words.trim().is_empty() {
        return Ok(vec![]);
    }
    let items = state.engine.store().search(&words, PAGE)?;
    Ok(items.iter().map(Card::from_feed).collect())
}

/// Opens an item: its sanitised article and suggested wordings; marks it read.
#[tauri::command(async)]
#[specta::specta]
pub fn article(state: State<'_, AppState>, id: String) -> AppResult<Option<Article>> {
    let store = state.engine.store();
    let Some(found) = store.item(&id)? else {
        return Ok(None);
    };
    if !found.read {
        store.mark_read(&id, true)?;
    }
    let mut card = Card::from_feed(&found);
    card.read = true;
    Ok(Some(Article {
        card,
        body_html: relay_client::html::sanitize(&found.item.body_html, crate::images::proxied),
        suggestions: found
            .item
            .suggested_texts
            .iter()
            .map(|s| Suggestion {
                network: s.network.into(),
                language: s.language.clone(),
                text: s.text.clone(),
            })
            .collect(),
    }))
}

#[tauri::command(async)]
#[specta::specta]
pub fn mark_read(state: State<'_, AppState>, id: String, read: bool) -> AppResult<()> {
    Ok(state.engine.store().mark_read(&id, read)?)
}

#[tauri::command(async)]
#[specta::specta]
pub fn mark_saved(state: State<'_, AppState>, id: String, saved: bool) -> AppResult<()> {
    Ok(state.engine.store().mark_saved(&id, saved)?)
}

#[tauri::command(async)]
#[specta::specta]
pub fn channels(state: State<'_, AppState>) -> AppResult<Vec<ChannelView>> {
    channels_of(&state)
}

pub(crate) fn channels_of(state: &AppState) -> AppResult<Vec<ChannelView>> {
    let lang = i18n::current(&state.engine).code();
    Ok(state
        .engine
        .store()
        .channels()?
        .into_iter()
        .map(|(c, followed)| ChannelView {
            name: c
                .names
                .get(lang)
                .or_else(|| c.names.get("en"))
                .cloned()
                .unwrap_or_else(|| c.slug.clone()),
            id: c.id,
            followed,
        })
        .collect())
}

#[tauri::command(async)]
#[specta::specta]
pub fn follow_channel(state: State<'_, AppState>, id: String, followed: bool) -> AppResult<()> {
    Ok(state.engine.store().follow_channel(&id, followed)?)
}

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

#[tauri::command(async)]
#[specta::specta]
pub fn settings(app: AppHandle, state: State<'_, AppState>) -> AppResult<Settings> {
    settings_of(&app, &state)
}

pub(crate) fn settings_of<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> AppResult<Settings> {
    Ok(Settings {
        language: i18n::setting(&state.engine),
        system_language: i18n::system().code().into(),
        notifications_paused_until: state
            .engine
            .notifications_paused_until()?
            .map(|t| t.to_rfc3339()),
        start_at_login: crate::autostart::enabled(app),
        start_at_login_available: cfg!(desktop),
    })
}

#[tauri::command(async)]
#[specta::specta]
pub fn set_language(
    app: AppHandle,
    state: State<'_, AppState>,
    language: Language,
) -> AppResult<()> {
    i18n::set(&state.engine, language)?;
    crate::tray_refresh(&app);
    Ok(())
}

/// Pauses new-content notifications (tray and Settings).
pub fn pause<R: Runtime>(app: &AppHandle<R>, period: PausePeriod) {
    let state = app.state::<AppState>();
    let until = match period {
        PausePeriod::OneHour => Some(Utc::now() + Duration::hours(1)),
        PausePeriod::UntilTomorrow => {
            // 8 in the morning, local time, tomorrow.
            let tomorrow = Local::now().date_naive() + Duration::days(1);
            tomorrow
                .and_hms_opt(8, 0, 0)
                .and_then(|t| t.and_local_timezone(Local).earliest())
                .map(|t| t.with_timezone(&Utc))
        }
        PausePeriod::Off => None,
    };
    if let Err(e) = state.engine.pause_notifications(until) {
        tracing::warn!(error = %e, "pause notifications");
    }
    // The server keeps the pause too, so that it holds on the person's phone (push).
    let reporter = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = reporter.state::<AppState>();
        if let Err(e) = state.engine.pause_everywhere(until).await {
            tracing::warn!(error = %e, "pause notifications everywhere");
        }
    });
    let _ = Changed {
        feed: false,
        outbox: false,
        status: true,
        programme: false,
    }
    .emit(app);
}

#[tauri::command]
#[specta::specta]
pub fn pause_notifications(app: AppHandle, period: PausePeriod) {
    pause(&app, period);
}

#[tauri::command(async)]
#[specta::specta]
pub fn set_start_at_login(app: AppHandle, enabled: bool) -> AppResult<bool> {
    crate::autostart::set(&app, enabled)
}

#[tauri::command(async)]
#[specta::specta]
pub fn sign_out(state: State<'_, AppState>) -> AppResult<AppStatus> {
    state.engine.sign_out()?;
    status_of(&state)
}

#[tauri::command(async)]
#[specta::specta]
pub fn about(state: State<'_, AppState>) -> AppResult<About> {
    Ok(About {
        version: env!("CARGO_PKG_VERSION").into(),
        data_dir: state.engine.data_dir().display().to_string(),
        device_id: state.engine.status()?.device_id,
    })
}

/// The route a link or notification asked for before the UI listened, once.
#[tauri::command]
#[specta::specta]
pub fn take_pending_route(pending: State<'_, crate::routes::Pending>) -> Option<String> {
    pending.0.lock().unwrap().take()
}

/// Opens a web link in the system browser (never inside the app).
#[tauri::command(async)]
#[specta::specta]
pub fn open_link(app: AppHandle, url: String) -> AppResult<()> {
    crate::guard::open_external(&app, &url)
}

/// A step of the page's start, at `at` milliseconds since the Unix epoch (the page's
/// `performance.timeOrigin + performance.now()`).
#[derive(serde::Deserialize, specta::Type)]
pub struct PageMark {
    pub step: String,
    pub at: f64,
}

/// The UI painted its first feed: logged with the time since launch (the startup benchmark
/// reads it). Under the benchmark, the page's own steps are printed too, as times since launch.
#[tauri::command]
#[specta::specta]
pub fn ui_painted(marks: Vec<PageMark>) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let elapsed = crate::STARTED
            .get()
            .map(|s| s.elapsed())
            .unwrap_or_default();
        let ms = elapsed.as_millis();
        tracing::info!(ms, "first feed paint");
        if std::env::var_os("RELAY_BENCH").is_some() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let launched = (now.saturating_sub(elapsed)).as_secs_f64() * 1000.0;
            for mark in marks.iter().take(32) {
                eprintln!(
                    "startup: page: {} at {:.0} ms",
                    mark.step,
                    mark.at - launched
                );
            }
            eprintln!("first paint after {ms} ms");
        }
    });
}
