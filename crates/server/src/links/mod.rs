//! Tracked links: `POST /v1/links` gives a person one short link per item and network, and
//! `GET /l/{code}` redirects it to the item's address with UTM parameters, counting unique
//! visitors. A visitor is a hash of the address with a salt that changes daily and is then
//! deleted: no address, cookie or user agent is stored, and yesterday's hashes cannot be
//! recomputed. One address is one visitor a day, whatever user agents it sends; an address the
//! sharer's own devices used today is not a visitor of their links. Link-preview fetchers and
//! HEAD requests get the redirect but are not counted.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use relay_protocol::{NewLink, Problem, TrackedLink};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, ClientAddr};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, Json};
use crate::programme::{self, ledger};
use crate::state::AppState;

pub mod cache;
pub use cache::LinkCache;
use cache::{Day, Followed, LinkRow, CACHE_LIMIT};

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

fn new_code() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

const LINK_COLUMNS: &str = "code, org_id, person_id, item_id, network, target, clicks";

/// The caller's tracked link for an item on a network (one per person, item and network).
/// `201` when made, `200` when it existed; `409` for an item retracted or expired.
#[utoipa::path(post, path = "/v1/links", tag = "programme", request_body = NewLink,
    responses((status = 201, body = TrackedLink), (status = 200, body = TrackedLink),
              (status = 400, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewLink>,
) -> ApiResult<(StatusCode, Json<TrackedLink>)> {
    let mut tx = state.db.begin().await?;
    let item = crate::content::offered(&mut tx, &caller, &new.item_id).await?;
    if !item.still_offered_at(now_ms()) {
        return Err(ApiError::Conflict(
            "this item was retracted or has expired: it gets no new tracked links".into(),
        ));
    }
    let target = with_utm(&item.url, new.network.as_str(), &item.channel_slug)?;
    let made = sqlx::query(
        "INSERT INTO links (code, org_id, person_id, item_id, network, target, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (person_id, item_id, network) DO NOTHING",
    )
    .bind(new_code())
    .bind(&caller.org_id)
    .bind(&caller.person_id)
    .bind(&new.item_id)
    .bind(new.network.as_str())
    .bind(&target)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    let row: LinkRow = sqlx::query_as(&format!(
        "SELECT {LINK_COLUMNS} FROM links WHERE person_id = $1 AND item_id = $2 AND network = $3"
    ))
    .bind(&caller.person_id)
    .bind(&new.item_id)
    .bind(new.network.as_str())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let status = if made {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(row.into_link(&state.config.public_url)?)))
}

/// Follows a tracked link: `302` to the item's address with UTM parameters. Counted once a day
/// per visitor; preview fetchers and HEAD requests are not counted. No sign-in.
///
/// The hottest unauthenticated path: a link's row and `Location` are kept in memory, and the
/// request's headers are read in place (not copied).
#[utoipa::path(get, path = "/l/{code}", tag = "programme",
    params(("code" = String, Path, description = "The link's code")),
    responses((status = 302, description = "To the item", headers(("Location" = String))),
              (status = 404, body = Problem)))]
async fn follow(
    State(state): State<AppState>,
    Path(code): Path<String>,
    address: ClientAddr,
    request: Request,
) -> ApiResult<Response> {
    follow_link(&state, &code, request.method(), request.headers(), address).await
}

/// The code of a tracked link's address (`/l/{code}`), when `path` is one and the code is
/// spelt as codes are (URL-safe base64: nothing to decode).
pub fn tracked_code(path: &str) -> Option<&str> {
    path.strip_prefix("/l/").filter(|code| code_ok(code))
}

/// Whether `code` is spelt as link codes are: 1 to 64 characters of URL-safe base64.
fn code_ok(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What following a link does, for the route above and for the listener's direct path (see
/// `serve.rs`): the redirect, the visitor counted when it is a person.
pub async fn follow_link(
    state: &AppState,
    code: &str,
    method: &Method,
    headers: &axum::http::HeaderMap,
    address: ClientAddr,
) -> ApiResult<Response> {
    // Codes are URL-safe base64: anything else (a NUL, which PostgreSQL cannot even compare)
    // is no link, answered before the database is asked.
    if !code_ok(code) {
        return Err(ApiError::NotFound("link"));
    }
    let link = match state.link_cache.link(code) {
        Some(link) => link,
        None => {
            let row: Option<LinkRow> =
                sqlx::query_as(&format!("SELECT {LINK_COLUMNS} FROM links WHERE code = $1"))
                    .bind(code)
                    .fetch_optional(&state.db.read)
                    .await?;
            let row = row.ok_or(ApiError::NotFound("link"))?;
            let location = HeaderValue::from_str(&row.target)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("a link's target: {e}")))?;
            let link = Arc::new(Followed { row, location });
            state.link_cache.keep_link(link.clone());
            link
        }
    };
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    if is_person(method, agent) {
        // A click that cannot be counted must not stop the visitor.
        if let Err(err) = count(state, &link.row, address).await {
            tracing::warn!(error = %err, "a click was not counted");
        }
    }
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, link.location.clone());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

/// Today's salt, made (and older ones with their visitors deleted) at the first click of a day.
async fn today(state: &AppState) -> Result<Arc<Day>, ApiError> {
    let now = chrono::Utc::now();
    let number = now.timestamp().div_euclid(86_400);
    if let Some(day) = state
        .link_cache
        .0
        .salt
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
    {
        if day.number == number {
            return Ok(day);
        }
    }
    let name = now.format("%Y-%m-%d").to_string();
    let mut tx = state.db.begin().await?;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let fresh = sqlx::query(
        "INSERT INTO link_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
    )
    .bind(&name)
    .bind(URL_SAFE_NO_PAD.encode(bytes))
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if fresh {
        sqlx::query("DELETE FROM link_visitors WHERE day < $1")
            .bind(&name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sharer_addresses WHERE day < $1")
            .bind(&name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM link_salts WHERE day < $1")
            .bind(&name)
            .execute(&mut *tx)
            .await?;
    }
    let salt: String = sqlx::query_scalar("SELECT salt FROM link_salts WHERE day = $1")
        .bind(&name)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    let day = Arc::new(Day { number, name, salt });
    *state
        .link_cache
        .0
        .salt
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(day.clone());
    Ok(day)
}

/// An address as today's salt hides it: what visitors and sharers are compared by.
fn hidden(day: &Day, address: ClientAddr) -> [u8; 32] {
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

/// Notes that a person's device used `address` today (on any signed-in request), so that their
/// own clicks from it are not counted. Written once a day per person and address; the row
/// holds the address hidden by the day's salt and goes with it.
pub fn note_sharer(state: &AppState, person_id: &str, address: std::net::IpAddr) {
    let number = chrono::Utc::now().timestamp().div_euclid(86_400);
    {
        let mut noted = state
            .link_cache
            .0
            .sharers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if noted.0 != number || noted.1.len() >= CACHE_LIMIT {
            *noted = (number, HashSet::new());
        }
        if !noted.1.insert((person_id.to_owned(), address)) {
            return;
        }
    }
    let (state, person_id) = (state.clone(), person_id.to_owned());
    tokio::spawn(async move {
        let written = async {
            let day = today(&state).await?;
            sqlx::query(
                "INSERT INTO sharer_addresses (person_id, day, address) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&person_id)
            .bind(&day.name)
            .bind(URL_SAFE_NO_PAD.encode(hidden(&day, ClientAddr(Some(address)))))
            .execute(&state.db.write)
            .await?;
            Ok::<_, ApiError>(())
        };
        if let Err(err) = written.await {
            tracing::warn!(error = %err, "a sharer's address was not noted");
        }
    });
}

/// Counts a visitor once a day, and credits the click to the share the link went out with,
/// unless the visitor is the sharer (an address their devices used today).
async fn count(state: &AppState, link: &LinkRow, address: ClientAddr) -> Result<(), ApiError> {
    let today = today(state).await?;
    let day = today.name.as_str();
    let address_hash = hidden(&today, address);
    let hash: [u8; 32] = Sha256::new()
        .chain_update(address_hash)
        .chain_update(b"|")
        .chain_update(link.code.as_bytes())
        .finalize()
        .into();
    if state.link_cache.seen(day, &hash) {
        return Ok(());
    }
    let own: Option<String> = sqlx::query_scalar(
        "SELECT day FROM sharer_addresses WHERE person_id = $1 AND day = $2 AND address = $3",
    )
    .bind(&link.person_id)
    .bind(day)
    .bind(URL_SAFE_NO_PAD.encode(address_hash))
    .fetch_optional(&state.db.read)
    .await?;
    if own.is_some() {
        // The sharer following their own link: not a visitor, now or later today.
        state.link_cache.keep_seen(day, hash);
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    let new_visitor = sqlx::query(
        "INSERT INTO link_visitors (code, day, visitor) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(&link.code)
    .bind(day)
    .bind(URL_SAFE_NO_PAD.encode(hash))
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !new_visitor {
        state.link_cache.keep_seen(day, hash);
        return Ok(());
    }
    sqlx::query("UPDATE links SET clicks = clicks + 1 WHERE code = $1")
        .bind(&link.code)
        .execute(&mut *tx)
        .await?;
    // Under the person's lock, so concurrent clicks cannot pass the cap together.
    let member = ledger::lock_person(&mut tx, &link.person_id).await?;
    let share = ledger::linked_share(&mut tx, &link.code).await?;
    if let Some(share) = &share {
        let calendar =
            programme::calendar::calendar_of(&mut tx, state.config.month_grace, &link.org_id)
                .await?;
        ledger::credit_clicks(&mut tx, share, &member, 1, &calendar).await?;
    }
    tx.commit().await?;
    state.link_cache.keep_seen(day, hash);
    if share.is_some() {
        state.events.programme_moved(&link.org_id);
    }
    Ok(())
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(follow))
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
