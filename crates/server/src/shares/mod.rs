//! Share records: which person shared which item where. Keyed by `(device_id, share_id)`, so a
//! device that retries after a lost answer records the share once; a post is recorded once per
//! organisation. A record is scored by the programme's ledger in its own transaction; records
//! that cannot be true are refused. What the device says is not taken for proof: a Bluesky or
//! Mastodon post waits (pending) until the server has read it itself (`confirm/`); an X or
//! LinkedIn post, which the server cannot read, is the device's word (attested).

use axum::extract::State;
use axum::http::StatusCode;
use relay_protocol::{
    Network, NewShareRecord, PointsRules, Problem, ShareProof, ShareRecord, ShareStatus,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::content::sanitize;
use crate::db::{now_ms, to_time};
use crate::error::{ApiError, ApiResult, Json};
use crate::programme::calendar::{Calendar, Month};
use crate::state::AppState;

pub mod confirm;
pub mod posts;
pub mod recorder;

#[derive(sqlx::FromRow)]
struct ShareRow {
    id: String,
    device_id: String,
    share_id: String,
    person_id: String,
    item_id: String,
    network: String,
    shared_at: i64,
    post_url: Option<String>,
    recorded_at: i64,
    proof: String,
    month: String,
    points: i64,
    unscored: Option<String>,
    withdrawn_at: Option<i64>,
    status: String,
    status_reason: Option<String>,
}

const SHARE_COLUMNS: &str = "id, device_id, share_id, person_id, item_id, network, shared_at, \
     post_url, recorded_at, proof, month, points, unscored, withdrawn_at, status, status_reason";

fn internal(e: relay_protocol::UnknownVariant) -> ApiError {
    ApiError::Internal(e.into())
}

impl ShareRow {
    fn into_record(self) -> Result<ShareRecord, ApiError> {
        Ok(ShareRecord {
            network: self.network.parse().map_err(internal)?,
            proof: self.proof.parse().map_err(internal)?,
            id: self.id,
            device_id: self.device_id,
            share_id: self.share_id,
            person_id: self.person_id,
            item_id: self.item_id,
            shared_at: to_time(self.shared_at),
            post_url: self.post_url,
            recorded_at: to_time(self.recorded_at),
            month: self.month,
            points: self.points,
            unscored: self.unscored,
            withdrawn_at: self.withdrawn_at.map(to_time),
            status: self.status.parse().map_err(internal)?,
            status_reason: self.status_reason,
        })
    }
}

/// How far ahead of the server's clock a device's `shared_at` may be, and how long before an
/// item's publication (clocks drift).
const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// More followers than any account has: a forged reach.
const MAX_FOLLOWERS: u64 = 10_000_000_000;

/// What the checks that need no database make of a record.
pub struct Shape {
    /// The post's address, sanitised.
    pub post_url: Option<String>,
    /// The post's identity, once per organisation (verified shares).
    pub post_key: Option<String>,
    /// Where the share starts: pending, attested or declared.
    pub status: ShareStatus,
}

/// The checks that need no database: the share id, the proof, the post's identity and address.
fn check_shape(new: &NewShareRecord) -> Result<Shape, ApiError> {
    let share_id = &new.share_id;
    if share_id.is_empty()
        || share_id.len() > 64
        || !share_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ApiError::bad(
            "share_id must be 1 to 64 letters, digits or dashes",
        ));
    }
    for (name, value, max) in [
        ("post_id", &new.post_id, 512),
        ("account_host", &new.account_host, 253),
        ("link_code", &new.link_code, 64),
    ] {
        if value
            .as_ref()
            .is_some_and(|v| v.is_empty() || v.len() > max)
        {
            return Err(ApiError::bad(format!("{name} must be 1 to {max} bytes")));
        }
    }
    if new.followers.is_some_and(|n| n > MAX_FOLLOWERS) {
        return Err(ApiError::bad(format!(
            "followers must be at most {MAX_FOLLOWERS}"
        )));
    }
    if new.followers.is_some() && new.proof == ShareProof::Declared {
        return Err(ApiError::bad(
            "a declared share has no account, so no followers to report",
        ));
    }
    if new.followers.is_some() && new.network == Network::Linkedin {
        return Err(ApiError::bad(
            "LinkedIn follower counts are never used: send none",
        ));
    }
    let post_url = new
        .post_url
        .as_deref()
        .map(|u| sanitize::web_url("post_url", u))
        .transpose()?;
    if let Some(url) = &post_url {
        if !new.network.owns_post_url(url, new.account_host.as_deref()) {
            return Err(ApiError::bad(format!(
                "post_url is not a {} address{}",
                new.network,
                if new.network == Network::Mastodon {
                    " on the account's server (account_host)"
                } else {
                    ""
                }
            )));
        }
    }
    let has_post = post_url.is_some() || new.post_id.is_some();
    match new.proof {
        ShareProof::Verified if !has_post => Err(ApiError::bad(
            "a verified share names its post (post_id or post_url)",
        )),
        ShareProof::Declared if has_post => Err(ApiError::bad(
            "a declared share has no post: with post_id or post_url it is verified",
        )),
        ShareProof::Declared => Ok(Shape {
            post_url,
            post_key: None,
            status: ShareStatus::Declared,
        }),
        ShareProof::Verified => {
            let post_key = posts::key(
                new.network,
                new.post_id.as_deref(),
                post_url.as_deref(),
                new.account_host.as_deref(),
            )
            .map_err(ApiError::bad)?;
            let status = match new.network {
                // Posts anyone may read: the server reads them before they count.
                Network::Bluesky | Network::Mastodon => ShareStatus::Pending,
                Network::X | Network::Linkedin | Network::Facebook => ShareStatus::Attested,
            };
            Ok(Shape {
                post_url,
                post_key: Some(post_key),
                status,
            })
        }
    }
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    person_id: String,
    item_id: String,
    network: String,
}

/// Records a share and scores it in the same transaction. `201` the first time, `200` with the
/// same record for a repeat; `409` when the device reuses a share id for a different share, or
/// the post was recorded already (by anyone in the organisation);
/// `422 month_closed` when the share's month has closed.
#[utoipa::path(post, path = "/v1/shares", tag = "shares", request_body = NewShareRecord,
    responses((status = 201, body = ShareRecord), (status = 200, body = ShareRecord),
              (status = 400, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewShareRecord>,
) -> ApiResult<(StatusCode, Json<ShareRecord>)> {
    let answer = record_share(&state, caller, new).await;
    let outcome = match &answer {
        Ok((StatusCode::CREATED, record)) if record.0.points > 0 => "scored",
        Ok((StatusCode::CREATED, _)) => "unscored",
        Ok(_) => "repeat",
        Err(_) => "refused",
    };
    state.metrics.share_records.with(&[outcome]).inc();
    answer
}

async fn record_share(
    state: &AppState,
    caller: Caller,
    new: NewShareRecord,
) -> ApiResult<(StatusCode, Json<ShareRecord>)> {
    let shape = check_shape(&new)?;
    // What needs no lock is read from the read pool: on SQLite the single writer then spends
    // its time on the writes alone.
    let mut read = state.db.read.acquire().await?;
    let checked = check_truth(state, &mut read, &caller, &new).await;
    let (calendar, month, rules, offered) = match checked {
        Ok(checked) => checked,
        // A record repeated after its month closed (or its item changed) is still the record
        // the device made: the same answer, not a refusal.
        Err(refused) => {
            return match find_record(&mut read, &caller.device_id, &new.share_id).await? {
                Some(existing) => repeat(existing, &new),
                None => Err(refused),
            }
        }
    };
    drop(read);
    let now = now_ms();
    let shared_at = new.shared_at.timestamp_millis();
    // Shares of an item already retracted or expired do not score; nothing to read either.
    let (status, retracted) = if offered {
        (shape.status, None)
    } else {
        (
            ShareStatus::Rejected,
            Some("the item was retracted or had expired before this share"),
        )
    };
    let prepared = recorder::Prepared {
        org_id: caller.org_id.clone(),
        person_id: caller.person_id.clone(),
        device_id: caller.device_id.clone(),
        post_url: shape.post_url,
        post_key: shape.post_key,
        status,
        status_reason: retracted,
        shared_at,
        now,
        month,
        // The daily cap counts the day the record arrived: a device's date is its word. A
        // confirmed post's day is its own, read by the server.
        day: calendar.day_of(chrono::Utc::now()),
        rules,
        calendar,
        new,
    };
    let new_ref = prepared.new.clone();
    match state.recorder.record(&state.db, prepared).await? {
        recorder::Outcome::Created(record) => {
            state.events.programme_moved(&caller.org_id);
            Ok((StatusCode::CREATED, Json(record)))
        }
        recorder::Outcome::Exists(row) => repeat(row, &new_ref),
        recorder::Outcome::Refused(refusal) => Err(refusal),
    }
}

/// The checks that need the database but no lock: the item was offered to the caller, the time
/// is possible, the month is open, the link is the caller's. Gives the calendar, the month, its
/// rules, and whether the item was still offered when shared (not retracted, not expired).
async fn check_truth(
    state: &AppState,
    read: &mut sqlx::AnyConnection,
    caller: &Caller,
    new: &NewShareRecord,
) -> Result<(Calendar, Month, PointsRules, bool), ApiError> {
    let item = crate::content::offered(read, caller, &new.item_id).await?;
    let shared_at = new.shared_at.timestamp_millis();
    if shared_at > now_ms() + CLOCK_SKEW_MS {
        return Err(ApiError::bad("shared_at is in the future"));
    }
    if item
        .published_at
        .is_some_and(|p| shared_at < p - CLOCK_SKEW_MS)
    {
        return Err(ApiError::bad("shared_at is before the item was published"));
    }
    let calendar = Calendar::new(&item.time_zone, state.config.month_grace);
    let month = calendar.month_of(new.shared_at);
    if calendar.is_closed(month, chrono::Utc::now()) {
        return Err(ApiError::MonthClosed {
            month_name: month.name(),
            closed_at: calendar.closes_at(month),
        });
    }
    let rules = state
        .rules_cache
        .rules_for(read, &caller.org_id, &calendar, month)
        .await?;
    if let Some(code) = &new.link_code {
        own_link(read, caller, new, code).await?;
    }
    Ok((calendar, month, rules, item.still_offered_at(shared_at)))
}

/// The answer to a share id the device already used: the same record, unless it named another
/// share.
fn repeat(
    existing: ShareRecord,
    new: &NewShareRecord,
) -> ApiResult<(StatusCode, Json<ShareRecord>)> {
    if existing.item_id != new.item_id || existing.network != new.network {
        return Err(ApiError::Conflict(
            "this share_id was already used for another share".into(),
        ));
    }
    Ok((StatusCode::OK, Json(existing)))
}

/// The caller's tracked link `code` for this item and network, or a refusal.
async fn own_link(
    conn: &mut sqlx::AnyConnection,
    caller: &Caller,
    new: &NewShareRecord,
    code: &str,
) -> Result<(), ApiError> {
    let link: Option<LinkRow> = sqlx::query_as(
        "SELECT person_id, item_id, network FROM links WHERE code = $1 AND org_id = $2",
    )
    .bind(code)
    .bind(&caller.org_id)
    .fetch_optional(&mut *conn)
    .await?;
    match link {
        Some(l)
            if l.person_id == caller.person_id
                && l.item_id == new.item_id
                && l.network == new.network.as_str() =>
        {
            Ok(())
        }
        _ => Err(ApiError::bad(
            "link_code is not your tracked link for this item and network",
        )),
    }
}

/// The record of a device's share, as the API shows it.
pub async fn find_record(
    conn: &mut sqlx::AnyConnection,
    device_id: &str,
    share_id: &str,
) -> Result<Option<ShareRecord>, ApiError> {
    find(conn, device_id, share_id)
        .await?
        .map(ShareRow::into_record)
        .transpose()
}

async fn find(
    conn: &mut sqlx::AnyConnection,
    device_id: &str,
    share_id: &str,
) -> Result<Option<ShareRow>, ApiError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SHARE_COLUMNS} FROM shares WHERE device_id = $1 AND share_id = $2"
    ))
    .bind(device_id)
    .bind(share_id)
    .fetch_optional(conn)
    .await?)
}

/// The caller's recorded shares, newest first.
#[utoipa::path(get, path = "/v1/shares", tag = "shares",
    responses((status = 200, body = Vec<ShareRecord>)), security(("bearer" = [])))]
async fn mine(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<ShareRecord>>> {
    let rows: Vec<ShareRow> = sqlx::query_as(&format!(
        "SELECT {SHARE_COLUMNS} FROM shares WHERE org_id = $1 AND person_id = $2 ORDER BY shared_at DESC LIMIT 1000"
    ))
    .bind(&caller.org_id)
    .bind(&caller.person_id)
    .fetch_all(&state.db.read)
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(ShareRow::into_record)
            .collect::<Result<_, _>>()?,
    ))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(record, mine))
}
