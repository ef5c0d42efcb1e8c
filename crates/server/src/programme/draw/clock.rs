//! The draw's clock: freezes each committed draw's entry list when its month closes, long
//! before the committed beacon round exists, and tells devices at once so they can see (and
//! pin) the list while nobody can know who will win. Nobody asks for the freeze: it happens on
//! time or, if every instance was down until the round came out, not at all (the draw then
//! cannot be made, and says why). Safe with several instances: the freeze takes the draw's
//! row lock and does nothing when another instance froze it first; every instance announces
//! the draws frozen lately that it has not announced yet, to the devices it holds.

use std::collections::HashSet;
use std::time::Duration;

use crate::db::now_ms;
use crate::error::ApiError;
use crate::programme::calendar::Month;
use crate::state::AppState;

/// How often the clock looks: one small read of a table with a row per organisation and month.
const EVERY: Duration = Duration::from_secs(1);
/// Draws frozen this recently are announced by instances that have not yet.
const ANNOUNCE_WINDOW_MS: i64 = 10 * 60 * 1000;

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut announced: HashSet<(String, String)> = HashSet::new();
        let mut refused: HashSet<(String, String)> = HashSet::new();
        let mut ticker = tokio::time::interval(EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stop = state.shutdown.signalled();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = &mut stop => return,
            }
            if let Err(err) = tick(&state, &mut announced, &mut refused).await {
                tracing::warn!(error = %err, "the draw clock failed");
            }
        }
    })
}

/// Freezes what is due and announces what was frozen lately.
pub async fn tick(
    state: &AppState,
    announced: &mut HashSet<(String, String)>,
    refused: &mut HashSet<(String, String)>,
) -> Result<(), ApiError> {
    let now = now_ms();
    let due: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT org_id, month, closes_at, beacon_round FROM draws \
         WHERE seed_hash IS NOT NULL AND frozen_at IS NULL AND closes_at <= $1",
    )
    .bind(now)
    .fetch_all(&state.db.read)
    .await?;
    let chain = state.config.beacon.chain();
    for (org_id, month, _, round) in due {
        let round_time = chain.round_time(u64::try_from(round).unwrap_or(0)) * 1000;
        if now >= round_time {
            // Too late to freeze fairly: whoever froze now could know the winner.
            if refused.insert((org_id.clone(), month.clone())) {
                tracing::error!(%org_id, %month, "the draw's beacon round came out before its entry list was frozen: this draw cannot be made");
            }
            continue;
        }
        let month_key = Month::parse(&month)?;
        let mut tx = state.db.begin().await?;
        let frozen = super::store::freeze(state, &mut tx, &org_id, month_key).await?;
        tx.commit().await?;
        if let Some(entries) = frozen {
            tracing::info!(%org_id, %month, entries, "draw entry list frozen");
        }
    }
    let lately: Vec<(String, String)> = sqlx::query_as(
        "SELECT org_id, month FROM draws WHERE frozen_at IS NOT NULL AND frozen_at > $1",
    )
    .bind(now - ANNOUNCE_WINDOW_MS)
    .fetch_all(&state.db.read)
    .await?;
    announced.retain(|key| lately.contains(key));
    for key in lately {
        if announced.insert(key.clone()) {
            state.events.draw_moved(&key.0, &key.1);
        }
    }
    Ok(())
}
