//! The publication clock: approved content goes live at its publish time and leaves the feed
//! at its expiry. Neither is a write by anyone, so a background task turns each into one (a
//! feed version) for devices to receive. Safe with several server instances: each transition
//! re-checks its condition inside the organisation's serialised feed transaction.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use relay_protocol::ContentState;

use crate::db::now_ms;
use crate::error::ApiError;
use crate::state::AppState;
use crate::sync::version::FeedTx;

/// How often old tombstones, and closed months still holding erased people's groups, are
/// looked for.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Runs [`tick`] every `interval` (and the tombstone purge and the keeping of closed months
/// every hour) until the server stops.
pub fn spawn(state: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut known_versions = HashMap::new();
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stop = state.shutdown.signalled();
        tokio::pin!(stop);
        let mut last_purge: Option<std::time::Instant> = None;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = &mut stop => return,
            }
            if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                last_purge = Some(std::time::Instant::now());
                let age = state.config.tombstone_max_age;
                if let Err(err) = super::purge::purge_tombstones(&state, age).await {
                    tracing::warn!(error = %err, "purging tombstones failed");
                }
                // Erased people's groups in a month last until its figures are kept.
                if let Err(err) = crate::analytics::publication::keep_closed(&state).await {
                    tracing::warn!(error = %err, "keeping closed months' figures failed");
                }
            }
            if let Err(err) = tick(&state).await {
                tracing::warn!(error = %err, "publication clock tick failed");
            }
            if let Err(err) = announce_outside_writes(&state, &mut known_versions).await {
                tracing::warn!(error = %err, "reading feed versions failed");
            }
        }
    })
}

/// Applies every publish and expiry that is due. Returns how many items changed.
pub async fn tick(state: &AppState) -> Result<usize, ApiError> {
    let now = now_ms();
    let due: Vec<(String, String)> = sqlx::query_as(
        "SELECT org_id, id FROM items WHERE state = $1 AND live = 0 AND published_at <= $2 \
           AND (expires_at IS NULL OR expires_at > $2) \
         UNION ALL \
         SELECT org_id, id FROM items WHERE live = 1 AND expires_at IS NOT NULL AND expires_at <= $2",
    )
    .bind(ContentState::Approved.as_str())
    .bind(now)
    .fetch_all(&state.db.read)
    .await?;
    let mut by_org: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (org, id) in due {
        by_org.entry(org).or_default().push(id);
    }
    let mut changed = 0;
    for (org_id, ids) in by_org {
        let mut ftx = FeedTx::begin(&state.db, &org_id).await?;
        for id in ids {
            let done = sqlx::query(
                "UPDATE items SET live = CASE WHEN expires_at IS NULL OR expires_at > $1 THEN 1 ELSE 0 END, \
                   ever_live = 1, updated_at = $1, version = $2 \
                 WHERE id = $3 AND state = $4 AND published_at <= $1 AND \
                   live <> CASE WHEN expires_at IS NULL OR expires_at > $1 THEN 1 ELSE 0 END",
            )
            .bind(now)
            .bind(ftx.version)
            .bind(&id)
            .bind(ContentState::Approved.as_str())
            .execute(&mut *ftx.tx)
            .await?;
            changed += done.rows_affected() as usize;
        }
        ftx.commit(&state.events).await?;
    }
    Ok(changed)
}

/// Tells connected devices about versions committed by another process on the same database
/// file (the `relay-server content ...` commands while a SQLite server runs). PostgreSQL
/// deployments get these through NOTIFY; this is a cheap safety net for both.
async fn announce_outside_writes(
    state: &AppState,
    known: &mut HashMap<String, i64>,
) -> Result<(), ApiError> {
    let versions: Vec<(String, i64)> = sqlx::query_as("SELECT id, version FROM orgs")
        .fetch_all(&state.db.read)
        .await?;
    for (org_id, version) in versions {
        let previous = known.insert(org_id.clone(), version);
        if previous.is_none_or(|p| p < version) {
            state.events.publish(&org_id, version);
        }
    }
    Ok(())
}
