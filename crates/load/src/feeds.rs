//! The company's official accounts, as the sources see them: 20 feeds on this machine (a real
//! blog's RSS), each answering 304 to a poll that brings its `ETag`, as most feeds do between
//! posts.

use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const FEED: &[u8] = include_bytes!("../../server/tests/fixtures/feeds/cloudflare-blog.rss");
const ETAG: &str = "\"relay-load-1\"";

/// Serves the feeds in this process; returns their base URL.
pub async fn serve() -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new().route("/{file}", get(feed));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

async fn feed(Path(file): Path<String>, headers: HeaderMap) -> Response {
    if !file.starts_with("feed-") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == ETAG.as_bytes());
    if cached {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, ETAG)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "application/rss+xml"),
            (header::ETAG, ETAG),
        ],
        FEED,
    )
        .into_response()
}
