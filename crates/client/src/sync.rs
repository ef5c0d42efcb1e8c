//! Bringing the cache up to date: page after page, each applied with its cursor in one
//! transaction, with progress; and live mode, which follows the server's events.

use std::time::Duration;

use futures::StreamExt;
use rand::Rng;
use serde::Serialize;

use crate::api::ServerEvent;
use crate::engine::Engine;
use crate::error::ClientError;
use crate::notify;

/// Page size asked of the server by default.
pub const PAGE_SIZE: u32 = 500;

/// How far a sync has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Feed entries processed.
    pub done: u64,
    /// Entries in this run, when the server said.
    pub total: Option<u64>,
}

/// What live mode reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    /// The server answered.
    Online,
    /// The server could not be reached (or failed); live mode retries.
    Offline(String),
    Synced(SyncReport),
    /// Shares were sent, failed or changed state.
    OutboxChanged,
    /// The programme (points, boards, top ten) moved on the server.
    ProgrammeMoved,
    /// A month's draw moved; this device fetched it and pinned what it saw.
    DrawMoved(String),
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    pub pages: u32,
    pub upserted: usize,
    pub deleted: usize,
    pub new_items: usize,
    pub cancelled_shares: usize,
    pub reset: bool,
    pub first_sync: bool,
    pub notified: bool,
}

impl Engine {
    /// Syncs until the cache holds everything the server has for this person.
    pub async fn sync(
        &self,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<SyncReport, ClientError> {
        let result = self.sync_inner(progress).await;
        self.check(result)
    }

    async fn sync_inner(
        &self,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<SyncReport, ClientError> {
        let api = self.api()?;
        let first_sync = self.store.cursor()?.is_none();
        let mut report = SyncReport {
            first_sync,
            ..Default::default()
        };
        let mut outcomes = Vec::new();
        let mut done = 0u64;
        let mut total: Option<u64> = None;
        loop {
            let cursor = self.store.cursor()?;
            let page = api.sync_page(cursor.as_deref(), self.page_size).await?;
            let store = self.store.clone();
            let page_for_store = page.clone();
            let outcome = tokio::task::spawn_blocking(move || store.apply_page(&page_for_store))
                .await
                .map_err(|e| ClientError::Invalid(format!("sync worker failed: {e}")))??;
            report.pages += 1;
            report.upserted += outcome.upserted;
            report.deleted += outcome.deleted;
            report.new_items += outcome.new_items.len();
            report.cancelled_shares += outcome.cancelled_shares;
            report.reset |= outcome.reset;
            if outcome.reset {
                done = 0;
                total = None;
            }
            // Entries the server skipped (not meant for this person) count as done too.
            let after = page.remaining.unwrap_or(0);
            if total.is_none() && page.has_more {
                total = Some(page.changes.len() as u64 + after);
            }
            done = match total {
                Some(t) => t.saturating_sub(after),
                None => done + page.changes.len() as u64,
            };
            progress(Progress {
                done,
                total: total.or(Some(done)),
            });
            outcomes.push(outcome);
            if !page.has_more {
                break;
            }
        }
        if report.upserted > 0 {
            // Pictures for offline reading, in the background.
            let images = self.images.clone();
            tokio::spawn(async move { images.prefetch_newest(200).await });
        }
        let followed = self.store.followed_channels()?;
        if let Some(n) = notify::decide(
            &outcomes,
            first_sync,
            self.notifications_paused()?,
            &followed,
        ) {
            self.notifier.notify(&n);
            report.notified = true;
        }
        Ok(report)
    }

    /// Live mode: syncs and sends due shares now, then whenever the server announces a new
    /// version or a scheduled share falls due, reconnecting with backoff after failures.
    /// Returns only on a permanent error (signed out, not enrolled).
    pub async fn watch(
        &self,
        on_sync: &mut (dyn FnMut(&SyncReport) + Send),
    ) -> Result<(), ClientError> {
        let nudge = tokio::sync::Notify::new();
        self.watch_live(
            &mut |event| {
                if let LiveEvent::Synced(report) = event {
                    on_sync(report)
                }
            },
            &nudge,
        )
        .await
    }

    /// [`Engine::watch`] for an app: reports whether the server is reachable, and `nudge`
    /// ("Sync now") syncs and sends at once (shares waiting to retry included), cutting a
    /// reconnection wait short.
    pub async fn watch_live(
        &self,
        on_event: &mut (dyn FnMut(&LiveEvent) + Send),
        nudge: &tokio::sync::Notify,
    ) -> Result<(), ClientError> {
        let mut failures = 0u32;
        loop {
            let round = async {
                let report = self.sync(&mut |_| {}).await?;
                on_event(&LiveEvent::Online);
                on_event(&LiveEvent::Synced(report));
                self.dispatch().await?;
                on_event(&LiveEvent::OutboxChanged);
                // Deleted posts lose their points before the month closes.
                match self.recheck_if_due().await {
                    Ok(Some(report)) if report.withdrawn > 0 => on_event(&LiveEvent::OutboxChanged),
                    Ok(_) => {}
                    Err(e) => tracing::info!(error = %e, "re-checking posts failed; later"),
                }
                if let Err(e) = self.report_reads().await {
                    tracing::info!(error = %e, "reporting reads failed; later");
                }
                if let Err(e) = self.report_accounts().await {
                    tracing::info!(error = %e, "reporting connected networks failed; later");
                }
                if let Err(e) = self.report_push().await {
                    tracing::info!(error = %e, "reporting the push channel or pause failed; later");
                }
                let mut events = self.api()?.events().await?;
                let opened = std::time::Instant::now();
                // Set when the instance says it stops: how long to wait before reconnecting.
                let mut farewell: Option<Duration> = None;
                let mut known = i64::MIN;
                // A sync put off within the server's spread (see `VersionEvent::spread_ms`).
                let mut sync_at: Option<tokio::time::Instant> = None;
                loop {
                    let wait = self.until_next_due()?;
                    let put_off = async move {
                        match sync_at {
                            Some(at) => tokio::time::sleep_until(at).await,
                            None => std::future::pending().await,
                        }
                    };
                    let resync = tokio::select! {
                        event = events.next() => match event {
                            Some(Ok(ServerEvent::Version { version, wait })) if version > known => {
                                known = version;
                                let at = tokio::time::Instant::now() + wait;
                                sync_at = Some(sync_at.map_or(at, |t| t.min(at)));
                                false
                            }
                            Some(Ok(ServerEvent::Version { .. })) => false,
                            Some(Ok(ServerEvent::Programme)) => {
                                on_event(&LiveEvent::ProgrammeMoved);
                                false
                            }
                            Some(Ok(ServerEvent::Draw { month })) => {
                                // Seen now, by this device's clock: the list is pinned before
                                // the beacon round exists.
                                if let Err(e) = self.draw(&month).await {
                                    tracing::warn!(error = %e, %month, "the announced draw could not be read");
                                }
                                on_event(&LiveEvent::DrawMoved(month));
                                false
                            }
                            Some(Ok(ServerEvent::Reconnect { wait })) => {
                                farewell = Some(wait);
                                false
                            }
                            Some(Err(e)) => return Err::<Option<Duration>, _>(e),
                            None if farewell.is_some() => return Ok(farewell),
                            // The server ends a stream when its access token expires: start
                            // over at once with a fresh one (after a back-off only when the
                            // stream ended straight away).
                            None if opened.elapsed() > Duration::from_secs(5) => return Ok(None),
                            None => return Err(ClientError::Offline("the event stream ended".into())),
                        },
                        _ = put_off => true,
                        _ = nudge.notified() => {
                            self.store.retry_waiting_now()?;
                            true
                        }
                        _ = tokio::time::sleep(wait) => false,
                    };
                    if resync {
                        sync_at = None;
                        let report = self.sync(&mut |_| {}).await?;
                        on_event(&LiveEvent::Synced(report));
                    }
                    let sent = self.dispatch().await?;
                    if sent.changed() || resync {
                        on_event(&LiveEvent::OutboxChanged);
                    }
                    failures = 0;
                }
            };
            match round.await {
                Err(e @ (ClientError::SignedOut(_) | ClientError::NotEnrolled)) => return Err(e),
                Err(e) => {
                    failures += 1;
                    on_event(&LiveEvent::Offline(e.to_string()));
                    // Shares to other networks need not wait for the server.
                    if let Ok(sent) = self.dispatch().await {
                        if sent.changed() {
                            on_event(&LiveEvent::OutboxChanged);
                        }
                    }
                    let wait = backoff(failures, &e);
                    tracing::info!(error = %e, wait_ms = wait.as_millis() as u64, "live mode interrupted; retrying");
                    self.pause(wait, nudge).await;
                }
                Ok(None) => {}
                Ok(Some(wait)) => {
                    tracing::info!(
                        wait_ms = wait.as_millis() as u64,
                        "the server stops; reconnecting"
                    );
                    self.pause(wait, nudge).await;
                }
            }
        }
    }

    /// Waits before reconnecting; "Sync now" cuts the wait short and retries waiting shares.
    async fn pause(&self, wait: Duration, nudge: &tokio::sync::Notify) {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = nudge.notified() => {
                let _ = self.store.retry_waiting_now();
            }
        }
    }

    fn until_next_due(&self) -> Result<Duration, ClientError> {
        let next = self.store.next_due()?;
        let now = crate::store::now_ms();
        Ok(match next {
            Some(t) if t > now => {
                Duration::from_millis((t - now) as u64).min(Duration::from_secs(60))
            }
            Some(_) => Duration::from_millis(200),
            None => Duration::from_secs(60),
        })
    }
}

/// Exponential backoff with full jitter, capped at five minutes; a server's `Retry-After` wins.
pub fn backoff(failures: u32, error: &ClientError) -> Duration {
    if let ClientError::RetryAfter(secs) = error {
        return Duration::from_secs(*secs);
    }
    let cap = 300_000f64;
    let ceiling = (500f64 * 2f64.powi(failures.min(20) as i32)).min(cap);
    Duration::from_millis(rand::thread_rng().gen_range(ceiling / 2.0..=ceiling) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let offline = ClientError::Offline("x".into());
        assert!(backoff(1, &offline) <= Duration::from_secs(1));
        assert!(backoff(30, &offline) <= Duration::from_secs(300));
        assert!(backoff(30, &offline) >= Duration::from_secs(150));
        assert_eq!(
            backoff(1, &ClientError::RetryAfter(42)),
            Duration::from_secs(42)
        );
    }
}
