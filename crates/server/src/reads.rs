//! Read reports: devices report the items opened on each past day, once a day. Reading is never
//! scored and never logged per person: the server adds to each item's daily count and notes
//! that the person consulted something that month (the organisation's consult rate).

use axum::extract::State;
use chrono::NaiveDate;
use relay_protocol::{Problem, ReadReport, ReadsCounted};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, Json};
use crate::state::AppState;

/// How long the per-device "this day was reported" marks are kept.
const BATCH_DAYS: i64 = 7;

/// Counts one device's reads of one past day. A repeated report changes nothing.
#[utoipa::path(post, path = "/v1/reads", tag = "programme", request_body = ReadReport,
    responses((status = 200, body = ReadsCounted), (status = 400, body = Problem)),
    security(("bearer" = [])))]
async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Json(report): Json<ReadReport>,
) -> ApiResult<Json<ReadsCounted>> {
    let day = NaiveDate::parse_from_str(&report.day, "%Y-%m-%d")
        .ok()
        .filter(|d| d.format("%Y-%m-%d").to_string() == report.day)
        .ok_or_else(|| ApiError::bad("day is a date, YYYY-MM-DD"))?;
    let today = chrono::Utc::now().date_naive();
    if day >= today || day < today - chrono::Duration::days(60) {
        return Err(ApiError::bad(
            "day is a past day (UTC) of the last 60: today is reported tomorrow",
        ));
    }
    if report.items.len() > 1000 || report.items.iter().any(|i| i.is_empty() || i.len() > 64) {
        return Err(ApiError::bad("items are at most 1,000 item ids"));
    }
    let mut items = report.items.clone();
    items.sort();
    items.dedup();
    let mut tx = state.db.begin().await?;
    let fresh = sqlx::query(
        "INSERT INTO read_batches (device_id, day, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(&caller.device_id)
    .bind(&report.day)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !fresh {
        return Ok(Json(ReadsCounted {
            counted: 0,
            repeated: true,
        }));
    }
    let mut counted = 0;
    for item in &items {
        // Only items this person was offered count (an unknown id is skipped, not an error:
        // an item may have been purged since).
        if crate::content::offered(&mut tx, &caller, item)
            .await
            .is_err()
        {
            continue;
        }
        sqlx::query(
            "INSERT INTO item_reads (org_id, item_id, day, reads) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (item_id, day) DO UPDATE SET reads = item_reads.reads + 1",
        )
        .bind(&caller.org_id)
        .bind(item)
        .bind(&report.day)
        .execute(&mut *tx)
        .await?;
        counted += 1;
    }
    if counted > 0 {
        sqlx::query(
            "INSERT INTO consults (org_id, person_id, month) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(&caller.org_id)
        .bind(&caller.person_id)
        .bind(day.format("%Y-%m").to_string())
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DELETE FROM read_batches WHERE at < $1")
        .bind(now_ms() - BATCH_DAYS * 24 * 3600 * 1000)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Json(ReadsCounted {
        counted,
        repeated: false,
    }))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report))
}
