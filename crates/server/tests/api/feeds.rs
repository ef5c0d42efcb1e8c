//! A local HTTP server for source tests: real-world feed files (with ETags and 304s), and every
//! kind of bad answer a source can give.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/feeds");

#[derive(Default)]
pub struct Counters {
    pub requests: AtomicUsize,
    pub not_modified: AtomicUsize,
}

pub struct FeedServer {
    pub addr: SocketAddr,
    pub base: String,
    pub counters: Arc<Counters>,
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn typed(content_type: &'static str, body: impl Into<Body>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.into()).into_response()
}

/// A fixture with an ETag; a request with that ETag gets 304.
fn with_etag(headers: &HeaderMap, counters: &Counters, ct: &'static str, name: &str) -> Response {
    let etag = format!("\"{name}-v1\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        counters.not_modified.fetch_add(1, Ordering::SeqCst);
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [(header::CONTENT_TYPE, ct), (header::ETAG, etag.as_str())],
        fixture(name),
    )
        .into_response()
}

fn rss(items: impl IntoIterator<Item = String>) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title><link>https://example.com/</link>{}</channel></rss>",
        items.into_iter().collect::<String>()
    )
}

fn item(n: usize, link: &str, date: Option<&str>) -> String {
    format!(
        "<item><guid>entry-{n}</guid><title>Entry number {n}</title><link>{link}</link>{}<description>Body {n}</description></item>",
        date.map(|d| format!("<pubDate>{d}</pubDate>")).unwrap_or_default()
    )
}

async fn serve(
    State(counters): State<Arc<Counters>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    counters.requests.fetch_add(1, Ordering::SeqCst);
    let c = &counters;
    match name.as_str() {
        "blog.rss" => with_etag(&headers, c, "application/rss+xml", "cloudflare-blog.rss"),
        "youtube.atom" => with_etag(&headers, c, "application/atom+xml", "youtube-channel.atom"),
        "mastodon.rss" => with_etag(&headers, c, "application/rss+xml", "mastodon-account.rss"),
        "blog.json" => with_etag(&headers, c, "application/feed+json", "elastic-blog.json"),
        // The blog's entries again, their links carrying tracking parameters.
        "mirror.rss" => {
            let text = String::from_utf8(fixture("cloudflare-blog.rss")).unwrap();
            let text = text.replace(
                "<link>https://blog.cloudflare.com/privacy-preserving-compromised-credential-checking/</link>",
                "<link>https://BLOG.cloudflare.com/privacy-preserving-compromised-credential-checking/?utm_source=mirror#top</link>",
            );
            typed(
                "application/rss+xml",
                text.replace(
                    "<guid isPermaLink=\"false\">",
                    "<guid isPermaLink=\"false\">mirror-",
                ),
            )
        }
        "moved.rss" => (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, "/feeds/blog.rss")],
        )
            .into_response(),
        "loop.rss" => (StatusCode::FOUND, [(header::LOCATION, "/feeds/loop.rss")]).into_response(),
        // `hops-N.rss`: N redirects before the blog's feed.
        hops if hops.starts_with("hops-") => {
            let n: u32 = hops
                .trim_start_matches("hops-")
                .trim_end_matches(".rss")
                .parse()
                .unwrap_or(0);
            let next = if n <= 1 {
                "/feeds/blog.rss".to_owned()
            } else {
                format!("/feeds/hops-{}.rss", n - 1)
            };
            (StatusCode::FOUND, [(header::LOCATION, next)]).into_response()
        }
        "slow.rss" => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            typed("application/rss+xml", rss([]))
        }
        "broken.rss" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "busy.rss" => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "7200")],
        )
            .into_response(),
        "invalid.rss" => typed("application/rss+xml", "<rss><channel><item><title>unclosed"),
        "picture.rss" => typed("image/png", vec![0x89, b'P', b'N', b'G']),
        "huge.rss" => {
            // 50 MB, announced.
            typed("application/rss+xml", vec![b' '; 50 * 1024 * 1024])
        }
        "endless.rss" => {
            // 50 MB, streamed with no length.
            let chunks = futures::stream::iter(
                (0..50).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024 * 1024])),
            );
            typed("application/rss+xml", Body::from_stream(chunks))
        }
        "bomb.rss" => {
            // A few kilobytes on the wire, 50 MB once decompressed.
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            for _ in 0..50 {
                gz.write_all(&vec![b' '; 1024 * 1024]).unwrap();
            }
            (
                [
                    (header::CONTENT_TYPE, "application/rss+xml"),
                    (header::CONTENT_ENCODING, "gzip"),
                ],
                gz.finish().unwrap(),
            )
                .into_response()
        }
        "laughs.rss" => {
            let mut doc =
                String::from("<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY lol \"lol\">");
            for i in 1..10 {
                let prev = if i == 1 {
                    "lol".to_owned()
                } else {
                    format!("lol{}", i - 1)
                };
                doc.push_str(&format!(
                    "<!ENTITY lol{i} \"{}\">",
                    format!("&{prev};").repeat(10)
                ));
            }
            doc.push_str("]><rss version=\"2.0\"><channel><title>&lol9;</title><item><guid>1</guid><title>&lol9;</title><link>https://example.com/lol</link></item></channel></rss>");
            typed("application/rss+xml", doc)
        }
        "many.rss" => typed(
            "application/rss+xml",
            rss((0..20_000).map(|n| {
                item(
                    n,
                    &format!("https://example.com/many/{n}"),
                    Some(&(chrono::Utc::now() - chrono::Duration::minutes(n as i64)).to_rfc2822()),
                )
            })),
        ),
        // The same entry three times (a hostile or broken feed).
        "repeats.rss" => typed(
            "application/rss+xml",
            rss((0..3).map(|_| item(7, "https://example.com/repeats/7", None))),
        ),
        "dates.rss" => typed(
            "application/rss+xml",
            rss([
                item(1, "https://example.com/dates/undated", None),
                item(
                    2,
                    "https://example.com/dates/future",
                    Some("Fri, 01 Jan 2100 00:00:00 +0000"),
                ),
                item(
                    3,
                    "https://example.com/dates/garbled",
                    Some("the day after tomorrow"),
                ),
                item(4, "", Some("Fri, 01 Jan 2021 00:00:00 +0000")),
            ]),
        ),
        "page.html" => typed(
            "text/html; charset=utf-8",
            "<!doctype html><html lang=\"en\"><head><title>Fallback</title>\
             <meta property=\"og:title\" content=\"We opened a new office in Lyon\">\
             <meta property=\"og:description\" content=\"Two hundred new jobs by 2028.\">\
             <meta property=\"og:image\" content=\"/img/lyon.jpg\">\
             <meta property=\"og:url\" content=\"https://company.example/news/lyon\">\
             </head><body><script>alert('x')</script></body></html>",
        ),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A Mastodon instance's account RSS at `/@name.rss`, and a YouTube-like `/feeds/videos.xml`.
async fn account(
    State(counters): State<Arc<Counters>>,
    Path(account): Path<String>,
    headers: HeaderMap,
) -> Response {
    counters.requests.fetch_add(1, Ordering::SeqCst);
    match account.as_str() {
        "@pdxjohnny.rss" => with_etag(
            &headers,
            &counters,
            "application/rss+xml",
            "mastodon-account.rss",
        ),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/redirect?to=URL`: 302 to anywhere.
async fn redirect(
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let to = q.get("to").cloned().unwrap_or_default();
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

async fn youtube(State(counters): State<Arc<Counters>>, headers: HeaderMap) -> Response {
    counters.requests.fetch_add(1, Ordering::SeqCst);
    with_etag(
        &headers,
        &counters,
        "application/atom+xml",
        "youtube-channel.atom",
    )
}

impl FeedServer {
    pub async fn start() -> FeedServer {
        let counters = Arc::new(Counters::default());
        let app = Router::new()
            .route("/feeds/{name}", get(serve))
            .route("/feeds/videos.xml", get(youtube))
            .route("/redirect", get(redirect))
            .route("/{account}", get(account))
            .with_state(counters.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FeedServer {
            addr,
            base: format!("http://{addr}"),
            counters,
        }
    }

    pub fn url(&self, name: &str) -> String {
        format!("{}/feeds/{name}", self.base)
    }

    pub fn requests(&self) -> usize {
        self.counters.requests.load(Ordering::SeqCst)
    }

    pub fn not_modified(&self) -> usize {
        self.counters.not_modified.load(Ordering::SeqCst)
    }
}
