//! Tracked links: `POST /v1/links` gives a person one short link per item and network, and
//! `GET /l/{code}` redirects it to the item's address with UTM parameters, counting unique
//! visitors. A visitor is a hash of the address with a salt that changes daily and is then
//! deleted: no address, cookie or user agent is stored, and yesterday's hashes cannot be
//! recomputed. One address is one visitor a day, whatever user agents it sends; an address the
//! sharer's own devices used today is not a visitor of their links. Link-preview fetchers and
//! HEAD requests get the redirect but are not counted.

//!
//! The rules are here; what each instance keeps in memory in `cache.rs`, counting visitors in
//! `visitors.rs`, the queries in `store.rs`, the API in `routes.rs`.

use axum::http::Method;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::auth::ClientAddr;
use crate::error::ApiError;

pub mod cache;
pub mod routes;
pub mod store;
pub mod visitors;

use cache::Day;
pub use cache::LinkCache;
pub use routes::router;
pub use visitors::{follow_link, note_sharer};

/// User agents of link-preview fetchers and crawlers: they unfurl links, nobody clicked.
const PREVIEW_AGENTS: &[&str] = &[
    "bot",
    "crawler",
    "spider",
    "facebookexternalhit",
    "facebookcatalog",
    "linkedin",
    "mastodon",
    "bluesky",
    "cardyb",
    "slack",
    "teams",
    "skypeuripreview",
    "microsoftpreview",
    "whatsapp",
    "telegram",
    "discord",
    "embedly",
    "preview",
    "python-requests",
    "go-http-client",
];

/// The preview agents as one automaton, any case: one pass over the user agent per click.
static PREVIEWS: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(PREVIEW_AGENTS)
        .expect("fixed patterns")
});

/// Whether a request is a person following the link, as far as one can tell.
pub fn is_person(method: &Method, user_agent: Option<&str>) -> bool {
    if method != Method::GET {
        return false;
    }
    let Some(agent) = user_agent else {
        return false;
    };
    !agent.trim().is_empty() && !PREVIEWS.is_match(agent)
}

/// The item's address with Relay's UTM parameters (replacing any `utm_*` it had).
pub fn with_utm(target: &str, network: &str, campaign: &str) -> Result<String, ApiError> {
    let mut url = url::Url::parse(target).map_err(|e| ApiError::Internal(e.into()))?;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("utm_"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("utm_source", "relay")
        .append_pair("utm_medium", network)
        .append_pair("utm_campaign", campaign);
    Ok(url.to_string())
}

pub(crate) fn new_code() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The code of a tracked link's address (`/l/{code}`), when `path` is one and the code is
/// spelt as codes are (URL-safe base64: nothing to decode).
pub fn tracked_code(path: &str) -> Option<&str> {
    path.strip_prefix("/l/").filter(|code| code_ok(code))
}

/// Whether `code` is spelt as link codes are: 1 to 64 characters of URL-safe base64.
pub(crate) fn code_ok(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An address as today's salt hides it: what visitors and sharers are compared by.
pub(crate) fn hidden(day: &Day, address: ClientAddr) -> [u8; 32] {
    let mut hasher = Sha256::new()
        .chain_update(day.salt.as_bytes())
        .chain_update(b"|address|");
    match address.0 {
        Some(std::net::IpAddr::V4(ip)) => hasher.update(ip.octets()),
        Some(std::net::IpAddr::V6(ip)) => hasher.update(ip.octets()),
        None => {}
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_link_addresses_take_the_direct_path() {
        assert_eq!(tracked_code("/l/aB3_-x"), Some("aB3_-x"));
        for path in [
            "/l/",
            "/l/a/b",
            "/l/%41",
            "/l/a.b",
            "/lx/abc",
            "/v1/links",
            "/l",
        ] {
            assert_eq!(tracked_code(path), None, "{path}");
        }
        assert_eq!(tracked_code(&format!("/l/{}", "a".repeat(65))), None);
    }

    #[test]
    fn previews_and_head_requests_are_not_people() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert!(is_person(&Method::GET, Some(firefox)));
        assert!(!is_person(&Method::HEAD, Some(firefox)));
        for bot in [
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
            "Twitterbot/1.0",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mastodon/4.3.0 (http.rb/5.2.0; +https://mastodon.social/) Bot",
            "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) SkypeUriPreview Preview/0.5",
        ] {
            assert!(!is_person(&Method::GET, Some(bot)), "{bot}");
        }
        assert!(!is_person(&Method::GET, None));
    }

    #[test]
    fn utm_parameters_replace_the_items_own() {
        let url = with_utm(
            "https://example.com/a?id=3&utm_source=newsletter#top",
            "bluesky",
            "news",
        )
        .unwrap();
        assert_eq!(
            url,
            "https://example.com/a?id=3&utm_source=relay&utm_medium=bluesky&utm_campaign=news#top"
        );
    }
}
