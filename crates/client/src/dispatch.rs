//! Sending the outbox: due shares go to their network, posted shares are recorded on the
//! server, and shares interrupted mid-send are reconciled before anything is sent again.

use std::time::Duration;

use rand::Rng;
use relay_protocol::{NewShareRecord, ShareProof};
use serde::Serialize;

use crate::engine::Engine;
use crate::error::ClientError;
use crate::social::{CardImage, Credentials, LinkCard, Outgoing, PostError};
use crate::store::{now_ms, AccountStatus, LinkChoice, Share, ShareLink, ShareState};

/// Why a share waits for its account.
const RECONNECT: &str = "waiting for the account to be reconnected";

/// After this many failed attempts a share stops retrying by itself and waits for the person.
pub const MAX_ATTEMPTS: u32 = 8;

/// What a dispatch did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DispatchReport {
    pub posted: usize,
    pub failed: usize,
    pub waiting: usize,
    pub recorded: usize,
    pub reconciled: usize,
    /// Another dispatcher (the app, another `relay` command) is running on this data folder:
    /// this one did nothing, so no share can be sent or reconciled twice at once.
    pub busy: bool,
}

impl DispatchReport {
    /// Whether any share changed state (worth refreshing a queue on screen).
    pub fn changed(&self) -> bool {
        self.posted + self.failed + self.waiting + self.recorded + self.reconciled > 0
    }
}

impl Engine {
    /// Sends every due share, then records posted ones on the server. Offline, shares stay
    /// queued; nothing is lost.
    pub async fn dispatch(&self) -> Result<DispatchReport, ClientError> {
        // Held until this function returns; the OS releases it if the process dies.
        let Some(_lock) = self.dispatch_lock()? else {
            return Ok(DispatchReport {
                busy: true,
                ..Default::default()
            });
        };
        let mut report = DispatchReport {
            reconciled: self.reconcile().await?,
            ..Default::default()
        };
        // Accounts that asked to wait (reconnect, rate limit) are skipped for this round.
        let mut held: Vec<String> = Vec::new();
        while let Some(share) = self.store.claim_due(now_ms())? {
            if held.contains(&share.account_id) {
                self.store
                    .requeue(&share.id, Some(now_ms() + 1000), share.reason.as_deref())?;
                report.waiting += 1;
                break;
            }
            match self.send(&share).await {
                Ok(()) => report.posted += 1,
                Err(Held::Account(reason)) => {
                    held.push(share.account_id.clone());
                    self.store
                        .requeue(&share.id, Some(now_ms() + 60_000), Some(&reason))?;
                    report.waiting += 1;
                }
                Err(Held::Until(at, reason)) => {
                    held.push(share.account_id.clone());
                    self.store.requeue(&share.id, Some(at), Some(&reason))?;
                    report.waiting += 1;
                }
                Err(Held::Failed) => report.failed += 1,
            }
        }
        report.recorded = self.record_posted().await?;
        Ok(report)
    }

    /// The data folder's dispatch lock, or `None` when another process holds it.
    fn dispatch_lock(&self) -> Result<Option<std::fs::File>, ClientError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.data_dir().join("dispatch.lock"))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }

    /// One share, already marked `sending`.
    async fn send(&self, share: &Share) -> Result<(), Held> {
        let fail = |reason: String, retryable: bool| -> Held {
            let give_up = share.attempts >= MAX_ATTEMPTS;
            let next = (retryable && !give_up)
                .then(|| now_ms() + retry_delay(share.attempts).as_millis() as i64);
            let reason = if give_up {
                format!("{reason} (gave up after {} attempts)", share.attempts)
            } else {
                reason
            };
            if let Err(e) = self
                .store
                .mark_failed(&share.id, &reason, retryable && !give_up, next)
            {
                tracing::error!(error = %e, "could not record a failed share");
            }
            Held::Failed
        };
        let account = match self.store.account(&share.account_id) {
            Ok(Some(a)) => a,
            Ok(None) => return Err(fail("the account was disconnected".into(), false)),
            Err(e) => return Err(fail(e.to_string(), true)),
        };
        if account.status == AccountStatus::Reconnect {
            return Err(Held::Account(RECONNECT.into()));
        }
        let Some(network) = self.networks.get(account.provider) else {
            return Err(fail(
                format!("this app cannot post to {} accounts", account.provider),
                false,
            ));
        };
        let credentials = Credentials::new(self.secrets.clone(), &account.id);
        let share = &self
            .with_link(share)
            .await
            .map_err(|e| fail(e.to_string(), true))?;
        let card = self.link_card(share).await;
        let outgoing = Outgoing {
            account: &account,
            share,
            credentials: &credentials,
            card: card.as_ref(),
        };
        match network.post(&outgoing).await {
            Ok(posted) => {
                self.store
                    .mark_posted(&share.id, &posted.id, posted.url.as_deref())
                    .map_err(|e| fail(e.to_string(), true))?;
                // The reach the record reports; the post is out whatever this answers.
                let followers = tokio::time::timeout(FOLLOWERS_WAIT, network.followers(&outgoing))
                    .await
                    .ok()
                    .flatten();
                if let Some(n) = followers {
                    let _ = self.store.set_followers(&share.id, n);
                }
                Ok(())
            }
            Err(PostError::Transient(m)) => Err(fail(m, true)),
            Err(PostError::Rejected(m)) => Err(fail(m, false)),
            Err(PostError::AuthExpired(m)) => {
                let _ = self
                    .store
                    .set_account_status(&account.id, AccountStatus::Reconnect);
                tracing::info!(network = %account.network, reason = %m, "the account needs reconnecting");
                Err(Held::Account(RECONNECT.into()))
            }
            Err(PostError::RateLimited { retry_after }) => Err(Held::Until(
                now_ms() + retry_after.as_millis() as i64,
                format!("the network asked to wait {} s", retry_after.as_secs()),
            )),
        }
    }

    /// Shares found `sending` (the app stopped mid-send): asks the network whether the post
    /// went out. Posted ones are marked so; others go back to the queue, which is safe because
    /// every post carries the share's idempotency key. Unreachable: left for next time.
    pub async fn reconcile(&self) -> Result<usize, ClientError> {
        let mut reconciled = 0;
        for share in self.store.shares(Some(ShareState::Sending))? {
            let Some(account) = self.store.account(&share.account_id)? else {
                self.store
                    .mark_failed(&share.id, "the account was disconnected", false, None)?;
                continue;
            };
            let Some(network) = self.networks.get(account.provider) else {
                continue;
            };
            let credentials = Credentials::new(self.secrets.clone(), &account.id);
            // Looked for as it went out: with the link written down before the post.
            let share = outgoing_share(&share);
            let outgoing = Outgoing {
                account: &account,
                share: &share,
                credentials: &credentials,
                card: None,
            };
            match network.find(&outgoing).await {
                Ok(Some(posted)) => {
                    self.store
                        .mark_posted(&share.id, &posted.id, posted.url.as_deref())?;
                    reconciled += 1;
                }
                Ok(None) => {
                    self.store
                        .requeue(&share.id, None, Some("interrupted; sending again"))?;
                    reconciled += 1;
                }
                // The network cannot tell: the person decides (never a blind resend).
                Err(PostError::Rejected(reason)) => {
                    self.store.mark_failed(&share.id, &reason, false, None)?;
                    reconciled += 1;
                }
                Err(e) => tracing::info!(share = %share.id, error = %e, "cannot reconcile yet"),
            }
        }
        Ok(reconciled)
    }

    /// Tells the server about posted shares it has not acknowledged (idempotent there).
    async fn record_posted(&self) -> Result<usize, ClientError> {
        let pending = self.store.unrecorded()?;
        if pending.is_empty() {
            return Ok(0);
        }
        let api = match self.api() {
            Ok(api) => api,
            Err(ClientError::NotEnrolled) => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut recorded = 0;
        for share in pending {
            let record = self.share_record(&share)?;
            match self.check(api.record_share(&record).await) {
                Ok(record) => {
                    self.store.mark_recorded(&share.id, record.points)?;
                    recorded += 1;
                }
                // Offline or busy: the next dispatch tries again.
                Err(e) if e.is_transient() => break,
                Err(ClientError::SignedOut(_) | ClientError::NotEnrolled) => break,
                // A record the server can never take (its month closed, an item withdrawn
                // from the person's audience): kept with the reason, not sent again.
                Err(ClientError::Server(problem)) if matches!(problem.status, 400 | 409 | 422) => {
                    let reason = problem.detail.unwrap_or(problem.title);
                    tracing::warn!(share = %share.id, %reason, "the server refused a share record");
                    self.store.mark_refused(&share.id, &reason)?;
                    recorded += 1;
                }
                Err(e) => {
                    tracing::warn!(share = %share.id, error = %e, "the server refused a share record")
                }
            }
        }
        Ok(recorded)
    }
}

/// How long a share waits for its tracked link before going out with the item's own address.
const LINK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a posted share waits for the account's follower count before moving on.
const FOLLOWERS_WAIT: Duration = Duration::from_secs(5);

/// The share as the network sees it: carrying the link written down for it.
fn outgoing_share(share: &Share) -> Share {
    Share {
        item_url: share.outgoing_url().to_owned(),
        ..share.clone()
    }
}

impl Engine {
    /// Decides the link a share goes out with and writes it down before the post: the
    /// person's tracked link (asked of the server, at most `LINK_TIMEOUT`), else the item's own
    /// address. A share never waits for the company server.
    async fn with_link(&self, share: &Share) -> Result<Share, ClientError> {
        if share.link == LinkChoice::Original || share.link_url.is_some() {
            return Ok(outgoing_share(share));
        }
        let asked = async {
            let api = self.api()?;
            self.check(api.tracked_link(&share.item_id, share.network).await)
        };
        let link = match tokio::time::timeout(LINK_TIMEOUT, asked).await {
            Ok(Ok(link)) => ShareLink::Tracked {
                code: link.code,
                url: link.url,
            },
            Ok(Err(e)) => {
                tracing::info!(share = %share.id, error = %e, "no tracked link; the original goes");
                ShareLink::Fallback
            }
            Err(_) => {
                tracing::info!(share = %share.id, "the tracked link took too long; the original goes");
                ShareLink::Fallback
            }
        };
        self.store.set_share_link(&share.id, &link)?;
        let mut share = share.clone();
        match link {
            ShareLink::Tracked { code, url } => {
                share.link_code = Some(code);
                share.link_url = Some(url);
                share.link_fallback = false;
            }
            ShareLink::Fallback => share.link_fallback = true,
        }
        Ok(outgoing_share(&share))
    }

    /// What the server is told of a posted share. A share posted through an account whose
    /// network answered with the post is verified; one opened on a share page is declared. The
    /// post's address goes along only when it is on the network's own domain (a test network's
    /// is not), so the server never has to refuse a true share for its address.
    fn share_record(&self, share: &Share) -> Result<NewShareRecord, ClientError> {
        let account = if share.account_id == crate::store::INTENT_ACCOUNT {
            None
        } else {
            self.store.account(&share.account_id)?
        };
        // The account's server as the server will read the post back on it: its host, with
        // the port where it is not the default one.
        let account_host = account
            .as_ref()
            .and_then(|a| a.base_url.as_deref())
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(port) => format!("{h}:{port}"),
                    None => h.to_owned(),
                })
            });
        let verified = account.is_some() && share.post_id.is_some();
        let post_url = share
            .post_url
            .clone()
            .filter(|u| verified && share.network.owns_post_url(u, account_host.as_deref()));
        Ok(NewShareRecord {
            share_id: share.id.clone(),
            item_id: share.item_id.clone(),
            network: share.network,
            shared_at: share.posted_at.unwrap_or_else(chrono::Utc::now),
            post_url,
            proof: if verified {
                ShareProof::Verified
            } else {
                ShareProof::Declared
            },
            post_id: share.post_id.clone().filter(|_| verified),
            account_host: account_host
                .filter(|_| share.network == relay_protocol::Network::Mastodon),
            link_code: share.link_code.clone().filter(|_| share.link_url.is_some()),
            followers: share.followers.filter(|_| verified),
        })
    }

    /// The shared item as a link card, with its picture from the image cache when it has one.
    async fn link_card(&self, share: &Share) -> Option<LinkCard> {
        let item = self.store.item(&share.item_id).ok().flatten()?.item;
        // The post's language: that of the suggested wording used, else the item's.
        let language = item
            .suggested_texts
            .iter()
            .find(|s| s.text.trim() == share.text.trim())
            .map_or(item.language.clone(), |s| s.language.clone());
        let image = match &item.image_url {
            Some(url) => match self.images.fetch(url).await {
                Ok(path) => std::fs::read(&path).ok().and_then(|bytes| {
                    let mime = crate::images::content_type(&bytes)?;
                    // Bluesky renders bitmaps only.
                    (mime != "image/svg+xml").then(|| CardImage {
                        mime: mime.to_owned(),
                        bytes,
                    })
                }),
                Err(e) => {
                    tracing::info!(error = %e, "no picture for the link card");
                    None
                }
            },
            None => None,
        };
        Some(LinkCard {
            url: share.item_url.clone(),
            title: item.title,
            description: item.summary,
            language,
            image,
        })
    }
}

/// Why a share did not go out this round.
enum Held {
    /// Recorded as failed (retrying later or waiting for the person).
    Failed,
    /// The account cannot post until reconnected: the share waits, not failed.
    Account(String),
    /// The network asked to wait until then.
    Until(i64, String),
}

/// 30 s, 1 min, 2 min... up to 1 h, with jitter so a fleet does not retry in step.
fn retry_delay(attempts: u32) -> Duration {
    let base = (30_000u64 << attempts.saturating_sub(1).min(7)).min(3_600_000);
    Duration::from_millis(rand::thread_rng().gen_range(base * 4 / 5..=base))
}
