//! The `relay-img:` scheme: item images served from the offline cache (fetched on first use),
//! so the webview never loads anything from the web and the CSP can forbid it.

use std::borrow::Cow;

use tauri::http::{header, Request, Response, StatusCode};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

use crate::state::AppState;

pub const SCHEME: &str = "relay-img";

/// The address the webview loads `url` from (Windows and Android spell custom schemes as
/// `http://<scheme>.localhost`).
pub fn proxied(url: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    if cfg!(any(windows, target_os = "android")) {
        format!("http://{SCHEME}.localhost/?url={encoded}")
    } else {
        format!("{SCHEME}://localhost/?url={encoded}")
    }
}

fn target(request: &Request<Vec<u8>>) -> Option<String> {
    let query = request.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "url")
        .map(|(_, v)| v.into_owned())
}

fn respond(responder: UriSchemeResponder, status: StatusCode, body: Vec<u8>, mime: &str) {
    let response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, mime)
        .header(header::CACHE_CONTROL, "max-age=86400")
        .body(Cow::<[u8]>::Owned(body).into_owned())
        .expect("static response parts");
    responder.respond(response);
}

pub fn handle<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let Some(url) = target(&request) else {
        return respond(responder, StatusCode::BAD_REQUEST, vec![], "text/plain");
    };
    let engine = ctx.app_handle().state::<AppState>().engine.clone();
    tauri::async_runtime::spawn(async move {
        // The cached file, or downloaded into the cache on first use.
        let bytes = match engine.images().fetch(&url).await.map(std::fs::read) {
            Ok(Ok(bytes)) => bytes,
            _ => return respond(responder, StatusCode::NOT_FOUND, vec![], "text/plain"),
        };
        match relay_client::images::content_type(&bytes) {
            Some(mime) => respond(responder, StatusCode::OK, bytes, mime),
            None => respond(
                responder,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                vec![],
                "text/plain",
            ),
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn proxied_urls_round_trip() {
        let original = "https://cdn.test/a b.png?x=1&y=2";
        let address = super::proxied(original);
        let request = tauri::http::Request::builder()
            .uri(address)
            .body(Vec::new())
            .unwrap();
        assert_eq!(super::target(&request).as_deref(), Some(original));
    }
}
