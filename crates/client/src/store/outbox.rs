//! The outbox: shares written on the device first, then sent. Every state change is its own
//! committed transaction, taken before the step it announces, so a crash never loses a share
//! and a share found `sending` afterwards is known to need reconciling.

use chrono::{DateTime, Utc};
use relay_protocol::Network;
use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;

use super::{now_ms, LinkChoice, Store};
use crate::error::ClientError;

/// Where a share stands. `Failed` shares are retried automatically while `retryable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareState {
    Queued,
    Sending,
    Posted,
    Failed,
    Cancelled,
}

impl ShareState {
    pub fn as_str(self) -> &'static str {
        match self {
            ShareState::Queued => "queued",
            ShareState::Sending => "sending",
            ShareState::Posted => "posted",
            ShareState::Failed => "failed",
            ShareState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> ShareState {
        match s {
            "queued" => ShareState::Queued,
            "sending" => ShareState::Sending,
            "posted" => ShareState::Posted,
            "failed" => ShareState::Failed,
            _ => ShareState::Cancelled,
        }
    }
}

/// A share in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    /// Chosen on the device; the idempotency key toward the network and the server.
    pub id: String,
    pub item_id: String,
    pub item_title: String,
    pub item_url: String,
    pub network: Network,
    pub account_id: String,
    pub text: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub state: ShareState,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why it failed or was cancelled.
    pub reason: Option<String>,
    pub retryable: bool,
    pub post_id: Option<String>,
    pub post_url: Option<String>,
    pub posted_at: Option<DateTime<Utc>>,
    /// When the server acknowledged the share record (or refused it for good).
    pub recorded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Points the share earned in the programme, as the server last said.
    pub points: Option<i64>,
    /// Why the server refused the record for good ("too late for November 2026").
    pub refused: Option<String>,
    /// The link the person chose to share.
    pub link: LinkChoice,
    /// The tracked link it went out with (its code, its address), when it did.
    pub link_code: Option<String>,
    pub link_url: Option<String>,
    /// The server could not be reached for the tracked link: it went with the item's address.
    pub link_fallback: bool,
    /// The posting account's followers when it went out, where the network said.
    pub followers: Option<u64>,
}

impl Share {
    /// The address the post carries: the tracked link when one was written down for it.
    pub fn outgoing_url(&self) -> &str {
        self.link_url.as_deref().unwrap_or(&self.item_url)
    }
}

/// The account id of shares made through a network's share page (no account of Relay's).
pub const INTENT_ACCOUNT: &str = "intent";

/// What the person asks to share.
#[derive(Debug, Clone)]
pub struct NewShare {
    pub item_id: String,
    pub account_id: String,
    pub text: String,
    /// Send at this time; now when absent.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The tracked link (default) or the item's own address.
    pub link: LinkChoice,
}

const COLUMNS: &str =
    "id, item_id, item_title, item_url, network, account_id, text, scheduled_at, state, attempts, \
     next_attempt_at, reason, retryable, post_id, post_url, posted_at, recorded_at, created_at, \
     points, refused, link_choice, link_code, link_url, link_fallback, followers";

fn time(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.and_then(DateTime::from_timestamp_millis)
}

fn share(row: &Row<'_>) -> rusqlite::Result<Share> {
    let network: String = row.get(4)?;
    let state: String = row.get(8)?;
    Ok(Share {
        id: row.get(0)?,
        item_id: row.get(1)?,
        item_title: row.get(2)?,
        item_url: row.get(3)?,
        network: network.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
        })?,
        account_id: row.get(5)?,
        text: row.get(6)?,
        scheduled_at: time(row.get(7)?),
        state: ShareState::parse(&state),
        attempts: row.get(9)?,
        next_attempt_at: time(row.get(10)?),
        reason: row.get(11)?,
        retryable: row.get::<_, Option<i64>>(12)?.unwrap_or(0) != 0,
        post_id: row.get(13)?,
        post_url: row.get(14)?,
        posted_at: time(row.get(15)?),
        recorded_at: time(row.get(16)?),
        created_at: time(row.get(17)?).unwrap_or_default(),
        points: row.get(18)?,
        refused: row.get(19)?,
        link: LinkChoice::parse(&row.get::<_, String>(20)?),
        link_code: row.get(21)?,
        link_url: row.get(22)?,
        link_fallback: row.get::<_, i64>(23)? != 0,
        followers: row
            .get::<_, Option<i64>>(24)?
            .and_then(|n| u64::try_from(n).ok()),
    })
}

/// Longest share text accepted by the outbox (each network checks its own, lower limit).
pub const MAX_SHARE_TEXT: usize = 10_000;

impl Store {
    /// Queues a share of a cached item through a connected account. Works offline.
    pub fn enqueue(&self, new: &NewShare) -> Result<Share, ClientError> {
        let text = new.text.trim();
        if text.is_empty() {
            return Err(ClientError::Invalid("the share text is empty".into()));
        }
        if text.chars().count() > MAX_SHARE_TEXT {
            return Err(ClientError::Invalid(format!(
                "the share text is longer than {MAX_SHARE_TEXT} characters"
            )));
        }
        let item = self
            .item(&new.item_id)?
            .ok_or(ClientError::NotFound("item"))?;
        let account = self
            .account(&new.account_id)?
            .ok_or(ClientError::NotFound("account"))?;
        let id = uuid::Uuid::now_v7().to_string();
        let now = now_ms();
        self.conn().execute(
            "INSERT INTO outbox (id, item_id, item_title, item_url, network, account_id, text, scheduled_at, state, \
             created_at, updated_at, link_choice) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?9, ?10)",
            params![
                id,
                item.item.id,
                item.item.title,
                item.item.url,
                account.network.as_str(),
                account.id,
                text,
                new.scheduled_at.map(|t| t.timestamp_millis()),
                now,
                new.link.as_str()
            ],
        )?;
        self.share(&id)?.ok_or(ClientError::NotFound("share"))
    }

    /// A share the person made on the network's own page (a share intent), recorded as posted
    /// so the server counts it like any other.
    pub fn record_shared_elsewhere(
        &self,
        item_id: &str,
        network: Network,
        text: &str,
    ) -> Result<Share, ClientError> {
        let item = self.item(item_id)?.ok_or(ClientError::NotFound("item"))?;
        let id = uuid::Uuid::now_v7().to_string();
        let now = now_ms();
        self.conn().execute(
            "INSERT INTO outbox (id, item_id, item_title, item_url, network, account_id, text, state, \
             posted_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'posted', ?8, ?8, ?8)",
            params![
                id,
                item.item.id,
                item.item.title,
                item.item.url,
                network.as_str(),
                INTENT_ACCOUNT,
                text.trim(),
                now
            ],
        )?;
        self.share(&id)?.ok_or(ClientError::NotFound("share"))
    }

    pub fn share(&self, id: &str) -> Result<Option<Share>, ClientError> {
        let conn = self.read_conn();
        Ok(conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
                [id],
                share,
            )
            .optional()?)
    }

    /// The outbox, newest first, optionally in one state.
    pub fn shares(&self, state: Option<ShareState>) -> Result<Vec<Share>, ClientError> {
        let conn = self.read_conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE (?1 IS NULL OR state = ?1) ORDER BY created_at DESC, id DESC"
        ))?;
        let rows = stmt.query_map([state.map(ShareState::as_str)], share)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn count_shares(&self, state: ShareState) -> Result<u64, ClientError> {
        Ok(self.read_conn().query_row(
            "SELECT COUNT(*) FROM outbox WHERE state = ?1",
            [state.as_str()],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Cancels a share that has not gone out.
    pub fn cancel_share(&self, id: &str, reason: &str) -> Result<Share, ClientError> {
        self.transition(
            id,
            &["queued", "failed"],
            "state = 'cancelled', reason = ?2, retryable = 0",
            reason,
        )
    }

    /// Puts a failed share back in the queue, to go out at the next dispatch.
    pub fn retry_share(&self, id: &str) -> Result<Share, ClientError> {
        self.transition(
            id,
            &["failed"],
            "state = 'queued', reason = NULLIF(?2, ''), next_attempt_at = NULL",
            "",
        )
    }

    /// Changes the text or time of a share that has not gone out.
    pub fn edit_share(
        &self,
        id: &str,
        text: Option<&str>,
        scheduled_at: Option<Option<DateTime<Utc>>>,
    ) -> Result<Share, ClientError> {
        let current = self.share(id)?.ok_or(ClientError::NotFound("share"))?;
        if !matches!(current.state, ShareState::Queued | ShareState::Failed) {
            return Err(ClientError::Conflict(format!(
                "a {} share cannot be edited",
                current.state.as_str()
            )));
        }
        let text = text.map(str::trim).unwrap_or(&current.text).to_owned();
        if text.is_empty() {
            return Err(ClientError::Invalid("the share text is empty".into()));
        }
        let scheduled = scheduled_at
            .unwrap_or(current.scheduled_at)
            .map(|t| t.timestamp_millis());
        self.conn().execute(
            "UPDATE outbox SET text = ?1, scheduled_at = ?2, state = 'queued', next_attempt_at = NULL, updated_at = ?3 \
             WHERE id = ?4 AND state IN ('queued', 'failed')",
            params![text, scheduled, now_ms(), id],
        )?;
        self.share(id)?.ok_or(ClientError::NotFound("share"))
    }

    fn transition(
        &self,
        id: &str,
        from: &[&str],
        set: &str,
        arg: &str,
    ) -> Result<Share, ClientError> {
        // The state is checked by the UPDATE itself: another process of the device (the app's
        // dispatcher beside the `relay` command line) may claim the share in between.
        let allowed = from
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let changed = self.conn().execute(
            &format!(
                "UPDATE outbox SET {set}, updated_at = ?3 WHERE id = ?1 AND state IN ({allowed})"
            ),
            params![id, arg, now_ms()],
        )?;
        let current = self.share(id)?.ok_or(ClientError::NotFound("share"))?;
        if changed == 0 {
            return Err(ClientError::Conflict(format!(
                "the share is {}",
                current.state.as_str()
            )));
        }
        Ok(current)
    }

    /// Takes the next due share and marks it `sending` (committed before anything is sent).
    pub fn claim_due(&self, now: i64) -> Result<Option<Share>, ClientError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id: Option<String> = tx
            .query_row(
                "SELECT id FROM outbox WHERE \
                   (state = 'queued' OR (state = 'failed' AND retryable = 1)) \
                   AND (scheduled_at IS NULL OR scheduled_at <= ?1) \
                   AND (next_attempt_at IS NULL OR next_attempt_at <= ?1) \
                 ORDER BY COALESCE(scheduled_at, created_at), id LIMIT 1",
                [now],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?1 WHERE id = ?2",
            params![now, id],
        )?;
        tx.commit()?;
        drop(conn);
        self.share(&id)
    }

    pub fn mark_posted(
        &self,
        id: &str,
        post_id: &str,
        post_url: Option<&str>,
    ) -> Result<(), ClientError> {
        self.conn().execute(
            "UPDATE outbox SET state = 'posted', post_id = ?1, post_url = ?2, posted_at = ?3, reason = NULL, \
             next_attempt_at = NULL, updated_at = ?3 WHERE id = ?4",
            params![post_id, post_url, now_ms(), id],
        )?;
        Ok(())
    }

    /// The posting account's follower count, read right after the post.
    pub fn set_followers(&self, id: &str, followers: u64) -> Result<(), ClientError> {
        self.conn().execute(
            "UPDATE outbox SET followers = ?1 WHERE id = ?2",
            params![i64::try_from(followers).unwrap_or(i64::MAX), id],
        )?;
        Ok(())
    }

    /// Records a failed attempt: retried at `next_attempt_at` when `retryable`, else waits for
    /// the person's Retry.
    pub fn mark_failed(
        &self,
        id: &str,
        reason: &str,
        retryable: bool,
        next_attempt_at: Option<i64>,
    ) -> Result<(), ClientError> {
        self.conn().execute(
            "UPDATE outbox SET state = 'failed', reason = ?1, retryable = ?2, next_attempt_at = ?3, updated_at = ?4 \
             WHERE id = ?5",
            params![reason, retryable as i64, next_attempt_at, now_ms(), id],
        )?;
        Ok(())
    }

    /// Returns a share to the queue without counting an attempt (a reconciled interruption, or
    /// a network that asked to wait).
    pub fn requeue(
        &self,
        id: &str,
        next_attempt_at: Option<i64>,
        reason: Option<&str>,
    ) -> Result<(), ClientError> {
        self.conn().execute(
            "UPDATE outbox SET state = 'queued', attempts = MAX(attempts - 1, 0), next_attempt_at = ?1, reason = ?2, \
             updated_at = ?3 WHERE id = ?4",
            params![next_attempt_at, reason, now_ms(), id],
        )?;
        Ok(())
    }

    /// "Send now": shares waiting to retry after a transient failure become due at once.
    /// Shares a network asked to wait for (rate limits) keep waiting.
    pub fn retry_waiting_now(&self) -> Result<usize, ClientError> {
        Ok(self.conn().execute(
            "UPDATE outbox SET next_attempt_at = NULL \
             WHERE state = 'failed' AND retryable = 1 AND next_attempt_at IS NOT NULL",
            [],
        )?)
    }

    /// A reconnected account's waiting shares become due at once.
    pub fn release_account(&self, account_id: &str) -> Result<usize, ClientError> {
        // Scheduled ones keep their time.
        Ok(self.conn().execute(
            "UPDATE outbox SET next_attempt_at = scheduled_at, reason = NULL, updated_at = ?1 \
             WHERE account_id = ?2 AND state = 'queued'",
            params![now_ms(), account_id],
        )?)
    }

    /// A disconnected account's unsent shares fail with `reason` (not retryable: the account
    /// is gone).
    pub fn fail_unsent_of(&self, account_id: &str, reason: &str) -> Result<usize, ClientError> {
        Ok(self.conn().execute(
            "UPDATE outbox SET state = 'failed', reason = ?1, retryable = 0, next_attempt_at = NULL, \
             updated_at = ?2 WHERE account_id = ?3 AND state IN ('queued', 'failed')",
            params![reason, now_ms(), account_id],
        )?)
    }

    pub fn mark_recorded(&self, id: &str, points: i64) -> Result<(), ClientError> {
        self.conn().execute(
            "UPDATE outbox SET recorded_at = ?1, points = ?2, refused = NULL WHERE id = ?3",
            params![now_ms(), points, id],
        )?;
        Ok(())
    }

    /// The server refused the share's record for good (its month closed, say): kept with the
    /// reason, never sent again. The post itself stays posted.
    pub fn mark_refused(&self, id: &str, reason: &str) -> Result<(), ClientError> {
        self.conn().execute(
            "UPDATE outbox SET recorded_at = ?1, points = 0, refused = ?2 WHERE id = ?3",
            params![now_ms(), reason, id],
        )?;
        Ok(())
    }

    /// Posted shares the server has not acknowledged yet.
    pub fn unrecorded(&self) -> Result<Vec<Share>, ClientError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE state = 'posted' AND recorded_at IS NULL ORDER BY posted_at"
        ))?;
        let rows = stmt.query_map([], share)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the next share falls due, if any is waiting.
    pub fn next_due(&self) -> Result<Option<i64>, ClientError> {
        Ok(self.conn().query_row(
            "SELECT MIN(MAX(COALESCE(scheduled_at, 0), COALESCE(next_attempt_at, 0))) FROM outbox \
             WHERE state = 'queued' OR (state = 'failed' AND retryable = 1)",
            [],
            |r| r.get(0),
        )?)
    }
}
