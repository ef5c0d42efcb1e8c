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

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use relay_protocol::{NewShareRecord, PointsRules, ShareRecord, ShareStatus};
use sqlx::AnyConnection;
use tokio::sync::oneshot;

use crate::db::Db;
use crate::db::{new_id, placeholders, to_time};
use crate::error::ApiError;
use crate::programme::calendar::{Calendar, Month};
use crate::programme::ledger::Member;
use crate::programme::ledger::{self, Movement, Unscored};

/// Records written in one transaction at most.
const MAX_BATCH: usize = 64;

/// A record checked against everything that needs no lock, ready to write.
pub struct Prepared {
    pub org_id: String,
    pub person_id: String,
    pub device_id: String,
    pub new: NewShareRecord,
    pub post_url: Option<String>,
    /// The post's identity (verified shares): recorded once per organisation.
    pub post_key: Option<String>,
    pub status: ShareStatus,
    pub status_reason: Option<&'static str>,
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
    /// Refused under the lock: the post is another record's.
    Refused(ApiError),
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
    pub async fn record(&self, db: &Db, record: Prepared) -> Result<Outcome, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.lock().push(Pending { record, reply });
        if !self.writing.swap(true, Ordering::AcqRel) {
            // Its own task: a request that goes away does not stop the others' batch.
            let (recorder, db) = (self.clone(), db.clone());
            tokio::spawn(async move { recorder.drain(&db).await });
        }
        answer
            .await
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("the share recorder stopped")))?
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn drain(&self, db: &Db) {
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
            write_batch(db, batch).await;
        }
    }
}

/// Writes a batch and answers each record. A database failure fails the whole batch (nothing of
/// it is written); devices retry.
async fn write_batch(db: &Db, mut batch: Vec<Pending>) {
    batch.sort_by(|a, b| a.record.person_id.cmp(&b.record.person_id));
    let records: Vec<&Prepared> = batch.iter().map(|p| &p.record).collect();
    let outcomes = write(db, &records).await;
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

/// What the batch's people have scored already: shares per person and day, and the items and
/// networks each scored. Read once for the whole batch, under the people's locks.
#[derive(Default)]
struct Scored {
    per_day: HashMap<(String, String), i64>,
    items: HashSet<(String, String, String)>,
}

impl Scored {
    async fn read(conn: &mut AnyConnection, records: &[&Prepared]) -> Result<Scored, ApiError> {
        let people: Vec<&str> = unique(records.iter().map(|r| r.person_id.as_str()));
        let days: Vec<&str> = unique(records.iter().map(|r| r.day.as_str()));
        let items: Vec<&str> = unique(records.iter().map(|r| r.new.item_id.as_str()));
        let mut scored = Scored::default();
        let sql = format!(
            "SELECT person_id, day, COUNT(*) FROM shares WHERE scored = 1 AND withdrawn_at IS NULL \
             AND person_id IN ({}) AND day IN ({}) GROUP BY person_id, day",
            placeholders(1, people.len()),
            placeholders(1 + people.len(), days.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, i64)>(&sql);
        for v in people.iter().chain(&days) {
            query = query.bind(*v);
        }
        for (person, day, n) in query.fetch_all(&mut *conn).await? {
            scored.per_day.insert((person, day), n);
        }
        let sql = format!(
            "SELECT person_id, item_id, network FROM shares WHERE scored = 1 AND withdrawn_at IS NULL \
             AND person_id IN ({}) AND item_id IN ({})",
            placeholders(1, people.len()),
            placeholders(1 + people.len(), items.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, String)>(&sql);
        for v in people.iter().chain(&items) {
            query = query.bind(*v);
        }
        scored.items.extend(query.fetch_all(&mut *conn).await?);
        Ok(scored)
    }

    /// Whether `r` scores, counting the records of the batch decided before it.
    fn decide(&mut self, r: &Prepared) -> Option<Unscored> {
        let item = (
            r.person_id.clone(),
            r.new.item_id.clone(),
            r.new.network.as_str().to_owned(),
        );
        let day = self
            .per_day
            .entry((r.person_id.clone(), r.day.clone()))
            .or_default();
        if self.items.contains(&item) {
            Some(Unscored::AlreadyScored)
        } else if *day >= i64::from(r.rules.daily_cap) {
            Some(Unscored::DailyCap)
        } else {
            *day += 1;
            self.items.insert(item);
            None
        }
    }
}

fn unique<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(*v)).collect()
}

/// Takes the locks of the batch's people, in id order (`records` are sorted by person), and
/// reads the teams each counts in. See [`ledger::lock_person`].
async fn lock_people(
    conn: &mut AnyConnection,
    records: &[&Prepared],
) -> Result<HashMap<String, Member>, ApiError> {
    let people: Vec<&str> = unique(records.iter().map(|r| r.person_id.as_str()));
    let sql = format!(
        "SELECT id, country, department, active FROM people WHERE id IN ({}) ORDER BY id{}",
        placeholders(1, people.len()),
        ledger::person_lock(conn)
    );
    let mut query = sqlx::query_as::<_, (String, String, String, i64)>(&sql);
    for p in &people {
        query = query.bind(*p);
    }
    Ok(query
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(id, country, department, active)| {
            (
                id,
                Member {
                    country,
                    department,
                    active,
                },
            )
        })
        .collect())
}

/// The posts of the batch already recorded: `(organisation, network, key)`.
async fn posts_held(
    conn: &mut AnyConnection,
    records: &[&Prepared],
) -> Result<HashSet<(String, String, String)>, ApiError> {
    let keys: Vec<&str> = unique(records.iter().filter_map(|r| r.post_key.as_deref()));
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = format!(
        "SELECT org_id, network, post_key FROM shares WHERE post_key IN ({})",
        placeholders(1, keys.len())
    );
    let mut query = sqlx::query_as::<_, (String, String, String)>(&sql);
    for k in &keys {
        query = query.bind(*k);
    }
    Ok(query.fetch_all(&mut *conn).await?.into_iter().collect())
}

/// The records of the batch the database already holds (a device's retry): `(device, share)`.
async fn existing(
    conn: &mut AnyConnection,
    records: &[&Prepared],
) -> Result<HashSet<(String, String)>, ApiError> {
    let devices: Vec<&str> = unique(records.iter().map(|r| r.device_id.as_str()));
    let shares: Vec<&str> = unique(records.iter().map(|r| r.new.share_id.as_str()));
    let sql = format!(
        "SELECT device_id, share_id FROM shares WHERE device_id IN ({}) AND share_id IN ({})",
        placeholders(1, devices.len()),
        placeholders(1 + devices.len(), shares.len())
    );
    let mut query = sqlx::query_as::<_, (String, String)>(&sql);
    for v in devices.iter().chain(&shares) {
        query = query.bind(*v);
    }
    Ok(query.fetch_all(&mut *conn).await?.into_iter().collect())
}

#[derive(sqlx::FromRow)]
struct LinkClicks {
    clicks: i64,
}

/// A record the batch writes, with what was decided for it.
struct New<'a> {
    r: &'a Prepared,
    id: String,
    /// How it counts now: none while pending (or rejected).
    counts_as: Option<relay_protocol::ShareProof>,
    unscored: Option<Unscored>,
    points: i64,
}

/// What a held record answers: the record itself, or a refusal.
enum Held {
    Record,
    PostTaken,
}

/// Columns of a share row as the recorder writes it.
const SHARE_INSERT: &str =
    "INSERT INTO shares (id, org_id, device_id, share_id, person_id, item_id, \
     network, shared_at, post_url, recorded_at, proof, post_id, link_code, month, day, scored, \
     unscored, points, reported_followers, status, status_reason, post_key, check_after, \
     counts_as) VALUES";
const SHARE_WIDTH: usize = 24;

/// Writes the batch: every person's lock, what they scored already and the records the
/// database holds already are read with one statement each; the new share rows and ledger lines
/// with one statement each; the totals with one per table. Then each record's answer.
async fn write(db: &Db, records: &[&Prepared]) -> Result<Vec<Outcome>, ApiError> {
    let mut tx = db.begin().await?;
    let members = lock_people(&mut tx, records).await?;
    let member = |person: &str| {
        members
            .get(person)
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a person left mid-record")))
    };
    let mut scored = Scored::read(&mut tx, records).await?;
    let mut known = existing(&mut tx, records).await?;
    let mut posts = posts_held(&mut tx, records).await?;
    // `Err`: held already (or earlier in this batch), answered after the writes.
    let mut decided: Vec<Result<New, Held>> = Vec::with_capacity(records.len());
    for r in records {
        if !known.insert((r.device_id.clone(), r.new.share_id.clone())) {
            decided.push(Err(Held::Record));
            continue;
        }
        if let Some(key) = &r.post_key {
            let post = (
                r.org_id.clone(),
                r.new.network.as_str().to_owned(),
                key.clone(),
            );
            if !posts.insert(post) {
                known.remove(&(r.device_id.clone(), r.new.share_id.clone()));
                decided.push(Err(Held::PostTaken));
                continue;
            }
        }
        let counts_as = r.rules.counts_as(r.status);
        let unscored = match (r.status_reason, counts_as) {
            (Some(_), _) => Some(Unscored::Retracted),
            // Pending: decided once the post is read (its own day counts then).
            (None, None) => None,
            (None, Some(_)) => scored.decide(r),
        };
        let points = match (unscored, counts_as) {
            (None, Some(proof)) => i64::from(r.rules.share_points(proof)),
            _ => 0,
        };
        decided.push(Ok(New {
            r,
            id: new_id(),
            counts_as,
            unscored,
            points,
        }));
    }
    let new: Vec<&New> = decided.iter().filter_map(|d| d.as_ref().ok()).collect();
    if !new.is_empty() {
        let sql = format!(
            "{SHARE_INSERT} {}",
            crate::db::values(new.len(), SHARE_WIDTH)
        );
        let mut query = sqlx::query(&sql);
        for n in &new {
            let r = n.r;
            query = query
                .bind(&n.id)
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
                .bind(i64::from(n.counts_as.is_some() && n.unscored.is_none()))
                .bind(n.unscored.map(Unscored::as_str))
                .bind(n.points)
                .bind(r.new.followers.map(|f| f as i64))
                .bind(r.status.as_str())
                .bind(r.status_reason)
                .bind(&r.post_key)
                .bind((r.status == ShareStatus::Pending).then_some(r.now))
                .bind(n.counts_as.map(|p| p.as_str()));
        }
        query.execute(&mut *tx).await?;
        // The people's attributes for the month, fixed at their first share in it.
        let mut by_month: HashMap<String, Vec<&str>> = HashMap::new();
        for n in &new {
            let people = by_month.entry(n.r.month.to_string()).or_default();
            if !people.contains(&n.r.person_id.as_str()) {
                people.push(&n.r.person_id);
            }
        }
        for (month, people) in by_month {
            crate::analytics::members::fix(&mut tx, &month, &people).await?;
        }
        // And the items' channel and language, at their first share in it.
        let mut items: HashMap<String, Vec<&str>> = HashMap::new();
        for n in &new {
            let list = items.entry(n.r.month.to_string()).or_default();
            if !list.contains(&n.r.new.item_id.as_str()) {
                list.push(&n.r.new.item_id);
            }
        }
        for (month, list) in items {
            crate::analytics::members::fix_items(&mut tx, &month, &list).await?;
        }
    }
    let mut totals = ledger::Totals::default();
    let mut lines = Vec::new();
    for n in new.iter().filter(|n| n.unscored.is_none()) {
        let Some(proof) = n.counts_as else { continue };
        let r = n.r;
        let entry = ledger::Entry {
            org_id: &r.org_id,
            person_id: &r.person_id,
            member: member(&r.person_id)?,
            item_id: &r.new.item_id,
            share_id: &n.id,
            month: r.month,
            reason: "share",
        };
        let moved = Movement::share(proof, n.points);
        lines.push((entry, moved));
        totals.add(&entry, moved);
    }
    ledger::lines(&mut tx, &lines).await?;

    let mut outcomes = Vec::with_capacity(records.len());
    for (r, decided) in records.iter().zip(&decided) {
        let n = match decided {
            Ok(n) => n,
            Err(Held::PostTaken) => {
                outcomes.push(Outcome::Refused(ApiError::Conflict(
                    "this post was already recorded (a post counts once)".into(),
                )));
                continue;
            }
            Err(Held::Record) => {
                let held = super::find_record(&mut tx, &r.device_id, &r.new.share_id)
                    .await?
                    .ok_or_else(|| {
                        ApiError::Internal(anyhow::anyhow!("a share conflicts but is gone"))
                    })?;
                outcomes.push(Outcome::Exists(held));
                continue;
            }
        };
        let mut total_points = n.points;
        // Clicks the link had before the record arrived count for it now.
        if let (None, Some(_), Some(code)) = (n.unscored, n.counts_as, &r.new.link_code) {
            let member = member(&r.person_id)?;
            let link: Option<LinkClicks> =
                sqlx::query_as("SELECT clicks FROM links WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(link) = link.filter(|l| l.clicks > 0) {
                if let Some(share) = ledger::linked_share(&mut tx, code).await? {
                    total_points +=
                        ledger::credit_clicks(&mut tx, &share, member, link.clicks, &r.calendar)
                            .await?;
                }
            }
        }
        outcomes.push(Outcome::Created(ShareRecord {
            id: n.id.clone(),
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
            unscored: n.unscored.map(|u| u.as_str().to_owned()),
            withdrawn_at: None,
            status: r.status,
            status_reason: r.status_reason.map(str::to_owned),
        }));
    }
    totals.write(&mut tx).await?;
    tx.commit().await?;
    Ok(outcomes)
}
