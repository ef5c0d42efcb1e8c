//! Console sessions as the request sees them: the browser's cookie read, the caller behind it
//! (writes checked for the session's CSRF token), and whether the session still stands. Opening
//! and closing them is the console's (`console/sessions.rs`).

use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use relay_protocol::Role;

use super::{hash_secret, Caller};
use crate::db::now_ms;
use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "relay_console";
/// The header a write carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How stale `last_seen_at` may get before a request writes it (the idle timeout is minutes).
const TOUCH_GRANULARITY_MS: i64 = 15 * 1000;

/// A session's CSRF token, derived from its cookie's: a page of another site can neither read
/// the cookie nor compute it, and the server needs to keep nothing more.
pub fn csrf_of(token: &str) -> String {
    format!("rlx_{}", hash_secret(&format!("csrf:{token}")))
}

/// The console session token a request's cookies carry, if any.
pub fn token_of(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE_NAME)
}

/// The value of the request's cookie `name`, if it has a non-empty one.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, value)| *n == name && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    org_id: String,
    person_id: String,
    last_seen_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    role: String,
    active: i64,
    country: String,
    language: String,
    department: String,
    audience_epoch: i64,
    version: i64,
    purged_below: i64,
}

/// What only a device does: it records shares and reads, holds tracked links, syncs its cache
/// and takes part in the programme as its person. A console session is not a device.
fn device_only(path: &str) -> bool {
    const PREFIXES: [&str; 8] = [
        "/v1/shares",
        "/v1/reads",
        "/v1/links",
        "/v1/sync",
        "/v1/programme/recheck",
        "/v1/programme/board/me",
        "/v1/me/accounts",
        // Push channels belong to devices: a browser session would register one never used.
        "/v1/me/push",
    ];
    PREFIXES.iter().any(|p| path.starts_with(p))
        || (path.starts_with("/v1/programme/draws/") && path.ends_with("/me"))
}

/// The caller behind a console cookie. Writes (any method but GET, HEAD and OPTIONS) must carry
/// the session's CSRF token.
pub async fn caller(state: &AppState, parts: &Parts, token: &str) -> Result<Caller, ApiError> {
    if device_only(parts.uri.path()) {
        return Err(ApiError::Forbidden(
            "this is for the app on a device, not the console".into(),
        ));
    }
    let hash = hash_secret(token);
    let row: Option<Row> = sqlx::query_as(
        "SELECT s.id, s.org_id, s.person_id, s.last_seen_at, s.expires_at, \
                s.revoked_at, p.role, p.active, p.country, p.language, p.department, \
                p.audience_epoch, o.version, o.purged_below \
         FROM console_sessions s JOIN people p ON p.id = s.person_id \
         JOIN orgs o ON o.id = s.org_id WHERE s.hash = $1",
    )
    .bind(&hash)
    .fetch_optional(&state.db.read)
    .await?;
    let ended = |detail: &str| ApiError::unauthorized("session_ended", detail.to_owned());
    let row = row.ok_or_else(|| ended("sign in again: this console session is unknown"))?;
    let now = now_ms();
    let idle = state.config.console.idle.as_millis() as i64;
    if row.revoked_at.is_some() {
        return Err(ended("you signed out: sign in again"));
    }
    if row.active == 0 {
        return Err(ended("this account is deactivated"));
    }
    if row.expires_at <= now || now - row.last_seen_at > idle {
        return Err(ended("the console session expired: sign in again"));
    }
    let role: Role = row
        .role
        .parse()
        .map_err(|e: relay_protocol::UnknownVariant| ApiError::Internal(e.into()))?;
    if !role.includes(Role::Curator) {
        return Err(ApiError::Forbidden(
            "the console is for curators and admins".into(),
        ));
    }
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if sent.is_empty() || sent != csrf_of(token) {
            return Err(ApiError::Forbidden(
                "this write lacks the console session's CSRF token".into(),
            ));
        }
    }
    if now - row.last_seen_at > TOUCH_GRANULARITY_MS {
        sqlx::query("UPDATE console_sessions SET last_seen_at = $1 WHERE hash = $2")
            .bind(now)
            .bind(&hash)
            .execute(&state.db.write)
            .await?;
    }
    let org_version = state.events.head(&row.org_id).unwrap_or(row.version);
    Ok(Caller {
        device_id: format!("console:{}", row.id),
        org_id: row.org_id,
        person_id: row.person_id,
        role,
        country: row.country,
        language: row.language,
        department: row.department,
        audience_epoch: row.audience_epoch,
        org_version,
        org_purged_below: row.purged_below,
        access_hash: hash,
        access_expires_at: row.expires_at.min(now + idle),
    })
}

/// Whether a console session still opens requests (for its live stream).
pub async fn still_open(state: &AppState, access_hash: &str) -> Result<bool, ApiError> {
    let row: Option<(Option<i64>, i64, i64, i64)> = sqlx::query_as(
        "SELECT s.revoked_at, s.expires_at, p.active, s.last_seen_at FROM console_sessions s \
         JOIN people p ON p.id = s.person_id WHERE s.hash = $1",
    )
    .bind(access_hash)
    .fetch_optional(&state.db.read)
    .await?;
    let idle = state.config.console.idle.as_millis() as i64;
    let now = now_ms();
    Ok(row.is_some_and(|(revoked, expires, active, seen)| {
        revoked.is_none() && active == 1 && expires > now && now - seen <= idle
    }))
}

/// Whether this caller came from a console cookie.
pub fn is_console(caller: &Caller) -> bool {
    caller.device_id.starts_with("console:")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_cookie_is_read_among_others_and_never_empty() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; relay_console=rls_x; b=2"),
        );
        assert_eq!(token_of(&headers).as_deref(), Some("rls_x"));
        headers.insert(
            COOKIE,
            HeaderValue::from_static("relay_console=; relay_consolex=y"),
        );
        assert_eq!(token_of(&headers), None);
    }

    #[test]
    fn device_requests_are_told_apart() {
        for path in [
            "/v1/shares",
            "/v1/shares/x/withdraw",
            "/v1/sync",
            "/v1/programme/draws/2026-11/me",
            "/v1/links",
        ] {
            assert!(device_only(path), "{path}");
        }
        for path in [
            "/v1/content",
            "/v1/people/import",
            "/v1/programme/draws/2026-11",
            "/v1/audit",
        ] {
            assert!(!device_only(path), "{path}");
        }
    }

    #[test]
    fn csrf_tokens_differ_per_session_and_are_not_the_session() {
        let (a, b) = (csrf_of("rls_a"), csrf_of("rls_b"));
        assert_ne!(a, b);
        assert!(!a.contains("rls_a"));
        assert_eq!(a, csrf_of("rls_a"));
    }
}
