//! Share records: which person shared which item where. Keyed by `(device_id, share_id)`, so a
//! device that retries after a lost answer records the share once.

use axum::extract::State;
use axum::http::StatusCode;
use relay_protocol::{Network, NewShareRecord, Problem, ShareRecord};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::content::sanitize;
use crate::db::{new_id, now_ms, to_time};
use crate::error::{ApiError, ApiResult, Json};

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
}

const SHARE_COLUMNS: &str =
    "id, device_id, share_id, person_id, item_id, network, shared_at, post_url, recorded_at";

impl ShareRow {
    fn into_record(self) -> Result<ShareRecord, ApiError> {
        let network: Network = self
            .network
            .parse()
            .map_err(|e: relay_protocol::UnknownVariant| ApiError::Internal(e.into()))?;
        Ok(ShareRecord {
            id: self.id,
            device_id: self.device_id,
            share_id: self.share_id,
            person_id: self.person_id,
            item_id: self.item_id,
            network,
            shared_at: to_time(self.shared_at),
            post_url: self.post_url,
            recorded_at: to_time(self.recorded_at),
        })
    }
}

/// Records a share. `201` the first time, `200` with the same record for a repeat; `409` when
/// the device reuses a share id for a different share.
#[utoipa::path(post, path = "/v1/shares", tag = "shares", request_body = NewShareRecord,
    responses((status = 201, body = ShareRecord), (status = 200, body = ShareRecord),
              (status = 400, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewShareRecord>,
) -> ApiResult<(StatusCode, Json<ShareRecord>)> {
    let share_id = new.share_id.trim();
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
    let post_url = new
        .post_url
        .as_deref()
        .map(|u| sanitize::web_url("post_url", u))
        .transpose()?;
    let now = now_ms();
    let shared_at = new.shared_at.timestamp_millis();
    if shared_at > now + 10 * 60 * 1000 {
        return Err(ApiError::bad("shared_at is in the future"));
    }
    // Shares of content retracted since are still recorded: the post went out while it was live.
    let item: Option<String> =
        sqlx::query_scalar("SELECT id FROM items WHERE id = $1 AND org_id = $2 AND ever_live = 1")
            .bind(&new.item_id)
            .bind(&caller.org_id)
            .fetch_optional(&state.db.read)
            .await?;
    if item.is_none() {
        return Err(ApiError::bad(
            "item_id names no published item of this organisation",
        ));
    }
    let inserted = sqlx::query(
        "INSERT INTO shares (id, org_id, device_id, share_id, person_id, item_id, network, shared_at, post_url, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (device_id, share_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(&caller.org_id)
    .bind(&caller.device_id)
    .bind(share_id)
    .bind(&caller.person_id)
    .bind(&new.item_id)
    .bind(new.network.as_str())
    .bind(shared_at)
    .bind(&post_url)
    .bind(now)
    .execute(&state.db.write)
    .await?;
    let row: ShareRow = sqlx::query_as(&format!(
        "SELECT {SHARE_COLUMNS} FROM shares WHERE device_id = $1 AND share_id = $2"
    ))
    .bind(&caller.device_id)
    .bind(share_id)
    .fetch_one(&state.db.write)
    .await?;
    if row.item_id != new.item_id || row.network != new.network.as_str() {
        return Err(ApiError::Conflict(
            "this share_id was already used for another share".into(),
        ));
    }
    let status = if inserted.rows_affected() == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(row.into_record()?)))
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
