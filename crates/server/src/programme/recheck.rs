//! Share-then-delete does not pay. The server re-reads the posts it confirmed before their month
//! closes (`shares::confirm`); for attested posts, which only the person's device can read (X,
//! with its tokens that never leave it), the device re-checks and withdraws the record of a
//! deleted one. Either way the record's points, clicks included, leave the ledger.

use axum::extract::{Path, State};
use relay_protocol::{Problem, RecheckItem, ShareRecord};

use super::calendar::Month;
use super::ledger::{self, Movement};
use crate::auth::Caller;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, Json};
use crate::state::AppState;

#[derive(sqlx::FromRow)]
struct RecheckRow {
    share_id: String,
    network: String,
    post_id: Option<String>,
    post_url: Option<String>,
    month: String,
}

/// The caller's device's attested records of months not closed yet, to check.
#[utoipa::path(get, path = "/v1/programme/recheck", tag = "programme",
    responses((status = 200, body = Vec<RecheckItem>)), security(("bearer" = [])))]
pub async fn to_recheck(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<RecheckItem>>> {
    let mut conn = state.db.read.acquire().await?;
    let calendar =
        super::calendar::calendar_of(&mut conn, state.config.month_grace, &caller.org_id).await?;
    let now = chrono::Utc::now();
    let current = calendar.month_of(now);
    // The current month, and the previous one while it is in its grace.
    let previous = calendar.month_of(calendar.starts_at(current) - chrono::Duration::days(1));
    let mut months = vec![current.to_string()];
    if !calendar.is_closed(previous, now) {
        months.push(previous.to_string());
    }
    let mut items = Vec::new();
    for month in months {
        let rows: Vec<RecheckRow> = sqlx::query_as(
            "SELECT share_id, network, post_id, post_url, month FROM shares \
             WHERE device_id = $1 AND month = $2 AND status = 'attested' AND withdrawn_at IS NULL \
             ORDER BY shared_at LIMIT 1000",
        )
        .bind(&caller.device_id)
        .bind(&month)
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            items.push(RecheckItem {
                network: r
                    .network
                    .parse()
                    .map_err(|e: relay_protocol::UnknownVariant| ApiError::Internal(e.into()))?,
                share_id: r.share_id,
                post_id: r.post_id,
                post_url: r.post_url,
                month: r.month,
            });
        }
    }
    Ok(Json(items))
}

/// Withdraws a standing share (by its row id) under its person's lock: its points, clicks
/// included, leave the ledger. `reason` is shown with it.
pub async fn withdraw_in(
    conn: &mut sqlx::AnyConnection,
    org_id: &str,
    id: &str,
    member: &super::ledger::Member,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    let share: Withdrawn = sqlx::query_as(
        "SELECT id, person_id, item_id, counts_as, month, scored, points, clicks, withdrawn_at \
         FROM shares WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    if share.withdrawn_at.is_some() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE shares SET withdrawn_at = $1, check_after = NULL, \
         status_reason = COALESCE($2, status_reason) WHERE id = $3",
    )
    .bind(now_ms())
    .bind(reason)
    .bind(&share.id)
    .execute(&mut *conn)
    .await?;
    if share.scored == 1 {
        let month = Month::parse(&share.month)?;
        let internal = |e: relay_protocol::UnknownVariant| ApiError::Internal(e.into());
        // Counted as it was when scored.
        let proof: relay_protocol::ShareProof = share
            .counts_as
            .as_deref()
            .unwrap_or("declared")
            .parse()
            .map_err(internal)?;
        let gained = Movement::share(proof, share.points);
        let entry = ledger::Entry {
            org_id,
            person_id: &share.person_id,
            member,
            item_id: &share.item_id,
            share_id: &share.id,
            month,
            reason: "withdrawn",
        };
        let reversed = Movement {
            points: -share.points,
            verified: -gained.verified,
            declared: -gained.declared,
            clicks: -share.clicks,
        };
        ledger::write(conn, entry, reversed).await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Withdrawn {
    id: String,
    person_id: String,
    item_id: String,
    counts_as: Option<String>,
    month: String,
    scored: i64,
    points: i64,
    clicks: i64,
    withdrawn_at: Option<i64>,
}

/// Withdraws one of the device's records: its post was deleted. Its points (clicks included)
/// leave the ledger. Until its month closes; again is the same answer.
#[utoipa::path(post, path = "/v1/shares/{share_id}/withdraw", tag = "shares",
    params(("share_id" = String, Path, description = "The device's share id")),
    responses((status = 200, body = ShareRecord), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path(share_id): Path<String>,
) -> ApiResult<Json<ShareRecord>> {
    let mut tx = state.db.begin().await?;
    let member = ledger::lock_person(&mut tx, &caller.person_id).await?;
    let share: Option<Withdrawn> = sqlx::query_as(
        "SELECT id, person_id, item_id, counts_as, month, scored, points, clicks, withdrawn_at \
         FROM shares WHERE device_id = $1 AND share_id = $2",
    )
    .bind(&caller.device_id)
    .bind(&share_id)
    .fetch_optional(&mut *tx)
    .await?;
    let share = share.ok_or(ApiError::NotFound("share"))?;
    if share.withdrawn_at.is_none() {
        let calendar =
            super::calendar::calendar_of(&mut tx, state.config.month_grace, &caller.org_id).await?;
        let month = Month::parse(&share.month)?;
        if calendar.is_closed(month, chrono::Utc::now()) {
            return Err(ApiError::MonthClosed {
                month_name: month.name(),
                closed_at: calendar.closes_at(month),
            });
        }
        withdraw_in(&mut tx, &caller.org_id, &share.id, &member, None).await?;
    }
    let record = crate::shares::find_record(&mut tx, &caller.device_id, &share_id)
        .await?
        .ok_or(ApiError::NotFound("share"))?;
    tx.commit().await?;
    state.events.programme_moved(&caller.org_id);
    Ok(Json(record))
}
