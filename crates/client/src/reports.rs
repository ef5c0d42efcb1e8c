//! What the device tells the programme besides its shares. Share-then-delete does not pay:
//! until a month closes, the device checks that each of its verified posts still exists, where
//! the network lets it read posts (Bluesky, Mastodon, X), and withdraws the record of a deleted
//! one (its points go with it); the account's tokens never leave the device for this. And the
//! items opened each day, reported once the day is over, as counts.

use serde::Serialize;

use crate::engine::Engine;
use crate::error::ClientError;
use crate::social::{Credentials, Outgoing};

/// How often a running app re-checks on its own.
pub const RECHECK_EVERY: chrono::Duration = chrono::Duration::hours(12);
const RECHECKED_KEY: &str = "programme.rechecked_at";

/// What a re-check did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RecheckReport {
    pub checked: usize,
    /// Records withdrawn: their posts were deleted.
    pub withdrawn: usize,
    /// Posts the network would not tell about (LinkedIn, a share made elsewhere, an error).
    pub unknown: usize,
}

impl Engine {
    /// Checks this device's verified posts of months not closed yet, and withdraws the
    /// records of deleted ones.
    pub async fn recheck_posts(&self) -> Result<RecheckReport, ClientError> {
        let api = self.api()?;
        let items = self.check(api.to_recheck().await)?;
        let mut report = RecheckReport::default();
        for item in items {
            let Some(post_id) = item.post_id.as_deref() else {
                report.unknown += 1;
                continue;
            };
            let Some(share) = self.store.share(&item.share_id)? else {
                report.unknown += 1;
                continue;
            };
            let account = self.store.account(&share.account_id)?;
            let network = account.as_ref().and_then(|a| self.networks.get(a.provider));
            let (Some(account), Some(network)) = (account, network) else {
                report.unknown += 1;
                continue;
            };
            let credentials = Credentials::new(self.secrets.clone(), &account.id);
            let out = Outgoing {
                account: &account,
                share: &share,
                credentials: &credentials,
                card: None,
            };
            report.checked += 1;
            match network.exists(&out, post_id).await {
                Ok(Some(false)) => {
                    self.check(api.withdraw_share(&share.id).await)?;
                    self.store
                        .mark_refused(&share.id, "the post was deleted, so it no longer counts")?;
                    report.withdrawn += 1;
                }
                Ok(Some(true)) => {}
                Ok(None) => report.unknown += 1,
                Err(e) => {
                    tracing::info!(share = %share.id, error = %e, "cannot re-check a post");
                    report.unknown += 1;
                }
            }
        }
        self.store
            .set_setting(RECHECKED_KEY, &chrono::Utc::now().to_rfc3339())?;
        Ok(report)
    }

    /// [`Engine::recheck_posts`] when the last one is older than [`RECHECK_EVERY`].
    pub async fn recheck_if_due(&self) -> Result<Option<RecheckReport>, ClientError> {
        let last = self
            .store
            .setting(RECHECKED_KEY)?
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok());
        if last.is_some_and(|t| chrono::Utc::now() - t.with_timezone(&chrono::Utc) < RECHECK_EVERY)
        {
            return Ok(None);
        }
        self.recheck_posts().await.map(Some)
    }
}

impl Engine {
    /// Reports the items opened on each day that is over, once (a day the server cannot take
    /// any more, too old, is dropped). Answers how many days were reported.
    pub async fn report_reads(&self) -> Result<usize, ClientError> {
        let pending = self.store.pending_reads()?;
        if pending.is_empty() {
            return Ok(0);
        }
        let api = self.api()?;
        let mut reported = 0;
        for (day, items) in pending {
            let report = relay_protocol::ReadReport {
                day: day.clone(),
                items,
            };
            match self.check(api.report_reads(&report).await) {
                Ok(_) => reported += 1,
                Err(e) if e.is_transient() => return Err(e),
                Err(ClientError::Server(p)) if p.status == 400 => {
                    tracing::info!(%day, reason = ?p.detail, "a read report was refused; dropped");
                }
                Err(e) => return Err(e),
            }
            self.store.clear_reads(&day)?;
        }
        Ok(reported)
    }
}

/// The networks this device last told the server it has accounts on.
const ACCOUNTS_REPORTED_KEY: &str = "programme.accounts_reported";

impl Engine {
    /// Tells the server which networks this device has an account connected on (network kinds
    /// only, never handles), when that changed: the company's adoption figure counts people
    /// with at least one. Answers whether it was sent.
    pub async fn report_accounts(&self) -> Result<bool, ClientError> {
        let mut networks: Vec<relay_protocol::Network> = self
            .store
            .accounts()?
            .into_iter()
            .map(|a| a.network)
            .collect();
        networks.sort_by_key(|n| n.as_str());
        networks.dedup();
        let said = networks
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(",");
        if self.store.setting(ACCOUNTS_REPORTED_KEY)?.as_deref() == Some(said.as_str()) {
            return Ok(false);
        }
        let api = self.api()?;
        self.check(api.report_accounts(&networks).await)?;
        self.store.set_setting(ACCOUNTS_REPORTED_KEY, &said)?;
        Ok(true)
    }
}
