//! Shares the server confirms: a Bluesky or Mastodon post counts as verified only once the
//! server itself has read it where anyone may (through the sources' fetch guard: public
//! addresses only, timeouts, size limits), found it public, on an account that is not another
//! person's, made when the share says and carrying the person's own tracked link. Until then the
//! share is pending; one that cannot be read before its month closes counts as declared. The
//! same task reads confirmed posts again until the month closes, and withdraws the deleted ones
//! (share-then-delete does not pay).
//!
//! Several instances may run it: a row is claimed by moving its `check_after` first, and its
//! outcome is written under the person's lock only while it still stands where it was read.

pub mod bluesky;
pub mod judge;
pub mod mastodon;
pub mod settings;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use relay_protocol::{Network, ShareStatus};
use sqlx::AnyConnection;

use crate::db::{now_ms, to_time};
use crate::error::ApiError;
use crate::programme::calendar::{Calendar, Month};
use crate::programme::ledger::{self, Movement};
use crate::state::AppState;
use judge::{Claim, Post, ReadError, Verdict};
pub use settings::ConfirmConfig;

/// Posts read at once.
const READS_AT_ONCE: usize = 8;
/// Rows looked at per round.
const BATCH: i64 = 64;
/// The last reading before a month closes happens this long before it.
const FINAL_READ: chrono::Duration = chrono::Duration::hours(1);
/// A claimed row waits this long before another instance may take it (a read in progress).
const CLAIM_MS: i64 = 120_000;

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(state.config.confirm.every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stop = state.shutdown.signalled();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = &mut stop => return,
            }
            if let Err(err) = tick(&state).await {
                tracing::warn!(error = %err, "confirming shares failed");
            }
        }
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Due {
    id: String,
    org_id: String,
    person_id: String,
    item_id: String,
    network: String,
    status: String,
    post_id: Option<String>,
    post_key: Option<String>,
    link_code: Option<String>,
    shared_at: i64,
    month: String,
    day: String,
    check_after: i64,
    check_failures: i64,
}

const DUE_COLUMNS: &str = "id, org_id, person_id, item_id, network, status, post_id, post_key, \
    link_code, shared_at, month, day, check_after, check_failures";

/// Reads the posts due and writes what they say. Answers how many rows it looked at.
pub async fn tick(state: &AppState) -> Result<usize, ApiError> {
    let now = now_ms();
    let due: Vec<Due> = sqlx::query_as(&format!(
        "SELECT {DUE_COLUMNS} FROM shares WHERE check_after IS NOT NULL AND check_after <= $1 \
         ORDER BY check_after LIMIT {BATCH}"
    ))
    .bind(now)
    .fetch_all(&state.db.read)
    .await?;
    let mut claimed = Vec::with_capacity(due.len());
    for row in due {
        let taken =
            sqlx::query("UPDATE shares SET check_after = $1 WHERE id = $2 AND check_after = $3")
                .bind(now + CLAIM_MS)
                .bind(&row.id)
                .bind(row.check_after)
                .execute(&state.db.write)
                .await?
                .rows_affected()
                == 1;
        if taken {
            claimed.push(row);
        }
    }
    let count = claimed.len();
    futures::stream::iter(claimed)
        .for_each_concurrent(READS_AT_ONCE, |row| async move {
            if let Err(err) = look(state, &row).await {
                tracing::warn!(error = %err, share = %row.id, "a post's check failed");
            }
        })
        .await;
    Ok(count)
}

/// Reads one post and writes what it says.
async fn look(state: &AppState, row: &Due) -> Result<(), ApiError> {
    let read = read(state, row).await;
    let status: ShareStatus = row
        .status
        .parse()
        .map_err(|e: relay_protocol::UnknownVariant| ApiError::Internal(e.into()))?;
    let calendar = {
        let mut conn = state.db.read.acquire().await?;
        crate::programme::calendar::calendar_of(&mut conn, state.config.month_grace, &row.org_id)
            .await?
    };
    let month = Month::parse(&row.month)?;
    let closes_at = calendar.closes_at(month);
    match (status, read) {
        (ShareStatus::Pending, Ok(post)) => {
            let verdict = judge_post(state, row, &post).await?;
            settle(state, row, verdict, Some(&post), &calendar).await
        }
        (ShareStatus::Pending, Err(ReadError::NotFound)) => {
            let verdict =
                Verdict::Rejected("the post is not there (deleted, or never made)".into());
            settle(state, row, verdict, None, &calendar).await
        }
        (ShareStatus::Pending, Err(ReadError::Unreadable(why))) => {
            if Utc::now() >= closes_at - FINAL_READ {
                let verdict = Verdict::Declared(format!(
                    "the post could not be read before the month closed ({why})"
                ));
                settle(state, row, verdict, None, &calendar).await
            } else {
                retry_later(state, row, closes_at - FINAL_READ, &why).await
            }
        }
        (ShareStatus::Confirmed, Ok(_)) => {
            sqlx::query("UPDATE shares SET check_after = $1, check_failures = 0 WHERE id = $2")
                .bind(next_reading(state, Utc::now(), closes_at))
                .bind(&row.id)
                .execute(&state.db.write)
                .await?;
            Ok(())
        }
        (ShareStatus::Confirmed, Err(ReadError::NotFound)) => {
            if calendar.is_closed(month, Utc::now()) {
                return stop_reading(state, row).await;
            }
            let mut tx = state.db.begin().await?;
            let member = ledger::lock_person(&mut tx, &row.person_id).await?;
            crate::programme::recheck::withdraw_in(
                &mut tx,
                &row.org_id,
                &row.id,
                &member,
                Some("the post was deleted"),
            )
            .await?;
            tx.commit().await?;
            state.events.programme_moved(&row.org_id);
            Ok(())
        }
        (ShareStatus::Confirmed, Err(ReadError::Unreadable(why))) => {
            retry_later(state, row, closes_at - FINAL_READ, &why).await
        }
        // Settled meanwhile: nothing more to read.
        _ => stop_reading(state, row).await,
    }
}

async fn read(state: &AppState, row: &Due) -> Result<Post, ReadError> {
    let network: Network = row
        .network
        .parse()
        .map_err(|e: relay_protocol::UnknownVariant| ReadError::Unreadable(e.to_string()))?;
    match network {
        Network::Bluesky => bluesky::read(state, row.post_id.as_deref().unwrap_or_default()).await,
        Network::Mastodon => {
            let (host, id) = row
                .post_key
                .as_deref()
                .and_then(|k| k.rsplit_once('/'))
                .ok_or_else(|| ReadError::Unreadable("no status to read".into()))?;
            mastodon::read(state, host, id).await
        }
        _ => Err(ReadError::Unreadable(
            "the server cannot read this network's posts".into(),
        )),
    }
}

async fn stop_reading(state: &AppState, row: &Due) -> Result<(), ApiError> {
    sqlx::query("UPDATE shares SET check_after = NULL WHERE id = $1")
        .bind(&row.id)
        .execute(&state.db.write)
        .await?;
    Ok(())
}

/// The next attempt after a failed read: a doubling wait, never after `last`.
async fn retry_later(
    state: &AppState,
    row: &Due,
    last: DateTime<Utc>,
    why: &str,
) -> Result<(), ApiError> {
    let first = state.config.confirm.retry_after.as_millis() as i64;
    let wait = first
        .saturating_mul(1 << row.check_failures.clamp(0, 10))
        .min(3_600_000);
    let next = (now_ms() + wait).min(last.timestamp_millis().max(now_ms() + first));
    tracing::debug!(share = %row.id, %why, "a post could not be read; trying again");
    sqlx::query(
        "UPDATE shares SET check_after = $1, check_failures = check_failures + 1 WHERE id = $2",
    )
    .bind(next)
    .bind(&row.id)
    .execute(&state.db.write)
    .await?;
    Ok(())
}

/// When a confirmed post is read next: after the configured wait, with a last reading shortly
/// before its month closes; none after that.
fn next_reading(state: &AppState, now: DateTime<Utc>, closes_at: DateTime<Utc>) -> Option<i64> {
    let last = closes_at - FINAL_READ;
    if now >= last {
        return None;
    }
    let every = chrono::Duration::from_std(state.config.confirm.recheck_every)
        .unwrap_or(chrono::Duration::hours(12));
    Some((now + every).min(last).timestamp_millis())
}

#[derive(sqlx::FromRow)]
struct ItemFacts {
    url: String,
    published_at: Option<i64>,
}

/// The verdict on a pending share's post, with what the database knows of the item, the
/// person's link and the account.
async fn judge_post(state: &AppState, row: &Due, post: &Post) -> Result<Verdict, ApiError> {
    let mut conn = state.db.read.acquire().await?;
    let item: ItemFacts = sqlx::query_as("SELECT url, published_at FROM items WHERE id = $1")
        .bind(&row.item_id)
        .fetch_one(&mut *conn)
        .await?;
    let code: Option<String> = match &row.link_code {
        Some(code) => Some(code.clone()),
        None => {
            sqlx::query_scalar(
                "SELECT code FROM links WHERE person_id = $1 AND item_id = $2 AND network = $3",
            )
            .bind(&row.person_id)
            .bind(&row.item_id)
            .bind(&row.network)
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    let link = code.map(|c| format!("{}/l/{c}", state.config.public_url.trim_end_matches('/')));
    let bound_to = bound_to(&mut conn, row, &post.account_key).await?;
    Ok(judge::judge(
        &Claim {
            person_id: &row.person_id,
            shared_at: to_time(row.shared_at),
            item_published_at: item.published_at.map(to_time),
            tracked_link: link.as_deref(),
            item_url: &item.url,
            bound_to: bound_to.as_deref(),
        },
        post,
    ))
}

async fn bound_to(
    conn: &mut AnyConnection,
    row: &Due,
    account_key: &str,
) -> Result<Option<String>, ApiError> {
    Ok(sqlx::query_scalar(
        "SELECT person_id FROM social_accounts WHERE org_id = $1 AND network = $2 AND account_key = $3",
    )
    .bind(&row.org_id)
    .bind(&row.network)
    .bind(account_key)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Writes a pending share's verdict in its own transaction.
async fn settle(
    state: &AppState,
    row: &Due,
    verdict: Verdict,
    post: Option<&Post>,
    calendar: &Calendar,
) -> Result<(), ApiError> {
    let mut tx = state.db.begin().await?;
    let moved = settle_in(state, &mut tx, row, verdict, post, calendar, false).await?;
    tx.commit().await?;
    if moved {
        state.events.programme_moved(&row.org_id);
    }
    Ok(())
}

/// Writes a pending share's verdict: its status, and its points when it scores. Under the
/// person's lock, and only if the share is still pending. After its month closed a share
/// scores nothing (the month's figures are final) unless `closing` (the draw's freeze settles
/// the month's last pending shares). Answers whether points moved.
async fn settle_in(
    state: &AppState,
    conn: &mut AnyConnection,
    row: &Due,
    mut verdict: Verdict,
    post: Option<&Post>,
    calendar: &Calendar,
    closing: bool,
) -> Result<bool, ApiError> {
    let member = ledger::lock_person(conn, &row.person_id).await?;
    let still: Option<String> = sqlx::query_scalar("SELECT status FROM shares WHERE id = $1")
        .bind(&row.id)
        .fetch_optional(&mut *conn)
        .await?;
    if still.as_deref() != Some(ShareStatus::Pending.as_str()) {
        return Ok(false);
    }
    if let (Verdict::Confirmed { bind: true }, Some(post)) = (&verdict, post) {
        sqlx::query(
            "INSERT INTO social_accounts (org_id, network, account_key, person_id, bound_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&row.org_id)
        .bind(&row.network)
        .bind(&post.account_key)
        .bind(&row.person_id)
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
        // Another person's post with their link may have bound it first.
        if bound_to(conn, row, &post.account_key).await?.as_deref() != Some(&row.person_id) {
            verdict = Verdict::Rejected(
                "this account belongs to another person of the organisation".into(),
            );
        }
    }
    let month = Month::parse(&row.month)?;
    let closes_at = calendar.closes_at(month);
    let open = closing || !calendar.is_closed(month, Utc::now());
    let rules = crate::programme::rules_cache::rules_for(conn, &row.org_id, month).await?;
    let (status, reason, day) = match &verdict {
        Verdict::Confirmed { .. } => (
            ShareStatus::Confirmed,
            None,
            // A confirmed post's day is its own, read by the server.
            post.map_or(row.day.clone(), |p| calendar.day_of(p.created_at)),
        ),
        Verdict::Declared(why) => (ShareStatus::Declared, Some(why.clone()), row.day.clone()),
        Verdict::Rejected(why) => (ShareStatus::Rejected, Some(why.clone()), row.day.clone()),
    };
    let counts_as = rules.counts_as(status).filter(|_| open);
    let unscored = match counts_as {
        Some(_) => {
            ledger::decide(
                conn,
                &row.person_id,
                &day,
                &row.item_id,
                &row.network,
                rules.daily_cap,
            )
            .await?
        }
        None => None,
    };
    let scores = counts_as.filter(|_| unscored.is_none());
    let points = scores.map_or(0, |proof| i64::from(rules.share_points(proof)));
    let confirmed = status == ShareStatus::Confirmed;
    sqlx::query(
        "UPDATE shares SET status = $1, status_reason = $2, account_key = $3, post_created_at = $4, \
         followers = $5, day = $6, scored = $7, unscored = $8, points = $9, check_after = $10, \
         check_failures = 0, counts_as = $11 WHERE id = $12 AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(reason)
    .bind(post.filter(|_| confirmed).map(|p| p.account_key.clone()))
    .bind(post.map(|p| p.created_at.timestamp_millis()))
    .bind(
        post.filter(|_| confirmed)
            .and_then(|p| p.followers)
            .map(|f| i64::try_from(f).unwrap_or(i64::MAX)),
    )
    .bind(&day)
    .bind(i64::from(scores.is_some()))
    .bind(unscored.map(ledger::Unscored::as_str))
    .bind(points)
    .bind(if confirmed && open {
        next_reading(state, Utc::now(), closes_at)
    } else {
        None
    })
    .bind(counts_as.map(|p| p.as_str()))
    .bind(&row.id)
    .execute(&mut *conn)
    .await?;
    let Some(proof) = scores else {
        return Ok(false);
    };
    let entry = ledger::Entry {
        org_id: &row.org_id,
        person_id: &row.person_id,
        member: &member,
        item_id: &row.item_id,
        share_id: &row.id,
        month,
        reason: "share",
    };
    ledger::write(conn, entry, Movement::share(proof, points)).await?;
    // Clicks the link had while the share was pending count for it now.
    if let Some(code) = &row.link_code {
        let clicks: Option<i64> = sqlx::query_scalar("SELECT clicks FROM links WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *conn)
            .await?;
        if clicks.is_some_and(|c| c > 0) {
            if let Some(share) = ledger::linked_share(conn, code).await? {
                ledger::credit_clicks(conn, &share, &member, clicks.unwrap_or(0), calendar).await?;
            }
        }
    }
    Ok(true)
}

/// Settles the month's shares still pending as declared: called as the month closes (the draw's
/// freeze), so that its totals are final.
pub async fn settle_month(
    state: &AppState,
    conn: &mut AnyConnection,
    org_id: &str,
    month: Month,
) -> Result<usize, ApiError> {
    let pending: Vec<Due> = sqlx::query_as(&format!(
        "SELECT {DUE_COLUMNS} FROM shares WHERE org_id = $1 AND month = $2 AND status = 'pending'"
    ))
    .bind(org_id)
    .bind(month.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let calendar =
        crate::programme::calendar::calendar_of(conn, state.config.month_grace, org_id).await?;
    for row in &pending {
        let verdict =
            Verdict::Declared("the post could not be read before the month closed".into());
        settle_in(state, conn, row, verdict, None, &calendar, true).await?;
    }
    Ok(pending.len())
}
