//! The points ledger: every point given, written in the same transaction as what earned it,
//! with running totals per person (month and all time) and per item. Nothing here scans shares
//! to recompute points.

use std::collections::BTreeMap;

use relay_protocol::ShareProof;
use sqlx::AnyConnection;

use super::calendar::Month;
use crate::db::now_ms;
use crate::error::ApiError;

/// All-time totals are kept under this month.
pub const ALL_TIME: &str = "*";

/// Why a share earned no share points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unscored {
    /// The person already scored this item on this network.
    AlreadyScored,
    /// The person reached the day's cap of scored shares.
    DailyCap,
    /// The item was retracted or had expired before the share.
    Retracted,
}

impl Unscored {
    pub fn as_str(self) -> &'static str {
        match self {
            Unscored::AlreadyScored => "already_scored",
            Unscored::DailyCap => "daily_cap",
            Unscored::Retracted => "retracted",
        }
    }
}

/// The groups a person counts in, read under their lock.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Member {
    pub country: String,
    pub department: String,
    pub active: i64,
}

/// Takes the person's lock for the rest of the transaction and reads the teams they count in.
/// Concurrent records of one person are serialised, so two of them cannot both pass the daily
/// cap, and a move between teams cannot interleave with a record. On PostgreSQL it is the row
/// lock of the person; SQLite has one writer (the write pool's single connection) anyway.
pub async fn lock_person(conn: &mut AnyConnection, person_id: &str) -> Result<Member, ApiError> {
    Ok(sqlx::query_as(&format!(
        "SELECT country, department, active FROM people WHERE id = $1{}",
        person_lock(conn)
    ))
    .bind(person_id)
    .fetch_one(&mut *conn)
    .await?)
}

/// The clause that locks a person's row for the transaction: on PostgreSQL the row lock an
/// update of the person takes too (it does not block rows referencing the person); nothing on
/// SQLite, whose single writer serialises every write transaction.
pub fn person_lock(conn: &AnyConnection) -> &'static str {
    match crate::db::Backend::of(conn) {
        crate::db::Backend::Postgres => " FOR NO KEY UPDATE",
        crate::db::Backend::Sqlite => "",
    }
}

/// Whether one share of `person_id` (on `day`, of `item_id` on `network`) scores, counting what
/// they scored already: one scored share per item and network, at most `daily_cap` a day. Call
/// under the person's lock ([`lock_person`]).
pub async fn decide(
    conn: &mut AnyConnection,
    person_id: &str,
    day: &str,
    item_id: &str,
    network: &str,
    daily_cap: u32,
) -> Result<Option<Unscored>, ApiError> {
    let (same_item, that_day): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN item_id = $2 AND network = $3 THEN 1 ELSE 0 END), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN day = $4 THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM shares WHERE person_id = $1 AND scored = 1 AND withdrawn_at IS NULL \
         AND ((item_id = $2 AND network = $3) OR day = $4)",
    )
    .bind(person_id)
    .bind(item_id)
    .bind(network)
    .bind(day)
    .fetch_one(&mut *conn)
    .await?;
    Ok(if same_item > 0 {
        Some(Unscored::AlreadyScored)
    } else if that_day >= i64::from(daily_cap) {
        Some(Unscored::DailyCap)
    } else {
        None
    })
}

/// What a ledger line moves in the totals.
#[derive(Debug, Clone, Copy, Default)]
pub struct Movement {
    pub points: i64,
    pub verified: i64,
    pub declared: i64,
    pub clicks: i64,
}

impl Movement {
    fn add(&mut self, moved: Movement) {
        self.points += moved.points;
        self.verified += moved.verified;
        self.declared += moved.declared;
        self.clicks += moved.clicks;
    }

    pub fn share(proof: ShareProof, points: i64) -> Movement {
        Movement {
            points,
            verified: i64::from(proof == ShareProof::Verified),
            declared: i64::from(proof == ShareProof::Declared),
            clicks: 0,
        }
    }
}

/// One scoring event of a share: the ledger line, the person's month and all-time totals, their
/// teams' totals, and the item's month totals.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub org_id: &'a str,
    pub person_id: &'a str,
    /// The person's teams, as `lock_person` read them.
    pub member: &'a Member,
    pub item_id: &'a str,
    pub share_id: &'a str,
    pub month: Month,
    pub reason: &'a str,
}

/// Writes one scoring event: its ledger line and the totals it moves.
pub async fn write(
    conn: &mut AnyConnection,
    entry: Entry<'_>,
    moved: Movement,
) -> Result<(), ApiError> {
    line(conn, &entry, moved).await?;
    let mut totals = Totals::default();
    totals.add(&entry, moved);
    totals.write(conn).await
}

/// The ledger lines of several scoring events, with one statement (none for those that move no
/// points).
pub async fn lines(
    conn: &mut AnyConnection,
    events: &[(Entry<'_>, Movement)],
) -> Result<(), ApiError> {
    let moving: Vec<&(Entry<'_>, Movement)> =
        events.iter().filter(|(_, m)| m.points != 0).collect();
    if moving.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO points_ledger (org_id, person_id, month, share_id, reason, points, at) VALUES {}",
        crate::db::values(moving.len(), 7)
    );
    let at = now_ms();
    let mut query = sqlx::query(&sql);
    for (entry, moved) in moving {
        query = query
            .bind(entry.org_id)
            .bind(entry.person_id)
            .bind(entry.month.to_string())
            .bind(entry.share_id)
            .bind(entry.reason)
            .bind(moved.points)
            .bind(at);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// The ledger line of a scoring event (none when it moves no points).
pub async fn line(
    conn: &mut AnyConnection,
    entry: &Entry<'_>,
    moved: Movement,
) -> Result<(), ApiError> {
    if moved.points == 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO points_ledger (org_id, person_id, month, share_id, reason, points, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(entry.org_id)
    .bind(entry.person_id)
    .bind(entry.month.to_string())
    .bind(entry.share_id)
    .bind(entry.reason)
    .bind(moved.points)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The totals scoring events move (per person and period, per item and month, and the
/// persons' teams), summed in memory and written with one upsert per table, rows in key order
/// so concurrent writers lock them in the same order.
#[derive(Default)]
pub struct Totals {
    people: BTreeMap<(String, String, String), Movement>,
    items: BTreeMap<(String, String, String), Movement>,
}

impl Totals {
    pub fn add(&mut self, entry: &Entry<'_>, moved: Movement) {
        let month = entry.month.to_string();
        for period in [month.clone(), ALL_TIME.to_owned()] {
            self.people
                .entry((entry.org_id.to_owned(), entry.person_id.to_owned(), period))
                .or_default()
                .add(moved);
        }
        self.items
            .entry((entry.org_id.to_owned(), entry.item_id.to_owned(), month))
            .or_default()
            .add(moved);
    }

    pub async fn write(&self, conn: &mut AnyConnection) -> Result<(), ApiError> {
        if self.people.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO points_totals (org_id, person_id, month, points, verified, declared, clicks) \
             VALUES {} ON CONFLICT (person_id, month) DO UPDATE SET \
             points = points_totals.points + excluded.points, \
             verified = points_totals.verified + excluded.verified, \
             declared = points_totals.declared + excluded.declared, \
             clicks = points_totals.clicks + excluded.clicks",
            crate::db::values(self.people.len(), 7)
        );
        let mut query = sqlx::query(&sql);
        for ((org, person, period), m) in &self.people {
            query = query
                .bind(org.clone())
                .bind(person.clone())
                .bind(period.clone())
                .bind(m.points)
                .bind(m.verified)
                .bind(m.declared)
                .bind(m.clicks);
        }
        query.execute(&mut *conn).await?;
        // The month's team boards group scorers as they were at their first points in it.
        let mut by_month: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (_, person, period) in self.people.keys() {
            if period != ALL_TIME {
                by_month.entry(period).or_default().push(person);
            }
        }
        for (month, people) in by_month {
            crate::analytics::members::fix(conn, month, &people).await?;
        }
        let sql = format!(
            "INSERT INTO item_totals (org_id, item_id, month, verified, declared, clicks) \
             VALUES {} ON CONFLICT (item_id, month) DO UPDATE SET \
             verified = item_totals.verified + excluded.verified, \
             declared = item_totals.declared + excluded.declared, \
             clicks = item_totals.clicks + excluded.clicks",
            crate::db::values(self.items.len(), 6)
        );
        let mut query = sqlx::query(&sql);
        for ((org, item, month), m) in &self.items {
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
}

/// The scored, standing share a tracked link was shared with, if any.
#[derive(Debug, sqlx::FromRow)]
pub struct LinkedShare {
    pub id: String,
    pub org_id: String,
    pub person_id: String,
    pub item_id: String,
    pub month: String,
    pub clicks: i64,
}

pub async fn linked_share(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<LinkedShare>, ApiError> {
    Ok(sqlx::query_as(
        "SELECT id, org_id, person_id, item_id, month, clicks FROM shares \
         WHERE link_code = $1 AND scored = 1 AND withdrawn_at IS NULL ORDER BY recorded_at LIMIT 1",
    )
    .bind(code)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Credits `clicks` unique clicks to a share, within its rules' cap of click points per share,
/// unless its month has closed (the clicks are still counted on the link). Returns the points
/// given.
pub async fn credit_clicks(
    conn: &mut AnyConnection,
    share: &LinkedShare,
    member: &Member,
    clicks: i64,
    calendar: &super::calendar::Calendar,
) -> Result<i64, ApiError> {
    let month = Month::parse(&share.month)?;
    if clicks <= 0 || calendar.is_closed(month, chrono::Utc::now()) {
        return Ok(0);
    }
    let rules = super::rules_cache::rules_for(conn, &share.org_id, month).await?;
    // The cap counts click points, whatever a click is worth.
    let per_click = i64::from(rules.click);
    let credited = if per_click == 0 {
        0
    } else {
        let room = (i64::from(rules.click_cap) - share.clicks * per_click).max(0);
        clicks.min(room / per_click)
    };
    if credited == 0 {
        return Ok(0);
    }
    let points = credited * i64::from(rules.click);
    sqlx::query("UPDATE shares SET clicks = clicks + $1, points = points + $2 WHERE id = $3")
        .bind(credited)
        .bind(points)
        .bind(&share.id)
        .execute(&mut *conn)
        .await?;
    let entry = Entry {
        org_id: &share.org_id,
        person_id: &share.person_id,
        member,
        item_id: &share.item_id,
        share_id: &share.id,
        month,
        reason: "clicks",
    };
    let moved = Movement {
        points,
        clicks: credited,
        ..Movement::default()
    };
    write(conn, entry, moved).await?;
    Ok(points)
}
