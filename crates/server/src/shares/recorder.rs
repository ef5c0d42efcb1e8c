//! The share recorder: records that arrive together are written in one transaction.
//!
//! Each record still gets its own checks, lock, row and ledger line in that transaction; what
//! the batch shares is the transaction itself and the running totals (per person, team and
//! item: [`ledger::Totals`]), summed in memory and written with one statement per table. On SQLite, where one
//! connection does every write, a record then costs a few statements instead of a dozen; on
//! PostgreSQL the hot rows (a team's totals) are locked once per batch instead of once per
//! record. A single device's record is a batch of one.
//!
//! No request waits on a background task: the first request that finds the recorder idle
//! spawns the writer, which drains what is queued and ends. People are locked in id order and
//! totals rows in key order, so two server instances' batches cannot deadlock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use relay_protocol::{NewShareRecord, PointsRules, ShareRecord};
use sqlx::AnyConnection;
use tokio::sync::oneshot;

use crate::app::AppState;
use crate::db::{new_id, to_time};
use crate::error::ApiError;
use crate::programme::calendar::{Calendar, Month};
use crate::programme::ledger::{self, Movement, Unscored};
use crate::programme::teams::Member;

/// Records written in one transaction at most.
const MAX_BATCH: usize = 64;

/// A record checked against everything that needs no lock, ready to write.
pub struct Prepared {
    pub org_id: String,
    pub person_id: String,
    pub device_id: String,
    pub new: NewShareRecord,
    pub post_url: Option<String>,
    pub shared_at: i64,
    pub now: i64,
    pub month: Month,
    pub day: String,
    pub rules: PointsRules,
    pub calendar: Calendar,
}

/// What writing a record did.
pub enum Outcome {
    Created(ShareRecord),
    /// The device already recorded this share id (a retry racing its original).
    Exists(ShareRecord),
}

struct Pending {
    record: Prepared,
    reply: oneshot::Sender<Result<Outcome, ApiError>>,
}

/// The queue of records waiting for the writer, and whether a writer runs.
#[derive(Default, Clone)]
pub struct Recorder {
    queue: Arc<Mutex<Vec<Pending>>>,
    writing: Arc<AtomicBool>,
}

impl Recorder {
    /// Writes `record` with whatever else is waiting; answers once its transaction committed.
    pub async fn record(&self, state: &AppState, record: Prepared) -> Result<Outcome, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.lock().push(Pending { record, reply });
        if !self.writing.swap(true, Ordering::AcqRel) {
            // Its own task: a request that goes away does not stop the others' batch.
            let (recorder, state) = (self.clone(), state.clone());
            tokio::spawn(async move { recorder.drain(&state).await });
        }
        answer
            .await
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("the share recorder stopped")))?
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn drain(&self, state: &AppState) {
        loop {
            let batch: Vec<Pending> = {
                let mut queue = self.lock();
                let n = queue.len().min(MAX_BATCH);
                queue.drain(..n).collect()
            };
            if batch.is_empty() {
                self.writing.store(false, Ordering::Release);
                // A record queued after the look and before the flag went down: write it too,
                // unless another writer already took over.
                if self.lock().is_empty() || self.writing.swap(true, Ordering::AcqRel) {
                    return;
                }
                continue;
            }
            write_batch(state, batch).await;
        }
    }
}

/// Writes a batch and answers each record. A database failure fails the whole batch (nothing of
/// it is written); devices retry.
async fn write_batch(state: &AppState, mut batch: Vec<Pending>) {
    batch.sort_by(|a, b| a.record.person_id.cmp(&b.record.person_id));
    let records: Vec<&Prepared> = batch.iter().map(|p| &p.record).collect();
    let outcomes = write(state, &records).await;
    match outcomes {
        Ok(outcomes) => {
            for (pending, outcome) in batch.into_iter().zip(outcomes) {
                let _ = pending.reply.send(Ok(outcome));
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, records = batch.len(), "writing share records failed");
            for pending in batch {
                let _ = pending.reply.send(Err(ApiError::Internal(anyhow::anyhow!(
                    "recording the share failed; try again"
                ))));
            }
        }
    }
}

#[derive(sqlx::FromRow)]
struct Locked {
    country: String,
    department: String,
    active: i64,
    already: i64,
    today: i64,
}

/// The person's lock, their teams, and the two counts that decide whether the share scores.
async fn lock_and_count(
    conn: &mut AnyConnection,
    r: &Prepared,
) -> Result<(Member, Option<Unscored>), ApiError> {
    let locked: Locked = sqlx::query_as(&format!(
        "SELECT country, department, active, \
         (SELECT COUNT(*) FROM shares WHERE person_id = $1 AND item_id = $2 AND network = $3 \
          AND scored = 1 AND withdrawn_at IS NULL) AS already, \
         (SELECT COUNT(*) FROM shares WHERE person_id = $1 AND day = $4 AND scored = 1 \
          AND withdrawn_at IS NULL) AS today \
         FROM people WHERE id = $1{}",
        ledger::person_lock(conn)
    ))
    .bind(&r.person_id)
    .bind(&r.new.item_id)
    .bind(r.new.network.as_str())
    .bind(&r.day)
    .fetch_one(&mut *conn)
    .await?;
    let unscored = if locked.already > 0 {
        Some(Unscored::AlreadyScored)
    } else if locked.today >= i64::from(r.rules.daily_cap) {
        Some(Unscored::DailyCap)
    } else {
        None
    };
    let member = Member {
        country: locked.country,
        department: locked.department,
        active: locked.active,
    };
    Ok((member, unscored))
}

#[derive(sqlx::FromRow)]
struct LinkClicks {
    clicks: i64,
}

async fn write(state: &AppState, records: &[&Prepared]) -> Result<Vec<Outcome>, ApiError> {
    let mut tx = state.db.begin().await?;
    let mut outcomes = Vec::with_capacity(records.len());
    let mut totals = ledger::Totals::default();
    for r in records {
        let (member, unscored) = lock_and_count(&mut tx, r).await?;
        let points = match unscored {
            None => i64::from(r.rules.share_points(r.new.proof)),
            Some(_) => 0,
        };
        let id = new_id();
        let written = sqlx::query(
            "INSERT INTO shares (id, org_id, device_id, share_id, person_id, item_id, network, shared_at, \
             post_url, recorded_at, proof, post_id, link_code, month, day, scored, unscored, points, \
             followers) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
             ON CONFLICT (device_id, share_id) DO NOTHING",
        )
        .bind(&id)
        .bind(&r.org_id)
        .bind(&r.device_id)
        .bind(&r.new.share_id)
        .bind(&r.person_id)
        .bind(&r.new.item_id)
        .bind(r.new.network.as_str())
        .bind(r.shared_at)
        .bind(&r.post_url)
        .bind(r.now)
        .bind(r.new.proof.as_str())
        .bind(&r.new.post_id)
        .bind(&r.new.link_code)
        .bind(r.month.to_string())
        .bind(&r.day)
        .bind(i64::from(unscored.is_none()))
        .bind(unscored.map(Unscored::as_str))
        .bind(points)
        .bind(r.new.followers.map(|n| n as i64))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if written == 0 {
            let existing = super::find_record(&mut tx, &r.device_id, &r.new.share_id)
                .await?
                .ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("a share conflicts but is gone"))
                })?;
            outcomes.push(Outcome::Exists(existing));
            continue;
        }
        let mut total_points = points;
        if unscored.is_none() {
            let moved = Movement::share(r.new.proof, points);
            let entry = ledger::Entry {
                org_id: &r.org_id,
                person_id: &r.person_id,
                member: &member,
                item_id: &r.new.item_id,
                share_id: &id,
                month: r.month,
                reason: "share",
            };
            ledger::line(&mut tx, &entry, moved).await?;
            totals.add(&entry, moved);
            // Clicks the link had before the record arrived count for it now.
            if let Some(code) = &r.new.link_code {
                let link: Option<LinkClicks> =
                    sqlx::query_as("SELECT clicks FROM links WHERE code = $1")
                        .bind(code)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(link) = link.filter(|l| l.clicks > 0) {
                    if let Some(share) = ledger::linked_share(&mut tx, code).await? {
                        total_points += ledger::credit_clicks(
                            &mut tx,
                            &share,
                            &member,
                            link.clicks,
                            &r.calendar,
                        )
                        .await?;
                    }
                }
            }
        }
        outcomes.push(Outcome::Created(ShareRecord {
            id,
            device_id: r.device_id.clone(),
            share_id: r.new.share_id.clone(),
            person_id: r.person_id.clone(),
            item_id: r.new.item_id.clone(),
            network: r.new.network,
            shared_at: to_time(r.shared_at),
            post_url: r.post_url.clone(),
            recorded_at: to_time(r.now),
            proof: r.new.proof,
            month: r.month.to_string(),
            points: total_points,
            unscored: unscored.map(|u| u.as_str().to_owned()),
            withdrawn_at: None,
        }));
    }
    totals.write(&mut tx).await?;
    tx.commit().await?;
    Ok(outcomes)
}
