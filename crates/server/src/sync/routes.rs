//! `GET /v1/sync`: a page of the change feed for the caller's audience.

use axum::extract::State;
use relay_protocol::{
    Change, ContentState, Problem, RemovalCause, SyncPage, SYNC_DEFAULT_LIMIT, SYNC_MAX_LIMIT,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{store, Cursor};
use crate::auth::Caller;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SyncQuery {
    /// The cursor of the previous page; absent for a first sync.
    pub cursor: Option<String>,
    /// Changes per page (default 500, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// The changes after `cursor` that concern the caller. See [`SyncPage`].
#[utoipa::path(get, path = "/v1/sync", tag = "sync", params(SyncQuery),
    responses((status = 200, body = SyncPage), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SyncQuery>,
) -> ApiResult<Json<SyncPage>> {
    let limit = crate::paging::limit(q.limit, SYNC_DEFAULT_LIMIT, SYNC_MAX_LIMIT)?;
    let head = caller.org_version;
    let (cursor, reset) = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => (Cursor::start(caller.audience_epoch), false),
        Some(raw) => {
            let cursor =
                Cursor::parse(raw).ok_or_else(|| ApiError::bad("the cursor is malformed"))?;
            // Tombstones up to `purged_below` may be gone: a cursor that had not passed them
            // all (a version before it, or part-way through it) starts over. A first sync's
            // cursor (version 0) never needed any.
            let purged = caller.org_purged_below;
            let servable = cursor.epoch == caller.audience_epoch
                && cursor.version <= head
                && (cursor.version > purged
                    || (cursor.version == purged && cursor.after_id.is_none())
                    || cursor.version == 0);
            if servable {
                (cursor, false)
            } else {
                (Cursor::start(caller.audience_epoch), true)
            }
        }
    };

    state.metrics.sync_pages.with(&[]).inc();
    // Nothing new: answered from the authentication lookup alone.
    if cursor.version == head && cursor.after_id.is_none() && !reset {
        return Ok(Json(SyncPage {
            reset: false,
            changes: vec![],
            cursor: cursor.encode(),
            has_more: false,
            remaining: None,
            channels: None,
        }));
    }

    let from_scratch = cursor.version == 0 && cursor.after_id.is_none();
    let quiet_upto = if from_scratch {
        head
    } else {
        cursor.quiet_upto
    };
    let mut rows = store::page(&state.db, &caller.org_id, head, &cursor, limit + 1).await?;
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);

    let next = match rows.last() {
        Some(last) if has_more => Cursor {
            epoch: caller.audience_epoch,
            version: last.version,
            after_id: Some(last.id.clone()),
            quiet_upto,
        },
        _ => Cursor {
            epoch: caller.audience_epoch,
            version: head,
            after_id: None,
            quiet_upto: 0,
        },
    };

    let now = now_ms();
    let mut changes = Vec::with_capacity(rows.len());
    for row in &rows {
        let visible = row.live != 0
            && row
                .audience()?
                .includes(&caller.country, &caller.language, &caller.department);
        if visible {
            changes.push(Change::Upsert {
                item: row.to_item()?,
            });
        } else if row.version > quiet_upto {
            let (cause, reason) = if row.state()? == ContentState::Retracted {
                (
                    RemovalCause::Retracted,
                    row.retracted_reason.clone().filter(|r| !r.is_empty()),
                )
            } else if row.live == 0 && row.expires_at.is_some_and(|e| e <= now) {
                (RemovalCause::Expired, None)
            } else {
                (RemovalCause::NotInAudience, None)
            };
            changes.push(Change::Delete {
                id: row.id.clone(),
                version: row.version,
                cause,
                reason,
            });
        }
    }

    // For a progress bar: feed entries still to come.
    let remaining = if has_more {
        Some(store::remaining(&state.db, &caller.org_id, head, &next).await?)
    } else {
        None
    };

    let channels = if from_scratch
        || store::channels_changed(&state.db, &caller.org_id, cursor.version).await?
    {
        Some(crate::channels::list_all(&state.db, &caller.org_id).await?)
    } else {
        None
    };

    state
        .metrics
        .sync_changes
        .with(&[])
        .add(changes.len() as u64);
    Ok(Json(SyncPage {
        reset,
        changes,
        cursor: next.encode(),
        has_more,
        remaining,
        channels,
    }))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync))
        .merge(super::events::routes::router())
}
