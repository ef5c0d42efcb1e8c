//! One place where deep links, notification clicks and the tray send the person:
//! `relay://item/<id>`, `relay://queue`, `relay://enrol?server=..&code=..`.

use tauri::{AppHandle, Manager, Runtime};
use tauri_specta::Event;

use crate::views::Navigate;

/// A screen the app can be sent to from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Item(String),
    Queue,
    Settings,
    Enrol { server: String, code: String },
}

impl Route {
    /// Parses a `relay:` link; anything else (or a malformed one) is ignored.
    pub fn parse(link: &str) -> Option<Route> {
        let url = url::Url::parse(link).ok()?;
        if url.scheme() != "relay" {
            return None;
        }
        // `relay://item/<id>`: the host is the route, the path its argument.
        let host = url.host_str().unwrap_or_default();
        let rest = url.path().trim_start_matches('/');
        match host {
            "item" if !rest.is_empty() && !rest.contains('/') => Some(Route::Item(rest.to_owned())),
            "queue" => Some(Route::Queue),
            "settings" => Some(Route::Settings),
            "enrol" => {
                let param = |name: &str| {
                    url.query_pairs()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.into_owned())
                };
                Some(Route::Enrol {
                    server: param("server")?,
                    code: param("code")?,
                })
            }
            _ => None,
        }
    }

    /// The UI's route string.
    pub fn ui(&self) -> String {
        match self {
            Route::Item(id) => format!("item/{id}"),
            Route::Queue => "queue".into(),
            Route::Settings => "settings".into(),
            Route::Enrol { server, code } => {
                let q: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("server", server)
                    .append_pair("code", code)
                    .finish();
                format!("enrol?{q}")
            }
        }
    }
}

/// Brings the window forward.
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Shows the window and sends the UI to `route`. The UI may not be listening yet (a cold start
/// from a link): it also asks for the pending route once it is up.
pub fn go<R: Runtime>(app: &AppHandle<R>, route: Route) {
    show_window(app);
    let ui = route.ui();
    // A forwarded link arrives twice on some desktops (single-instance and deep-link both
    // report it): follow it once.
    static LAST: std::sync::Mutex<Option<(String, std::time::Instant)>> =
        std::sync::Mutex::new(None);
    {
        let mut last = LAST.lock().unwrap();
        if let Some((previous, at)) = last.as_ref() {
            if *previous == ui && at.elapsed() < std::time::Duration::from_secs(2) {
                return;
            }
        }
        *last = Some((ui.clone(), std::time::Instant::now()));
    }
    if let Some(pending) = app.try_state::<Pending>() {
        *pending.0.lock().unwrap() = Some(ui.clone());
    }
    let _ = Navigate { route: ui }.emit(app);
}

/// Opens whichever of `links` is a route.
pub fn open_links<R: Runtime>(app: &AppHandle<R>, links: impl IntoIterator<Item = String>) {
    for link in links {
        if let Some(route) = Route::parse(&link) {
            go(app, route);
        }
    }
}

/// The last route sent, until the UI takes it.
#[derive(Default)]
pub struct Pending(pub std::sync::Mutex<Option<String>>);

#[cfg(test)]
mod tests {
    use super::Route;

    #[test]
    fn links_map_to_routes() {
        assert_eq!(
            Route::parse("relay://item/0190-ab"),
            Some(Route::Item("0190-ab".into()))
        );
        assert_eq!(Route::parse("relay://queue"), Some(Route::Queue));
        let enrol =
            Route::parse("relay://enrol?server=http%3A%2F%2F127.0.0.1%3A8080&code=AB-CD").unwrap();
        assert_eq!(
            enrol,
            Route::Enrol {
                server: "http://127.0.0.1:8080".into(),
                code: "AB-CD".into()
            }
        );
        assert_eq!(
            Route::parse(&format!("relay://{}", enrol.ui())),
            Some(enrol)
        );
    }

    #[test]
    fn other_links_are_ignored() {
        for link in [
            "https://item/1",
            "relay://item/",
            "relay://item/a/b",
            "relay://nope",
            "relay://enrol?code=1",
            "not a link",
        ] {
            assert_eq!(Route::parse(link), None, "{link}");
        }
    }
}
