//! The few strings the shell shows itself (tray menu, notifications), in English and French.
//! The UI's strings live in its own catalogues (`ui/src/i18n`).

use relay_client::Engine;

use crate::views::Language;

const LANGUAGE_KEY: &str = "ui.language";

/// A language the app speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

/// The chosen language setting.
pub fn setting(engine: &Engine) -> Language {
    match engine
        .store()
        .setting(LANGUAGE_KEY)
        .ok()
        .flatten()
        .as_deref()
    {
        Some("en") => Language::En,
        Some("fr") => Language::Fr,
        _ => Language::System,
    }
}

pub fn set(engine: &Engine, language: Language) -> Result<(), relay_client::ClientError> {
    match language {
        Language::System => engine.store().remove_setting(LANGUAGE_KEY),
        Language::En => engine.store().set_setting(LANGUAGE_KEY, "en"),
        Language::Fr => engine.store().set_setting(LANGUAGE_KEY, "fr"),
    }
}

/// The language in effect: the setting, else the system's.
pub fn current(engine: &Engine) -> Lang {
    match setting(engine) {
        Language::En => Lang::En,
        Language::Fr => Lang::Fr,
        Language::System => system(),
    }
}

/// The system's language (on Linux `LC_ALL`, `LC_MESSAGES`, `LANG`; the user's preferred
/// languages elsewhere), whether or not the webview's own locale data is installed.
pub fn system() -> Lang {
    let locale = sys_locale::get_locale().unwrap_or_default().to_lowercase();
    if locale.starts_with("fr") {
        Lang::Fr
    } else {
        Lang::En
    }
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

/// A message of the shell.
#[derive(Debug, Clone, Copy)]
pub enum Msg {
    Open,
    SyncNow,
    PauseNotifications,
    PauseHour,
    PauseTomorrow,
    PauseOff,
    Quit,
    NewItem,
}

pub fn text(lang: Lang, msg: Msg) -> &'static str {
    use Lang::*;
    use Msg::*;
    match (lang, msg) {
        (En, Open) => "Open Relay",
        (Fr, Open) => "Ouvrir Relay",
        (En, SyncNow) => "Sync now",
        (Fr, SyncNow) => "Synchroniser",
        (En, PauseNotifications) => "Pause notifications",
        (Fr, PauseNotifications) => "Suspendre les notifications",
        (En, PauseHour) => "For 1 hour",
        (Fr, PauseHour) => "Pendant 1 heure",
        (En, PauseTomorrow) => "Until tomorrow",
        (Fr, PauseTomorrow) => "Jusqu'à demain",
        (En, PauseOff) => "Off (notify me)",
        (Fr, PauseOff) => "Non (me notifier)",
        (En, Quit) => "Quit",
        (Fr, Quit) => "Quitter",
        (En, NewItem) => "New on Relay",
        (Fr, NewItem) => "Nouveau sur Relay",
    }
}

/// "3 shares queued" / "3 partages en attente".
pub fn queued(lang: Lang, n: u64) -> String {
    match (lang, n) {
        (Lang::En, 0) => "No shares queued".into(),
        (Lang::En, 1) => "1 share queued".into(),
        (Lang::En, n) => format!("{n} shares queued"),
        (Lang::Fr, 0) => "Aucun partage en attente".into(),
        (Lang::Fr, 1) => "1 partage en attente".into(),
        (Lang::Fr, n) => format!("{n} partages en attente"),
    }
}

/// A notification's title for `count` new items.
pub fn new_items(lang: Lang, count: usize) -> String {
    match (lang, count) {
        (_, 1) => text(lang, Msg::NewItem).into(),
        (Lang::En, n) => format!("{n} new items on Relay"),
        (Lang::Fr, n) => format!("{n} nouveaux contenus sur Relay"),
    }
}

/// A notification's body: the newest title, and how many more.
pub fn new_items_body(lang: Lang, newest: &str, count: usize) -> String {
    match (lang, count) {
        (_, 1) => newest.into(),
        (Lang::En, n) => format!("{newest} and {} more", n - 1),
        (Lang::Fr, n) => format!("{newest} et {} autres", n - 1),
    }
}
