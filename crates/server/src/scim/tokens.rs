//! An organisation's SCIM bearer tokens: made by `relay-server scim token --org SLUG` (shown
//! once, stored as a hash), revoked by `scim revoke`, each use dated; every change audited.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::error::ScimError;
use crate::auth::tokens::{hash_secret, new_token, TokenKind};
use crate::db::{new_id, now_ms, to_time, Db};
use crate::error::ApiError;
use crate::state::AppState;

/// A token as `scim tokens` lists it (never the secret).
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked: bool,
}

/// A new token for the organisation: its id and the secret (shown once).
pub async fn create(db: &Db, org_id: &str) -> Result<(String, String), ApiError> {
    let secret = new_token(TokenKind::Scim);
    let id = new_id();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO scim_tokens (id, org_id, token_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(org_id)
    .bind(hash_secret(&secret))
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        org_id,
        None,
        "scim.token.create",
        &id,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok((id, secret))
}

/// Revokes a token of the organisation (by id); answers whether one was live.
pub async fn revoke(db: &Db, org_id: &str, id: &str) -> Result<bool, ApiError> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE scim_tokens SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(id)
    .bind(org_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done == 0 {
        return Ok(false);
    }
    crate::audit::record(
        &mut tx,
        org_id,
        None,
        "scim.token.revoke",
        id,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn list(db: &Db, org_id: &str) -> Result<Vec<TokenInfo>, ApiError> {
    let rows: Vec<(String, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT id, created_at, last_used_at, revoked_at FROM scim_tokens WHERE org_id = $1 ORDER BY created_at",
    )
    .bind(org_id)
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, created, used, revoked)| TokenInfo {
            id,
            created_at: to_time(created),
            last_used_at: used.map(to_time),
            revoked: revoked.is_some(),
        })
        .collect())
}

/// The organisation a request's SCIM token belongs to.
#[derive(Debug, Clone)]
pub struct ScimOrg {
    pub org_id: String,
    pub token_id: String,
}

/// `last_used_at` is written at most this often per token (every request would be a write).
const USE_RESOLUTION_MS: i64 = 60_000;

impl FromRequestParts<AppState> for ScimOrg {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| t.starts_with(TokenKind::Scim.prefix()))
            .ok_or_else(ScimError::unauthorized)?;
        let row: Option<(String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, org_id, last_used_at FROM scim_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash_secret(secret))
        .fetch_optional(&state.db.read)
        .await?;
        let (token_id, org_id, used) = row.ok_or_else(ScimError::unauthorized)?;
        let now = now_ms();
        if used.is_none_or(|at| now - at > USE_RESOLUTION_MS) {
            sqlx::query("UPDATE scim_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&token_id)
                .execute(&state.db.write)
                .await?;
        }
        Ok(ScimOrg { org_id, token_id })
    }
}
