//! The tray icon and its menu: open, sync now, the queued-shares count, pausing notifications,
//! quit. Rebuilt when the count or the language changes.

use relay_client::store::ShareState;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::i18n::{self, Lang, Msg};
use crate::routes;
use crate::state::AppState;
use crate::views::PausePeriod;

const TRAY_ID: &str = "relay";

/// Every entry of the tray menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayMenuId {
    Open,
    SyncNow,
    Queued,
    PauseHour,
    PauseTomorrow,
    PauseOff,
    Quit,
}

impl TrayMenuId {
    const ALL: [TrayMenuId; 7] = [
        TrayMenuId::Open,
        TrayMenuId::SyncNow,
        TrayMenuId::Queued,
        TrayMenuId::PauseHour,
        TrayMenuId::PauseTomorrow,
        TrayMenuId::PauseOff,
        TrayMenuId::Quit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TrayMenuId::Open => "open",
            TrayMenuId::SyncNow => "sync_now",
            TrayMenuId::Queued => "queued",
            TrayMenuId::PauseHour => "pause_hour",
            TrayMenuId::PauseTomorrow => "pause_tomorrow",
            TrayMenuId::PauseOff => "pause_off",
            TrayMenuId::Quit => "quit",
        }
    }

    pub fn parse(id: &str) -> Option<TrayMenuId> {
        TrayMenuId::ALL.into_iter().find(|m| m.as_str() == id)
    }
}

fn menu<R: Runtime>(app: &AppHandle<R>, lang: Lang, queued: u64) -> tauri::Result<Menu<R>> {
    let item = |id: TrayMenuId, text: &str, enabled: bool| {
        MenuItem::with_id(app, id.as_str(), text, enabled, None::<&str>)
    };
    let pause = Submenu::with_items(
        app,
        i18n::text(lang, Msg::PauseNotifications),
        true,
        &[
            &item(
                TrayMenuId::PauseHour,
                i18n::text(lang, Msg::PauseHour),
                true,
            )?,
            &item(
                TrayMenuId::PauseTomorrow,
                i18n::text(lang, Msg::PauseTomorrow),
                true,
            )?,
            &item(TrayMenuId::PauseOff, i18n::text(lang, Msg::PauseOff), true)?,
        ],
    )?;
    Menu::with_items(
        app,
        &[
            &item(TrayMenuId::Open, i18n::text(lang, Msg::Open), true)?,
            &item(TrayMenuId::SyncNow, i18n::text(lang, Msg::SyncNow), true)?,
            &PredefinedMenuItem::separator(app)?,
            &item(TrayMenuId::Queued, &i18n::queued(lang, queued), false)?,
            &PredefinedMenuItem::separator(app)?,
            &pause,
            &PredefinedMenuItem::separator(app)?,
            &item(TrayMenuId::Quit, i18n::text(lang, Msg::Quit), true)?,
        ],
    )
}

fn queued<R: Runtime>(app: &AppHandle<R>) -> u64 {
    app.try_state::<AppState>()
        .and_then(|s| {
            let store = s.engine.store();
            // Everything not sent yet: waiting, going out, or failed and waiting to be retried.
            let mut waiting = 0;
            for state in [ShareState::Queued, ShareState::Sending, ShareState::Failed] {
                waiting += store.count_shares(state).ok()?;
            }
            Some(waiting)
        })
        .unwrap_or(0)
}

fn lang<R: Runtime>(app: &AppHandle<R>) -> Lang {
    app.try_state::<AppState>()
        .map(|s| i18n::current(&s.engine))
        .unwrap_or_else(i18n::system)
}

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Relay")
        .menu(&menu(app, lang(app), queued(app))?)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| {
            if let Some(id) = TrayMenuId::parse(event.id().as_ref()) {
                on_menu(app, id);
            }
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                routes::show_window(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}

/// Refreshes the menu (queued count, language).
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    match menu(app, lang(app), queued(app)) {
        Ok(menu) => {
            let _ = tray.set_menu(Some(menu));
        }
        Err(e) => tracing::warn!(error = %e, "tray menu"),
    }
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, id: TrayMenuId) {
    match id {
        TrayMenuId::Open => routes::show_window(app),
        TrayMenuId::SyncNow => crate::live::sync_now(app),
        TrayMenuId::Queued => routes::go(app, routes::Route::Queue),
        TrayMenuId::PauseHour => crate::commands::pause(app, PausePeriod::OneHour),
        TrayMenuId::PauseTomorrow => crate::commands::pause(app, PausePeriod::UntilTomorrow),
        TrayMenuId::PauseOff => crate::commands::pause(app, PausePeriod::Off),
        TrayMenuId::Quit => app.exit(0),
    }
}

#[cfg(test)]
mod tests {
    use super::TrayMenuId;

    #[test]
    fn menu_ids_round_trip() {
        for id in TrayMenuId::ALL {
            assert_eq!(TrayMenuId::parse(id.as_str()), Some(id));
        }
        assert_eq!(TrayMenuId::parse("nope"), None);
    }
}
