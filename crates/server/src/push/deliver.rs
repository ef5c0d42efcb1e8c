//! Sending claimed notifications. Each delivery is claimed by one instance (a conditional
//! update), sent with many others at once, and then removed, retried later, or its channel
//! forgotten when the push service says the subscription is gone.

use std::time::Duration;

use futures::StreamExt;
use relay_protocol::{PushKind, PushPayload};
use sqlx::Row;

use super::transport::{Outcome, Target, SEND_TIMEOUT};
use super::{apns, fcm, webpush, PushSettings};
use crate::db::{new_id, now_ms};
use crate::error::ApiError;
use crate::state::AppState;

/// Deliveries claimed per round.
const CLAIM: i64 = 1000;
/// Requests to push services in flight at once.
const IN_FLIGHT: usize = 256;
/// How long a claim holds: longer than a round of sends can take.
const CLAIM_HOLD_MS: i64 = 120_000;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// The push services' clients and credentials, shared by every send.
pub struct Sender {
    settings: PushSettings,
    http: reqwest::Client,
    /// Web Push endpoints are the devices' word: this client connects only to public
    /// addresses (the sources' guard), follows no redirect and ignores proxy variables.
    web_http: reqwest::Client,
    endpoint_policy: crate::sources::fetch::FetchPolicy,
    web_push: Option<webpush::WebPush>,
    fcm: Option<fcm::Fcm>,
    apns: Option<apns::Apns>,
}

impl Sender {
    pub fn new(settings: &PushSettings) -> Sender {
        let http = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .pool_max_idle_per_host(IN_FLIGHT)
            .build()
            .expect("an HTTP client with default TLS");
        let endpoint_policy = crate::sources::fetch::FetchPolicy {
            allow_private: settings.local_endpoints,
            timeout: SEND_TIMEOUT,
            ..Default::default()
        };
        let web_http = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .pool_max_idle_per_host(IN_FLIGHT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(crate::sources::fetch::Resolver::guarding(
                endpoint_policy.clone(),
            ))
            .build()
            .expect("an HTTP client with default TLS");
        Sender {
            web_http,
            endpoint_policy,
            settings: settings.clone(),
            web_push: settings.web_push.as_ref().map(webpush::WebPush::new),
            fcm: settings.fcm.as_ref().map(fcm::Fcm::new),
            apns: settings.apns.as_ref().map(apns::Apns::new),
            http,
        }
    }

    /// Sends one notification to one device.
    pub async fn send(&self, target: &Target, payload: &PushPayload) -> Outcome {
        let unsupported = || Outcome::Refused(format!("{} is not configured", target.kind));
        match target.kind {
            PushKind::WebPush => match &self.web_push {
                Some(service) => {
                    // An endpoint on an internal address is never valid: forget the channel.
                    let allowed = url::Url::parse(&target.address).is_ok_and(|u| {
                        crate::sources::fetch::check_url(&u, &self.endpoint_policy).is_ok()
                    });
                    if !allowed {
                        return Outcome::Gone;
                    }
                    service.send(&self.web_http, target, payload).await
                }
                None => unsupported(),
            },
            PushKind::Fcm => match &self.fcm {
                Some(service) => service.send(&self.http, target, payload).await,
                None => unsupported(),
            },
            PushKind::Apns => match &self.apns {
                Some(service) => service.send(target, payload).await,
                None => unsupported(),
            },
        }
    }

    /// Claims and sends every delivery that is due, round after round.
    pub async fn deliver_due(&self, state: &AppState) -> Result<usize, ApiError> {
        let mut sent = 0;
        loop {
            let round = self.deliver_round(state).await?;
            sent += round;
            if (round as i64) < CLAIM {
                return Ok(sent);
            }
        }
    }

    async fn deliver_round(&self, state: &AppState) -> Result<usize, ApiError> {
        let now = now_ms();
        let claim = new_id();
        // The condition is repeated outside the subquery: on PostgreSQL a row another instance
        // claimed meanwhile is re-checked against it, and skipped.
        let free = "next_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3)";
        sqlx::query(&format!(
            "UPDATE push_deliveries SET claim = $1, claimed_until = $2 \
             WHERE id IN (SELECT id FROM push_deliveries WHERE {free} ORDER BY next_at LIMIT $4) \
             AND {free}"
        ))
        .bind(&claim)
        .bind(now + CLAIM_HOLD_MS)
        .bind(now)
        .bind(CLAIM)
        .execute(&state.db.write)
        .await?;
        let rows = sqlx::query(
            "SELECT d.id, d.payload, d.attempts, c.kind, c.address, c.p256dh, c.auth, c.device_id \
             FROM push_deliveries d LEFT JOIN push_channels c ON c.device_id = d.device_id \
             WHERE d.claim = $1",
        )
        .bind(&claim)
        .fetch_all(&state.db.read)
        .await?;
        let claimed = rows.len();
        let mut jobs = Vec::with_capacity(claimed);
        let mut orphans = Vec::new();
        for row in rows {
            let id: String = row.try_get("id")?;
            let kind: Option<String> = row.try_get("kind")?;
            let payload: String = row.try_get("payload")?;
            let (Some(kind), Ok(payload)) = (
                kind.and_then(|k| k.parse::<PushKind>().ok()),
                serde_json::from_str::<PushPayload>(&payload),
            ) else {
                // Its channel was removed meanwhile.
                orphans.push(id);
                continue;
            };
            let target = Target {
                kind,
                address: row.try_get("address")?,
                p256dh: row.try_get("p256dh")?,
                auth: row.try_get("auth")?,
            };
            let attempts: i64 = row.try_get("attempts")?;
            let device: String = row.try_get("device_id")?;
            jobs.push((id, device, attempts, target, payload));
        }
        let results: Vec<(String, String, i64, PushKind, Outcome)> = futures::stream::iter(jobs)
            .map(|(id, device, attempts, target, payload)| async move {
                let outcome = self.send(&target, &payload).await;
                (id, device, attempts, target.kind, outcome)
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;

        let mut done = orphans;
        let mut gone = Vec::new();
        let mut retries = Vec::new();
        for (id, device, attempts, kind, outcome) in results {
            let result = match &outcome {
                Outcome::Delivered => "delivered",
                Outcome::Gone => "gone",
                Outcome::Refused(_) => "refused",
                Outcome::Retry { .. } if attempts + 1 >= self.settings.max_attempts => "given_up",
                Outcome::Retry { .. } => "retry",
            };
            state
                .metrics
                .push_deliveries
                .with(&[kind.as_str(), result])
                .inc();
            match outcome {
                Outcome::Delivered => done.push(id),
                Outcome::Gone => {
                    tracing::info!(device = %device, "push subscription gone; channel removed");
                    gone.push(device);
                    done.push(id);
                }
                Outcome::Refused(reason) => {
                    tracing::warn!(device = %device, %reason, "push notification refused");
                    done.push(id);
                }
                Outcome::Retry { after } => {
                    if attempts + 1 >= self.settings.max_attempts {
                        tracing::warn!(device = %device, "push notification given up after retries");
                        done.push(id);
                    } else {
                        retries.push((id, attempts + 1, self.backoff(attempts, after)));
                    }
                }
            }
        }
        self.settle(state, &done, &gone, &retries).await?;
        Ok(claimed)
    }

    /// When the next attempt may go: the base delay doubled per attempt, or the service's
    /// `Retry-After` when longer.
    fn backoff(&self, attempts: i64, after: Option<Duration>) -> Duration {
        let doubled = self
            .settings
            .retry_base
            .saturating_mul(1u32 << attempts.clamp(0, 16) as u32)
            .min(MAX_BACKOFF);
        after.map_or(doubled, |after| after.max(doubled).min(MAX_BACKOFF))
    }

    async fn settle(
        &self,
        state: &AppState,
        done: &[String],
        gone: &[String],
        retries: &[(String, i64, Duration)],
    ) -> Result<(), ApiError> {
        let mut tx = state.db.begin().await?;
        for chunk in done.chunks(500) {
            let sql = format!(
                "DELETE FROM push_deliveries WHERE id IN ({})",
                crate::db::placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            query.execute(&mut *tx).await?;
        }
        for device in gone {
            sqlx::query("DELETE FROM push_deliveries WHERE device_id = $1")
                .bind(device)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM push_channels WHERE device_id = $1")
                .bind(device)
                .execute(&mut *tx)
                .await?;
        }
        let now = now_ms();
        for (id, attempts, wait) in retries {
            sqlx::query(
                "UPDATE push_deliveries SET attempts = $1, next_at = $2, claim = NULL, \
                 claimed_until = NULL WHERE id = $3",
            )
            .bind(attempts)
            .bind(now + wait.as_millis() as i64)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
