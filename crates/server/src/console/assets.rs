//! The console's files, embedded at build time from `console/dist`.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{Html, IntoResponse, Redirect, Response};
use include_dir::{include_dir, Dir};

static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../console/dist");

/// Scripts and styles from the server only; pictures from anywhere (previews show the
/// content's images); no framing, no plug-ins.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob: https: http:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Relay console</title>\
    <p>The console was not built into this server. Build it with <code>scripts/build-console.sh</code> \
    (or <code>cd console &amp;&amp; npm ci &amp;&amp; npm run build</code>) and build the server again.</p>";

pub async fn to_index() -> Redirect {
    Redirect::permanent("/console/")
}

pub async fn index(
    axum::extract::State(app): axum::extract::State<crate::state::AppState>,
) -> Response {
    match DIST.get_file("index.html") {
        Some(file) => page(
            with_test_clock(&app, file.contents()),
            "text/html; charset=utf-8",
            false,
        ),
        None => (
            [(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY))],
            Html(NOT_BUILT),
        )
            .into_response(),
    }
}

/// Test builds that replay recorded beacon rounds on a moved clock tell the console's draw check
/// that clock (it says so loudly); a production build has no such option and serves the page as
/// built.
#[cfg(feature = "test-beacon")]
fn with_test_clock(
    app: &crate::state::AppState,
    page: &'static [u8],
) -> std::borrow::Cow<'static, [u8]> {
    let chain = app.config.beacon.chain();
    if chain.genesis_unix() == relay_draw::QUICKNET.genesis_unix() {
        return page.into();
    }
    let meta = format!(
        "<meta name=\"relay-test-beacon-genesis\" content=\"{}\" />",
        chain.genesis_unix()
    );
    String::from_utf8_lossy(page)
        .replacen("<head>", &format!("<head>{meta}"), 1)
        .into_bytes()
        .into()
}

#[cfg(not(feature = "test-beacon"))]
fn with_test_clock(
    _: &crate::state::AppState,
    page: &'static [u8],
) -> std::borrow::Cow<'static, [u8]> {
    page.into()
}

pub async fn file(Path(path): Path<String>) -> Response {
    match DIST.get_file(&path) {
        Some(file) => {
            // Vite names built files by their content: they never change.
            let immutable = path.starts_with("assets/");
            page(file.contents(), content_type(&path), immutable)
        }
        // The app's own routes live after `#`: anything else is missing.
        None => crate::error::ApiError::NotFound("console file").into_response(),
    }
}

fn page(
    body: impl Into<std::borrow::Cow<'static, [u8]>>,
    content_type: &'static str,
    immutable: bool,
) -> Response {
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CACHE_CONTROL, HeaderValue::from_static(cache)),
            (CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)),
            (
                axum::http::header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                axum::http::header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        axum::body::Body::from(body.into()),
    )
        .into_response()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
