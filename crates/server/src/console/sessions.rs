//! Console browser sessions: created at sign-in, read from the cookie on every request, ended by
//! sign-out, by an idle timeout, by their lifetime, or by the person's departure or demotion.

use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use relay_protocol::{ConsoleSession, Org, Person};

use crate::auth::cookie::{csrf_of, COOKIE_NAME};
use crate::auth::{hash_secret, new_token, Caller, TokenKind};
use crate::db::now_ms;
use crate::error::ApiError;
use crate::state::AppState;

/// How a browser signed in (kept for the audit log and the session list).
#[derive(Debug, Clone, Copy)]
pub enum Via {
    Link,
    Oidc,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Link => "link",
            Via::Oidc => "oidc",
        }
    }
}

/// A new session for `person`, with the cookie that carries it.
pub async fn open(
    state: &AppState,
    org: Org,
    person: Person,
    via: Via,
) -> Result<(ConsoleSession, HeaderValue), ApiError> {
    super::links::check_person(&person)?;
    let token = new_token(TokenKind::ConsoleSession);
    let id = uuid::Uuid::now_v7().to_string();
    let now = now_ms();
    let config = state.config.console;
    let expires_at = now + config.lifetime.as_millis() as i64;
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO console_sessions \
         (hash, id, org_id, person_id, via, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(hash_secret(&token))
    .bind(&id)
    .bind(&org.id)
    .bind(&person.id)
    .bind(via.as_str())
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        &org.id,
        Some(&person.id),
        "console.sign_in",
        &id,
        serde_json::json!({ "via": via.as_str() }),
    )
    .await?;
    tx.commit().await?;
    let cookie = cookie(state, &token, Some(config.lifetime.as_secs()));
    Ok((describe(state, org, person, &token, expires_at), cookie))
}

/// What the page needs to know of its session.
pub fn describe(
    state: &AppState,
    org: Org,
    person: Person,
    token: &str,
    expires_at: i64,
) -> ConsoleSession {
    ConsoleSession {
        person,
        org,
        csrf_token: csrf_of(token),
        idle_timeout_secs: state.config.console.idle.as_secs(),
        expires_at: chrono::DateTime::from_timestamp_millis(expires_at).unwrap_or_default(),
    }
}

/// The `Set-Cookie` value for `token` (`None` age: the cookie that deletes it).
pub fn cookie(state: &AppState, token: &str, max_age_secs: Option<u64>) -> HeaderValue {
    let secure = if is_loopback(&state.config.public_url) {
        ""
    } else {
        "; Secure"
    };
    let age = max_age_secs.unwrap_or(0);
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={age}{secure}"
    ))
    .expect("a cookie of URL-safe characters")
}

/// Whether the server is reached on this machine only (`http://127.0.0.1`, `localhost`, `[::1]`),
/// where browsers take no `Secure` cookie over plain HTTP.
fn is_loopback(public_url: &str) -> bool {
    let Ok(url) = url::Url::parse(public_url) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Signs the session out (idempotent).
pub async fn close(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "UPDATE console_sessions SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(&caller.access_hash)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        &caller.org_id,
        Some(&caller.person_id),
        "console.sign_out",
        caller.device_id.trim_start_matches("console:"),
        serde_json::json!({}),
    )
    .await?;
    // Its live event stream ends too, on every instance.
    let stale = crate::auth::cache::Invalidation::Device(caller.device_id.clone());
    stale.announce(&mut tx, state.db.backend).await?;
    tx.commit().await?;
    state.sessions.invalidate(&stale);
    Ok(())
}

/// The `Set-Cookie` header that removes the session cookie.
pub fn clear(state: &AppState, headers: &mut HeaderMap) {
    headers.insert(SET_COOKIE, cookie(state, "", None));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_is_loopback() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:3000/",
            "http://[::1]:80",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://relay.example.com",
            "http://relay.test",
            "http://10.0.0.1",
            "nonsense",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
