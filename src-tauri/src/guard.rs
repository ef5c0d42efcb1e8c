//! The webview never leaves the app: navigation to anything but the app's own pages is refused,
//! and web links open in the system browser instead.

use tauri::plugin::{Builder, TauriPlugin};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_opener::OpenerExt;

use crate::error::{AppError, AppResult};

/// Whether `url` is one of the app's own pages (the bundled UI, or the dev server).
fn is_app_page(url: &url::Url) -> bool {
    match url.scheme() {
        "tauri" => true,
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        "about" => url.as_str() == "about:blank",
        _ => false,
    }
}

/// Opens an http(s) or mailto link in the system's handler.
pub fn open_external<R: Runtime>(app: &AppHandle<R>, link: &str) -> AppResult<()> {
    let url = url::Url::parse(link).map_err(|_| AppError::invalid("not a valid link"))?;
    if !matches!(url.scheme(), "http" | "https" | "mailto") {
        return Err(AppError::invalid("only web links open from Relay"));
    }
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| AppError::invalid(format!("could not open the browser: {e}")))
}

pub fn plugin<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("navigation-guard")
        .on_navigation(|webview, url| {
            if is_app_page(url) {
                return true;
            }
            tracing::info!(
                scheme = url.scheme(),
                "navigation away from the app refused"
            );
            if matches!(url.scheme(), "http" | "https" | "mailto") {
                let _ = open_external(webview.app_handle(), url.as_str());
            }
            false
        })
        .build()
}

/// How long a sign-in in the browser may take before the app stops waiting.
pub const SIGN_IN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(300);

/// Hands the engine's sign-in pages to the system browser.
pub fn browser<R: Runtime>(
    app: &AppHandle<R>,
) -> impl FnOnce(&str) -> Result<(), relay_client::ClientError> {
    let app = app.clone();
    move |url| {
        open_external(&app, url).map_err(|e| relay_client::ClientError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_app_pages_load_in_the_webview() {
        let ok = |s: &str| super::is_app_page(&url::Url::parse(s).unwrap());
        assert!(ok("tauri://localhost/index.html"));
        assert!(ok("http://tauri.localhost/"));
        assert!(!ok("https://evil.test/"));
        assert!(!ok("javascript:alert(1)"));
        assert!(!ok("file:///etc/passwd"));
    }
}
