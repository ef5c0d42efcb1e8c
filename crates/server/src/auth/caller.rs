use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use relay_protocol::Role;

use crate::db::now_ms;
use crate::error::ApiError;
use crate::state::AppState;

use super::cache::SessionRow;
use super::hash_secret;

/// The authenticated person and device behind a request, with what the sync feed needs to
/// answer without another query (the organisation's feed head and the person's audience).
#[derive(Debug, Clone)]
pub struct Caller {
    pub device_id: String,
    pub org_id: String,
    pub person_id: String,
    pub role: Role,
    pub country: String,
    pub language: String,
    pub department: String,
    pub audience_epoch: i64,
    /// The organisation's newest feed version this server instance knows to be committed
    /// (possibly a moment behind another instance's: see `sync`).
    pub org_version: i64,
    pub org_purged_below: i64,
    /// The access token's hash and expiry (live streams end with the token).
    pub access_hash: String,
    pub access_expires_at: i64,
}

impl Caller {
    /// Refuses the request unless the caller's role includes `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role.includes(needed) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("this needs the {needed} role")))
        }
    }
}

/// How stale `last_seen_at` may get before a request refreshes it: a write per request would
/// cost more than the empty sync it accompanies.
const LAST_SEEN_GRANULARITY_MS: i64 = 5 * 60 * 1000;

/// The session an access token hash belongs to, from the cache or the database.
pub(crate) async fn session_of(state: &AppState, hash: &str) -> Result<SessionRow, ApiError> {
    if let Some(row) = state.sessions.get(hash) {
        return Ok(row);
    }
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT s.device_id, s.org_id, s.person_id, s.access_expires_at, s.revoked_at, \
                s.last_seen_at, p.role, p.active, p.country, p.language, p.department, \
                p.audience_epoch, o.version, o.purged_below \
         FROM sessions s JOIN people p ON p.id = s.person_id JOIN orgs o ON o.id = s.org_id \
         WHERE s.access_hash = $1",
    )
    .bind(hash)
    .fetch_optional(&state.db.read)
    .await?;
    let row = row.ok_or_else(|| ApiError::unauthorized("invalid_token", "unknown access token"))?;
    state.events.observe(&row.org_id, row.version);
    state.sessions.insert(hash.to_owned(), row.clone());
    Ok(row)
}

/// Whether the session still opens requests at `now`.
pub(crate) fn check(row: &SessionRow, now: i64) -> Result<(), ApiError> {
    if row.revoked_at.is_some() {
        return Err(ApiError::unauthorized(
            "session_revoked",
            "this device was signed out",
        ));
    }
    if row.active == 0 {
        return Err(ApiError::unauthorized(
            "session_revoked",
            "this account is deactivated",
        ));
    }
    if row.access_expires_at <= now {
        return Err(ApiError::unauthorized(
            "token_expired",
            "the access token expired: refresh the session",
        ));
    }
    Ok(())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            // A browser in the console: its session is in a cookie.
            if let Some(token) = crate::auth::cookie::token_of(&parts.headers) {
                return crate::auth::cookie::caller(state, parts, &token).await;
            }
            return Err(ApiError::unauthorized(
                "missing_token",
                "sign in first: no bearer token",
            ));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "invalid_token",
                    "the Authorization header is not a bearer token",
                )
            })?;

        let hash = hash_secret(token);
        let row = session_of(state, &hash).await?;
        let now = now_ms();
        check(&row, now)?;
        if now - row.last_seen_at > LAST_SEEN_GRANULARITY_MS {
            state.sessions.touch(&hash, now);
            let db = state.db.clone();
            let device_id = row.device_id.clone();
            tokio::spawn(async move {
                let _ = sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE device_id = $2")
                    .bind(now)
                    .bind(device_id)
                    .execute(&db.write)
                    .await;
            });
        }
        // The sharer's own clicks on their links are not counted: their devices' address today.
        if let Some(axum::extract::ConnectInfo(peer)) = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        {
            crate::links::note_sharer(state, &row.person_id, peer.ip());
        }
        let org_version = state.events.head(&row.org_id).unwrap_or(row.version);
        Ok(Caller {
            role: row
                .role
                .parse()
                .map_err(|e: relay_protocol::UnknownVariant| ApiError::Internal(e.into()))?,
            device_id: row.device_id,
            org_id: row.org_id,
            person_id: row.person_id,
            country: row.country,
            language: row.language,
            department: row.department,
            audience_epoch: row.audience_epoch,
            org_version,
            org_purged_below: row.purged_below,
            access_hash: hash,
            access_expires_at: row.access_expires_at,
        })
    }
}

/// A caller whose role is checked before anything else of the request is read (its query, its
/// body): an employee learns nothing about what a curator's request would need.
macro_rules! role_extractor {
    ($name:ident, $role:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone)]
        pub struct $name(pub Caller);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, ApiError> {
                let caller = Caller::from_request_parts(parts, state).await?;
                caller.require($role)?;
                Ok($name(caller))
            }
        }
    };
}

role_extractor!(
    Curator,
    Role::Curator,
    "A caller with at least the curator role."
);
role_extractor!(Admin, Role::Admin, "A caller with the admin role.");
