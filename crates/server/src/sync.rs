//! The change feed: `GET /v1/sync?cursor=&limit=`.
//!
//! A cursor is `(audience epoch, version, last id)`: the caller has every change up to that
//! point in `(version, id)` order. A page reads the organisation's head first and then only
//! rows at or below it, all of which are committed (see [`crate::feed`]), so no late commit is
//! skipped. Rows that were never live (drafts) are not fed at all.

use axum::extract::State;
use relay_protocol::{
    Change, ContentState, Problem, RemovalCause, SyncPage, SYNC_DEFAULT_LIMIT, SYNC_MAX_LIMIT,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::content::ItemRow;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::state::AppState;

/// Where a device stands in its organisation's feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The person's audience epoch the cache was built for.
    pub epoch: i64,
    pub version: i64,
    /// Set between the pages of one run: the last row sent.
    pub after_id: Option<String>,
    /// In a run that started from nothing: the head at its start. The device cannot hold any
    /// row still at or below it that it was not sent in this run, so such rows need no
    /// tombstone (a first sync sends only what the person may see).
    pub quiet_upto: i64,
}

impl Cursor {
    fn start(epoch: i64) -> Cursor {
        Cursor {
            epoch,
            version: 0,
            after_id: None,
            quiet_upto: 0,
        }
    }

    pub fn encode(&self) -> String {
        match &self.after_id {
            None => format!("c1.{}.{}", self.epoch, self.version),
            Some(id) => format!(
                "c1.{}.{}.{}.{}",
                self.epoch, self.version, self.quiet_upto, id
            ),
        }
    }

    pub fn parse(s: &str) -> Option<Cursor> {
        let mut parts = s.strip_prefix("c1.")?.splitn(3, '.');
        let epoch = parts.next()?.parse().ok()?;
        let version: i64 = parts.next()?.parse().ok()?;
        let (quiet_upto, after_id) = match parts.next() {
            None => (0, None),
            Some(rest) => {
                let (quiet, id) = rest.split_once('.')?;
                if id.is_empty() || id.len() > 64 || id.contains('.') {
                    return None;
                }
                (quiet.parse().ok()?, Some(id.to_owned()))
            }
        };
        if version < 0 || quiet_upto < 0 {
            return None;
        }
        Some(Cursor {
            epoch,
            version,
            after_id,
            quiet_upto,
        })
    }
}

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
    let mut rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "SELECT {} FROM items WHERE org_id = $1 AND ever_live = 1 AND version <= $2 AND {} \
         ORDER BY version, id LIMIT $5",
        ItemRow::COLUMNS,
        after(&cursor),
    ))
    .bind(&caller.org_id)
    .bind(head)
    .bind(cursor.version)
    .bind(cursor.after_id.as_deref().unwrap_or_default())
    .bind(i64::from(limit) + 1)
    .fetch_all(&state.db.read)
    .await?;
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
        let count: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM items WHERE org_id = $1 AND ever_live = 1 AND version <= $2 AND {}",
            after(&next)
        ))
        .bind(&caller.org_id)
        .bind(head)
        .bind(next.version)
        .bind(next.after_id.as_deref().unwrap_or_default())
        .fetch_one(&state.db.read)
        .await?;
        Some(count as u64)
    } else {
        None
    };

    let channels =
        if from_scratch || channels_changed(&state, &caller.org_id, cursor.version).await? {
            Some(crate::channels::list_all(&state.db, &caller.org_id).await?)
        } else {
            None
        };

    Ok(Json(SyncPage {
        reset,
        changes,
        cursor: next.encode(),
        has_more,
        remaining,
        channels,
    }))
}

/// The rows after `cursor` in `(version, id)` order, with the cursor's version as `$3` and its
/// id as `$4`. A cursor without an id has every row of its version already (`$4` is still
/// referenced so that both forms bind the same parameters).
fn after(cursor: &Cursor) -> &'static str {
    if cursor.after_id.is_some() {
        "(version > $3 OR (version = $3 AND id > $4))"
    } else {
        "(version > $3 AND $4 = $4)"
    }
}

async fn channels_changed(state: &AppState, org_id: &str, since: i64) -> Result<bool, ApiError> {
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM channels WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(&state.db.read)
            .await?;
    Ok(newest.is_some_and(|v| v > since))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sync))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        for c in [
            Cursor {
                epoch: 0,
                version: 0,
                after_id: None,
                quiet_upto: 0,
            },
            Cursor {
                epoch: 3,
                version: 1234,
                after_id: Some("0190-abc".into()),
                quiet_upto: 1200,
            },
        ] {
            assert_eq!(Cursor::parse(&c.encode()), Some(c));
        }
        for bad in [
            "",
            "c1.",
            "c1.x.1",
            "c2.0.1",
            "c1.0.-5",
            "2024-01-01T00:00:00Z",
            "c1.0.1.",
            "c1.0.1.5",
            "c1.0.1.x.id",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
