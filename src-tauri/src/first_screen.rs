//! The first screen, handed to the page with its document. The main window is made here (it is
//! `"create": false` in the configuration) with an initialization script that carries the
//! settings, the status as last known, the channels and the first feed page: the page paints the
//! feed at its first render instead of after two rounds of commands (launch to first paint,
//! `scripts/bench-app.sh`). The page still asks again right after, so what it shows stays live.

use serde::Serialize;
use specta::Type;
use tauri::{AppHandle, Runtime, WebviewWindow, WebviewWindowBuilder};

use crate::commands::{channels_of, feed_of, settings_of, status_local_of};
use crate::error::AppResult;
use crate::state::AppState;
use crate::views::{AppStatus, Card, ChannelView, FeedFilter, Settings};

/// What the first screen shows, as the commands of the same names would answer.
#[derive(Serialize, Type)]
pub struct FirstScreen {
    pub settings: Settings,
    pub status: AppStatus,
    pub channels: Vec<ChannelView>,
    /// The first page of the whole feed (no filter).
    pub feed: Vec<Card>,
    /// The desktop's interface font family where the shell knows it (Linux: GTK's setting). The
    /// page names it instead of `system-ui`, which WebKitGTK resolves by starting GTK's settings
    /// in the web process: about 30 ms before the first paint.
    pub ui_font: Option<String>,
}

/// GTK's interface font family ("Cantarell" of "Cantarell 11").
#[cfg(target_os = "linux")]
fn ui_font() -> Option<String> {
    use gtk::prelude::ObjectExt;
    let name: Option<String> = gtk::Settings::default()?.property("gtk-font-name");
    let family = gtk::pango::FontDescription::from_string(&name?).family()?;
    Some(family.to_string()).filter(|f| !f.trim().is_empty())
}

#[cfg(not(target_os = "linux"))]
fn ui_font() -> Option<String> {
    None
}

/// The global the page reads it from (`window.__RELAY_FIRST_SCREEN__`).
pub const GLOBAL: &str = "__RELAY_FIRST_SCREEN__";

fn first_screen<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> AppResult<FirstScreen> {
    Ok(FirstScreen {
        settings: settings_of(app, state)?,
        status: status_local_of(state)?,
        channels: channels_of(state)?,
        feed: feed_of(state, FeedFilter::default())?,
        ui_font: ui_font(),
    })
}

/// `window.__RELAY_FIRST_SCREEN__ = {...};` (JSON is a JavaScript expression).
fn script(screen: &impl Serialize) -> Option<String> {
    let json = serde_json::to_string(screen).ok()?;
    Some(format!("window.{GLOBAL} = {json};"))
}

/// Makes the main window from its configuration. Without a first screen (the cache could not
/// be read), the page asks for it with the usual commands.
pub fn main_window<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    visible: bool,
) -> tauri::Result<WebviewWindow<R>> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")
        .cloned()
        .unwrap_or_default();
    // Made visible, not shown afterwards: WebKit then renders the page at full rate from its
    // first frame.
    let mut builder = WebviewWindowBuilder::from_config(app, &config)?.visible(visible);
    let screen = first_screen(app, state);
    crate::bench_mark("first screen read");
    match screen {
        Ok(screen) => {
            if let Some(script) = script(&screen) {
                builder = builder.initialization_script(&script);
            }
        }
        Err(e) => tracing::warn!(error = %e, "the first screen could not be read ahead"),
    }
    let window = builder.build();
    crate::bench_mark("window made");
    window
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_sets_one_global_to_the_screen_as_it_was() {
        // Titles are the company's content: whatever they hold, they stay data.
        let screen = serde_json::json!({
            "feed": [{"title": "</script><script>alert(1)</script> \u{2028} \"quoted\""}],
            "channels": [],
        });
        let script = script(&screen).unwrap();
        let json = script
            .strip_prefix("window.__RELAY_FIRST_SCREEN__ = ")
            .and_then(|s| s.strip_suffix(';'))
            .unwrap();
        let back: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, screen);
    }
}
