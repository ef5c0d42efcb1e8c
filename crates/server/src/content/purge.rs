//! Tombstone purging. An item that left the feed (retracted, expired) stays in it as a tombstone
//! so that devices remove it from their cache; once a tombstone is older than the configured age,
//! it stops being fed, and the organisation's `purged_below` rises past it: a device whose
//! cursor is older than that may have missed a tombstone, so its next sync answers "reset" and
//! it rebuilds its cache from the current feed (its outbox stays). Curators keep the item.

use chrono::Duration;

use crate::auth::Invalidation;
use crate::db::now_ms;
use crate::error::ApiError;
use crate::state::AppState;

/// Stops feeding the tombstones last changed more than `older_than` ago. Answers how many.
pub async fn purge_tombstones(state: &AppState, older_than: Duration) -> Result<u64, ApiError> {
    let cutoff = now_ms() - older_than.num_milliseconds();
    let orgs: Vec<(String, i64)> = sqlx::query_as(
        "SELECT org_id, MAX(version) FROM items WHERE live = 0 AND ever_live = 1 \
         AND updated_at < $1 GROUP BY org_id",
    )
    .bind(cutoff)
    .fetch_all(&state.db.read)
    .await?;
    let mut purged = 0;
    for (org_id, newest) in orgs {
        let mut tx = state.db.begin().await?;
        purged += sqlx::query(
            "UPDATE items SET ever_live = 0 WHERE org_id = $1 AND live = 0 AND ever_live = 1 \
             AND version <= $2 AND updated_at < $3",
        )
        .bind(&org_id)
        .bind(newest)
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // `purged_below`: the newest version whose tombstones may be gone (see `sync`).
        sqlx::query("UPDATE orgs SET purged_below = $2 WHERE id = $1 AND purged_below < $2")
            .bind(&org_id)
            .bind(newest)
            .execute(&mut *tx)
            .await?;
        // Cached sessions carry the organisation's `purged_below`.
        Invalidation::All
            .announce(&mut tx, state.db.backend)
            .await?;
        tx.commit().await?;
        state.sessions.invalidate(&Invalidation::All);
    }
    if purged > 0 {
        tracing::info!(purged, "tombstones purged");
    }
    Ok(purged)
}
