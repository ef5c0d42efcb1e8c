//! The share recorder: records that arrive together are written in one transaction.
//!
//! Each record still gets its own checks, lock, row and ledger line in that transaction; what
//! the batch shares is the transaction itself and the running totals (per person, team and
//! item), summed in memory and written with one statement per table. On SQLite, where one
//! connection does every write, a record then costs a few statements instead of a dozen; on
//! PostgreSQL the hot rows (a team's totals) are locked once per batch instead of once per
//! record. A single device's record is a batch of one.
//!
//! No request waits on a background task: the first request that finds the recorder idle
//! spawns the writer, which drains what is queued and ends. People are locked in id order and
//! totals rows in key order, so two server instances' batches cannot deadlock.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use relay_protocol::{NewShareRecord, PointsRules, ShareRecord};
use sqlx::AnyConnection;
use tokio::sync::oneshot;

use crate::app::AppState;
use crate::db::{new_id, to_time};
use crate::error::ApiError;
use crate::programme::calendar::{Calendar, Month};
use crate::programme::ledger::{self, Movement, Unscored, ALL_TIME};
use crate::programme::teams::{self, Member};

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
    // Summed per (org, person, period) and (org, item, month); members per person.
    let mut people: BTreeMap<(String, String, String), Movement> = BTreeMap::new();
    let mut items: BTreeMap<(String, String, String), Movement> = BTreeMap::new();
    let mut members: BTreeMap<String, Member> = BTreeMap::new();
    for r in records {
        let (member, unscored) = lock_and_count(&mut tx, r).await?;
        let points = match unscored {
            None => i64::from(r.rules.share_points(r.new.proof)),
            Some(_) => 0,
        };
        let id = new_id();
        let written = sqlx::query(
            "INSERT INTO shares (id, org_id, device_id, share_id, person_id, item_id, network, shared_at, \
             post_url, recorded_at, proof, post_id, link_code, month, day, scored, unscored, points) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
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
            let month = r.month.to_string();
            sqlx::query(
                "INSERT INTO points_ledger (org_id, person_id, month, share_id, reason, points, at) \
                 VALUES ($1, $2, $3, $4, 'share', $5, $6)",
            )
            .bind(&r.org_id)
            .bind(&r.person_id)
            .bind(&month)
            .bind(&id)
            .bind(points)
            .bind(r.now)
            .execute(&mut *tx)
            .await?;
            for period in [month.clone(), ALL_TIME.to_owned()] {
                add(
                    people
                        .entry((r.org_id.clone(), r.person_id.clone(), period))
                        .or_default(),
                    moved,
                );
            }
            add(
                items
                    .entry((r.org_id.clone(), r.new.item_id.clone(), month))
                    .or_default(),
                moved,
            );
            members.insert(r.person_id.clone(), member.clone());
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
    write_totals(&mut tx, &people, &items, &members).await?;
    tx.commit().await?;
    Ok(outcomes)
}

fn add(sum: &mut Movement, moved: Movement) {
    sum.points += moved.points;
    sum.verified += moved.verified;
    sum.declared += moved.declared;
    sum.clicks += moved.clicks;
}

/// The batch's totals: one upsert per table, rows in key order.
async fn write_totals(
    conn: &mut AnyConnection,
    people: &BTreeMap<(String, String, String), Movement>,
    items: &BTreeMap<(String, String, String), Movement>,
    members: &BTreeMap<String, Member>,
) -> Result<(), ApiError> {
    if people.is_empty() {
        return Ok(());
    }
    let values = |n: usize, width: usize| -> String {
        (0..n)
            .map(|i| {
                let cols: Vec<String> =
                    (1..=width).map(|c| format!("${}", i * width + c)).collect();
                format!("({})", cols.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sql = format!(
        "INSERT INTO points_totals (org_id, person_id, month, points, verified, declared, clicks) \
         VALUES {} ON CONFLICT (person_id, month) DO UPDATE SET \
         points = points_totals.points + excluded.points, \
         verified = points_totals.verified + excluded.verified, \
         declared = points_totals.declared + excluded.declared, \
         clicks = points_totals.clicks + excluded.clicks \
         RETURNING org_id, person_id, month, points",
        values(people.len(), 7)
    );
    let mut query = sqlx::query_as::<_, (String, String, String, i64)>(&sql);
    for ((org, person, period), m) in people {
        query = query
            .bind(org.clone())
            .bind(person.clone())
            .bind(period.clone())
            .bind(m.points)
            .bind(m.verified)
            .bind(m.declared)
            .bind(m.clicks);
    }
    let after = query.fetch_all(&mut *conn).await?;
    // Team changes from each person's totals before and after the batch.
    let mut changes: Vec<(String, Member, teams::Change)> = Vec::new();
    for (org, person, period, points) in after {
        let moved = people
            .get(&(org.clone(), person.clone(), period.clone()))
            .map_or(0, |m| m.points);
        if let Some(member) = members.get(&person) {
            changes.push((
                org,
                member.clone(),
                teams::Change::of(&period, points - moved, points),
            ));
        }
    }
    teams::apply_many(conn, &changes).await?;
    let sql = format!(
        "INSERT INTO item_totals (org_id, item_id, month, verified, declared, clicks) \
         VALUES {} ON CONFLICT (item_id, month) DO UPDATE SET \
         verified = item_totals.verified + excluded.verified, \
         declared = item_totals.declared + excluded.declared, \
         clicks = item_totals.clicks + excluded.clicks",
        values(items.len(), 6)
    );
    let mut query = sqlx::query(&sql);
    for ((org, item, month), m) in items {
        query = query
            .bind(org.clone())
            .bind(item.clone())
            .bind(month.clone())
            .bind(m.verified)
            .bind(m.declared)
            .bind(m.clicks);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}
