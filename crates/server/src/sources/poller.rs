//! The poller: every few seconds it takes the sources that are due and polls them, a few at a
//! time. With several server instances each source is claimed by one (its next poll time is
//! moved forward only if nobody moved it first), so no source is polled twice.

use std::time::Duration;

use futures::StreamExt;

use super::SourceRow;
use crate::db::now_ms;
use crate::error::ApiError;
use crate::state::AppState;

/// Sources polled at once by one instance.
const CONCURRENT_POLLS: usize = 4;
/// Sources claimed per tick at most.
const CLAIM_PER_TICK: i64 = 20;

/// Runs [`tick`] every `interval` until the server stops.
pub fn spawn(state: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stop = state.shutdown.signalled();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = &mut stop => return,
            }
            tokio::select! {
                result = tick(&state) => if let Err(err) = result {
                    tracing::warn!(error = %err, "polling sources failed");
                },
                // A slow source does not hold the server's shutdown.
                _ = &mut stop => return,
            }
        }
    })
}

/// Claims the sources that are due and polls them. Returns how many were polled.
pub async fn tick(state: &AppState) -> Result<usize, ApiError> {
    let now = now_ms();
    let due: Vec<SourceRow> = sqlx::query_as(&format!(
        "SELECT {} FROM sources WHERE paused = 0 AND next_poll_at <= $1 ORDER BY next_poll_at LIMIT $2",
        SourceRow::COLUMNS
    ))
    .bind(now)
    .bind(CLAIM_PER_TICK)
    .fetch_all(&state.db.read)
    .await?;
    let mut claimed = Vec::new();
    for source in due {
        // Held for the poll's length at most; the poll sets the real next time.
        let claim = sqlx::query(
            "UPDATE sources SET next_poll_at = $1 WHERE id = $2 AND next_poll_at = $3 AND paused = 0",
        )
        .bind(now + 10 * 60 * 1000)
        .bind(&source.id)
        .bind(source.next_poll_at)
        .execute(&state.db.write)
        .await?;
        if claim.rows_affected() == 1 {
            claimed.push(source);
        }
    }
    let polled = claimed.len();
    futures::stream::iter(claimed)
        .for_each_concurrent(CONCURRENT_POLLS, |source| async move {
            if let Err(err) = super::poll(state, &source).await {
                tracing::warn!(source = %source.id, error = %err, "polling a source failed");
            }
        })
        .await;
    Ok(polled)
}
