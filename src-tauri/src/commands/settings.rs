//! The settings and about screens' commands, and the shell's own: language, notifications
//! paused, start at login, links opened, routes waiting, the page's timing marks.

use chrono::{Duration, Local, Utc};
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_specta::Event;

use crate::error::AppResult;
use crate::i18n;
use crate::state::AppState;
use crate::views::*;

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
        start_at_login: crate::platform::start_at_login(app),
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
    crate::platform::set_start_at_login(&app, enabled)
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
