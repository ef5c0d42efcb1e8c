//! Enrolment codes and device sessions in the database.

use chrono::Duration;
use relay_protocol::{DeviceSession, EnrolResponse, Enrolment, Org, SessionTokens};
use sqlx::AnyConnection;

use crate::db::rows::{OrgRow, PersonRow};
use crate::db::{new_id, now_ms, to_time, Db};
use crate::error::ApiError;
use crate::state::AppState;

pub use super::settings::TokenLifetimes;
use super::{
    hash_secret, new_enrolment_code, new_refresh_family, new_refresh_token, new_token,
    normalise_code, refresh_family, seal, unseal, Invalidation, TokenKind,
};

pub const DEFAULT_ENROLMENT_HOURS: u32 = 7 * 24;
pub const MAX_ENROLMENT_HOURS: u32 = 30 * 24;

/// Issues a one-time code for a person of `org_id`. Earlier unredeemed codes stay valid.
pub async fn create_enrolment(
    conn: &mut AnyConnection,
    org_id: &str,
    person_id: &str,
    valid_hours: Option<u32>,
    public_url: &str,
) -> Result<Enrolment, ApiError> {
    let hours = valid_hours.unwrap_or(DEFAULT_ENROLMENT_HOURS);
    if hours == 0 || hours > MAX_ENROLMENT_HOURS {
        return Err(ApiError::bad(format!(
            "valid_hours must be between 1 and {MAX_ENROLMENT_HOURS}"
        )));
    }
    let active: Option<i64> =
        sqlx::query_scalar("SELECT active FROM people WHERE id = $1 AND org_id = $2")
            .bind(person_id)
            .bind(org_id)
            .fetch_optional(&mut *conn)
            .await?;
    match active {
        None => return Err(ApiError::NotFound("person")),
        Some(0) => return Err(ApiError::Conflict("this person is deactivated".into())),
        Some(_) => {}
    }
    let code = new_enrolment_code();
    let now = now_ms();
    let expires_at = now + i64::from(hours) * 3_600_000;
    sqlx::query(
        "INSERT INTO enrolments (code_hash, org_id, person_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash_secret(&normalise_code(&code)))
    .bind(org_id)
    .bind(person_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    crate::audit::record(
        conn,
        org_id,
        None,
        "person.enrolment",
        person_id,
        serde_json::json!({ "expires_at": to_time(expires_at) }),
    )
    .await?;
    let link = url::Url::parse_with_params(
        "relay://enrol",
        &[
            ("server", public_url.trim_end_matches('/')),
            ("code", code.as_str()),
        ],
    )
    .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Enrolment {
        person_id: person_id.to_owned(),
        code,
        link: link.into(),
        expires_at: to_time(expires_at),
    })
}

#[derive(sqlx::FromRow)]
struct EnrolmentRow {
    org_id: String,
    person_id: String,
    expires_at: i64,
    redeemed_at: Option<i64>,
}

/// Redeems a code for a new device session. A code works once.
pub async fn redeem(
    db: &Db,
    lifetimes: TokenLifetimes,
    code: &str,
    device_name: &str,
    platform: &str,
) -> Result<EnrolResponse, ApiError> {
    let device_name = device_name.trim();
    let platform = platform.trim();
    if device_name.is_empty() || device_name.chars().count() > 100 {
        return Err(ApiError::bad("device_name must be 1 to 100 characters"));
    }
    if platform.is_empty() || platform.len() > 32 {
        return Err(ApiError::bad("platform must be 1 to 32 characters"));
    }
    let invalid = || ApiError::unauthorized("invalid_code", "this enrolment code is not valid");
    let normalised = normalise_code(code);
    if normalised.len() != 16 {
        return Err(invalid());
    }
    let mut tx = db.begin().await?;
    let row: Option<EnrolmentRow> = sqlx::query_as(
        "SELECT org_id, person_id, expires_at, redeemed_at FROM enrolments WHERE code_hash = $1",
    )
    .bind(hash_secret(&normalised))
    .fetch_optional(&mut *tx)
    .await?;
    let row = row.ok_or_else(invalid)?;
    let now = now_ms();
    if row.redeemed_at.is_some() {
        return Err(ApiError::unauthorized(
            "invalid_code",
            "this enrolment code was already used",
        ));
    }
    if row.expires_at <= now {
        return Err(ApiError::unauthorized(
            "invalid_code",
            "this enrolment code has expired",
        ));
    }
    let person: PersonRow = sqlx::query_as(&format!(
        "SELECT {} FROM people WHERE id = $1",
        PersonRow::COLUMNS
    ))
    .bind(&row.person_id)
    .fetch_one(&mut *tx)
    .await?;
    if person.active == 0 {
        return Err(invalid());
    }
    let org: OrgRow = sqlx::query_as("SELECT id, slug, name FROM orgs WHERE id = $1")
        .bind(&row.org_id)
        .fetch_one(&mut *tx)
        .await?;

    let (device_id, tokens) = insert_session(
        &mut tx,
        lifetimes,
        &row.org_id,
        &row.person_id,
        device_name,
        platform,
    )
    .await?;
    let updated = sqlx::query(
        "UPDATE enrolments SET redeemed_at = $1, device_id = $2 \
         WHERE code_hash = $3 AND redeemed_at IS NULL",
    )
    .bind(now)
    .bind(&device_id)
    .bind(hash_secret(&normalised))
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        // Redeemed concurrently by another request.
        return Err(ApiError::unauthorized(
            "invalid_code",
            "this enrolment code was already used",
        ));
    }
    crate::audit::record(
        &mut tx,
        &row.org_id,
        Some(&row.person_id),
        "session.enrol",
        &device_id,
        serde_json::json!({ "device_name": device_name, "platform": platform }),
    )
    .await?;
    tx.commit().await?;
    Ok(EnrolResponse {
        session: tokens,
        person: person.into_person()?,
        org: Org::from(org),
    })
}

/// A new device session of `person_id` (tokens stored hashed); answers its id and tokens.
pub(crate) async fn insert_session(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    lifetimes: TokenLifetimes,
    org_id: &str,
    person_id: &str,
    device_name: &str,
    platform: &str,
) -> Result<(String, SessionTokens), ApiError> {
    let device_id = new_id();
    let family = new_refresh_family();
    let tokens = issue(lifetimes, &device_id, &family);
    sqlx::query(
        "INSERT INTO sessions (device_id, org_id, person_id, device_name, platform, access_hash, \
         access_expires_at, refresh_hash, refresh_expires_at, created_at, last_seen_at, \
         refresh_family_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)",
    )
    .bind(&device_id)
    .bind(org_id)
    .bind(person_id)
    .bind(device_name)
    .bind(platform)
    .bind(hash_secret(&tokens.access_token))
    .bind(tokens.access_expires_at.timestamp_millis())
    .bind(hash_secret(&tokens.refresh_token))
    .bind(tokens.refresh_expires_at.timestamp_millis())
    .bind(now_ms())
    .bind(hash_secret(&family))
    .execute(&mut **tx)
    .await?;
    Ok((device_id, tokens))
}

fn issue(lifetimes: TokenLifetimes, device_id: &str, family: &str) -> SessionTokens {
    let now = chrono::Utc::now();
    SessionTokens {
        device_id: device_id.to_owned(),
        access_token: new_token(TokenKind::Access),
        access_expires_at: now + lifetimes.access,
        refresh_token: new_refresh_token(family),
        refresh_expires_at: now + lifetimes.refresh,
    }
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    device_id: String,
    org_id: String,
    refresh_hash: String,
    refresh_expires_at: i64,
    prev_refresh_hash: Option<String>,
    prev_rotated_at: Option<i64>,
    prev_successor: Option<String>,
    revoked_at: Option<i64>,
    active: i64,
}

/// What a presented refresh token is to its session.
enum Presented {
    /// The session's current token: rotate it.
    Current,
    /// The token rotated out just now, within the grace window: the pair it was traded for.
    JustRotated(SessionTokens),
    /// Any other token of the session: a copy is in someone else's hands.
    Reused,
}

impl RefreshRow {
    const COLUMNS: &'static str = "s.device_id, s.org_id, s.refresh_hash, s.refresh_expires_at, \
        s.prev_refresh_hash, s.prev_rotated_at, s.prev_successor, s.revoked_at, p.active";

    fn classify(&self, token: &str, hash: &str, grace: Duration) -> Presented {
        if self.refresh_hash == hash {
            return Presented::Current;
        }
        let just_rotated = self.prev_refresh_hash.as_deref() == Some(hash)
            && self
                .prev_rotated_at
                .is_some_and(|at| now_ms() - at <= grace.num_milliseconds());
        let successor = self
            .prev_successor
            .as_deref()
            .filter(|_| just_rotated)
            .and_then(|sealed| unseal(token, sealed))
            .and_then(|plain| serde_json::from_slice::<SessionTokens>(&plain).ok())
            // Only while the pair it was traded for is still the session's current one.
            .filter(|tokens| hash_secret(&tokens.refresh_token) == self.refresh_hash);
        match successor {
            Some(tokens) => Presented::JustRotated(tokens),
            None => Presented::Reused,
        }
    }
}

/// Trades a refresh token for a new token pair. Refresh tokens rotate: presenting one that was
/// rotated out (any of the session's, however old) means it leaked, and signs the device out,
/// except for the one rotated out within the grace window, which gets the same new pair again.
pub async fn refresh(state: &AppState, refresh_token: &str) -> Result<SessionTokens, ApiError> {
    // A second attempt only when another request rotated the same token between our read and
    // our write (PostgreSQL; SQLite's single writer serialises them).
    for _ in 0..2 {
        if let Some(tokens) = try_refresh(state, refresh_token.trim()).await? {
            return Ok(tokens);
        }
    }
    Err(ApiError::Conflict(
        "the session is being refreshed by another request: try again".into(),
    ))
}

async fn try_refresh(state: &AppState, token: &str) -> Result<Option<SessionTokens>, ApiError> {
    let db = &state.db;
    let hash = hash_secret(token);
    let mut tx = db.begin().await?;
    let row: Option<RefreshRow> = match refresh_family(token) {
        Some(family) => {
            sqlx::query_as(&format!(
                "SELECT {} FROM sessions s JOIN people p ON p.id = s.person_id \
                 WHERE s.refresh_family_hash = $1",
                RefreshRow::COLUMNS
            ))
            .bind(hash_secret(family))
            .fetch_optional(&mut *tx)
            .await?
        }
        // Issued before families existed: only the current and the previous are known.
        None => {
            sqlx::query_as(&format!(
                "SELECT {} FROM sessions s JOIN people p ON p.id = s.person_id \
                 WHERE s.refresh_family_hash IS NULL \
                 AND (s.refresh_hash = $1 OR s.prev_refresh_hash = $1)",
                RefreshRow::COLUMNS
            ))
            .bind(&hash)
            .fetch_optional(&mut *tx)
            .await?
        }
    };
    let Some(row) = row else {
        return Err(ApiError::unauthorized(
            "invalid_token",
            "unknown refresh token",
        ));
    };
    state.attempts.attempt_on(&row.org_id)?;
    if row.revoked_at.is_some() || row.active == 0 {
        return Err(ApiError::unauthorized(
            "session_revoked",
            "this device was signed out",
        ));
    }
    let grace = state.config.tokens.refresh_grace;
    match row.classify(token, &hash, grace) {
        Presented::JustRotated(tokens) => return Ok(Some(tokens)),
        Presented::Reused => {
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE device_id = $2")
                .bind(now_ms())
                .bind(&row.device_id)
                .execute(&mut *tx)
                .await?;
            let stale = Invalidation::Device(row.device_id.clone());
            stale.announce(&mut tx, db.backend).await?;
            tx.commit().await?;
            state.sessions.invalidate(&stale);
            tracing::warn!(
                device_id = row.device_id,
                "a rotated refresh token was reused; session revoked"
            );
            return Err(ApiError::unauthorized(
                "session_revoked",
                "this refresh token was already used; the device was signed out for safety",
            ));
        }
        Presented::Current => {}
    }
    if row.refresh_expires_at <= now_ms() {
        return Err(ApiError::unauthorized(
            "session_expired",
            "the session expired: enrol again",
        ));
    }
    // A session from before families existed joins one now.
    let family = refresh_family(token)
        .map(str::to_owned)
        .unwrap_or_else(new_refresh_family);
    let tokens = issue(state.config.tokens, &row.device_id, &family);
    let sealed = seal(token, &serde_json::to_vec(&tokens)?);
    let now = now_ms();
    let updated = sqlx::query(
        "UPDATE sessions SET access_hash = $1, access_expires_at = $2, refresh_hash = $3, \
         refresh_expires_at = $4, prev_refresh_hash = $5, prev_rotated_at = $6, \
         prev_successor = $7, refresh_family_hash = $8, last_seen_at = $6 \
         WHERE device_id = $9 AND refresh_hash = $5",
    )
    .bind(hash_secret(&tokens.access_token))
    .bind(tokens.access_expires_at.timestamp_millis())
    .bind(hash_secret(&tokens.refresh_token))
    .bind(tokens.refresh_expires_at.timestamp_millis())
    .bind(&hash)
    .bind(now)
    .bind(&sealed)
    .bind(hash_secret(&family))
    .bind(&row.device_id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        // Rotated by a concurrent request: look again (it is now the just-rotated token).
        return Ok(None);
    }
    // The previous access token stops working everywhere.
    let stale = Invalidation::Device(row.device_id.clone());
    stale.announce(&mut tx, db.backend).await?;
    tx.commit().await?;
    state.sessions.invalidate(&stale);
    Ok(Some(tokens))
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    device_id: String,
    person_id: String,
    device_name: String,
    platform: String,
    created_at: i64,
    last_seen_at: i64,
    revoked_at: Option<i64>,
}

/// Sessions of one person (or of the whole organisation when `person_id` is `None`).
pub async fn list_sessions(
    db: &Db,
    org_id: &str,
    person_id: Option<&str>,
    current_device: &str,
) -> Result<Vec<DeviceSession>, ApiError> {
    let rows: Vec<SessionRow> = sqlx::query_as(
        "SELECT device_id, person_id, device_name, platform, created_at, last_seen_at, revoked_at \
         FROM sessions WHERE org_id = $1 AND ($2 IS NULL OR person_id = $2) \
         ORDER BY created_at DESC LIMIT 1000",
    )
    .bind(org_id)
    .bind(person_id)
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DeviceSession {
            current: r.device_id == current_device,
            device_id: r.device_id,
            person_id: r.person_id,
            device_name: r.device_name,
            platform: r.platform,
            created_at: to_time(r.created_at),
            last_seen_at: to_time(r.last_seen_at),
            revoked_at: r.revoked_at.map(to_time),
        })
        .collect())
}

/// Revokes one device session of the organisation; `owner` restricts it to one person's.
/// Returns whether a session was found. Revoking twice is not an error.
pub async fn revoke(
    state: &AppState,
    org_id: &str,
    device_id: &str,
    owner: Option<&str>,
    actor: Option<&str>,
) -> Result<bool, ApiError> {
    let mut tx = state.db.begin().await?;
    let found: Option<String> = sqlx::query_scalar(
        "SELECT person_id FROM sessions WHERE device_id = $1 AND org_id = $2 AND ($3 IS NULL OR person_id = $3)",
    )
    .bind(device_id)
    .bind(org_id)
    .bind(owner)
    .fetch_optional(&mut *tx)
    .await?;
    if found.is_none() {
        return Ok(false);
    }
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE device_id = $2 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(device_id)
        .execute(&mut *tx)
        .await?;
    crate::audit::record(
        &mut tx,
        org_id,
        actor,
        "session.revoke",
        device_id,
        serde_json::json!({}),
    )
    .await?;
    let stale = Invalidation::Device(device_id.to_owned());
    stale.announce(&mut tx, state.db.backend).await?;
    tx.commit().await?;
    state.sessions.invalidate(&stale);
    Ok(true)
}
