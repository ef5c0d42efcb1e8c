//! The boards' queries: the leaderboard, team boards from the month's publication, the top ten,
//! the caller's own figures, joining and leaving.

use std::collections::BTreeMap;

use relay_protocol::{
    Board, BoardEntry, MyProgramme, MyShare, TeamBoard, TeamEntry, TeamKind, TopItem, TopTen,
};
use sqlx::AnyConnection;

use super::{ranks, Period, BOARD_SIZE, MIN_TEAM};
use crate::analytics::publication::{self, Publication, TeamFigures};
use crate::auth::Caller;
use crate::db::{now_ms, to_time, Db};
use crate::error::ApiError;
use crate::programme::calendar::{Calendar, Month};
use crate::programme::ledger::ALL_TIME;
use crate::state::AppState;

#[derive(sqlx::FromRow)]
struct BoardRow {
    person_id: String,
    name: String,
    pseudonym: Option<String>,
    points: i64,
}

pub async fn board(
    conn: &mut AnyConnection,
    caller: &Caller,
    period: Period,
) -> Result<Board, ApiError> {
    let rows: Vec<BoardRow> = sqlx::query_as(
        "SELECT b.person_id, p.name, b.pseudonym, t.points FROM board_members b \
         JOIN people p ON p.id = b.person_id \
         JOIN points_totals t ON t.person_id = b.person_id AND t.month = $2 \
         WHERE b.org_id = $1 AND p.active = 1 AND t.points > 0 \
         ORDER BY t.points DESC, b.joined_at LIMIT $3",
    )
    .bind(&caller.org_id)
    .bind(period.key())
    .bind(BOARD_SIZE)
    .fetch_all(&mut *conn)
    .await?;
    let ranks = ranks(rows.iter().map(|r| r.points));
    Ok(Board {
        month: period.month(),
        entries: rows
            .into_iter()
            .zip(ranks)
            .map(|(r, rank)| BoardEntry {
                rank,
                you: r.person_id == caller.person_id,
                name: r.pseudonym.unwrap_or(r.name),
                points: r.points,
            })
            .collect(),
    })
}

pub async fn team_board(
    state: &AppState,
    conn: &mut AnyConnection,
    caller: &Caller,
    calendar: &Calendar,
    period: Period,
    by: TeamKind,
) -> Result<TeamBoard, ApiError> {
    let rows = match period {
        Period::Month(month) => {
            let publication = publication::of(state, &caller.org_id, calendar, month).await?;
            publication.teams(by).to_vec()
        }
        // The sum of the months' boards: each month's shown teams only (a team hidden in a
        // month adds nothing, or the total less the months shown would give it away).
        // `active` is then member-months: the average is per active member and month.
        Period::AllTime => {
            let months: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT month FROM points_totals WHERE org_id = $1 AND month <> $2",
            )
            .bind(&caller.org_id)
            .bind(ALL_TIME)
            .fetch_all(&mut *conn)
            .await?;
            let mut sums: BTreeMap<String, TeamFigures> = BTreeMap::new();
            for month in months {
                let month = Month::parse(&month)?;
                let publication = publication::of(state, &caller.org_id, calendar, month).await?;
                for t in publication.teams(by) {
                    let sum = sums.entry(t.team.clone()).or_insert_with(|| TeamFigures {
                        team: t.team.clone(),
                        active: 0,
                        points: 0,
                    });
                    sum.active += t.active;
                    sum.points += t.points;
                }
            }
            sums.into_values().collect()
        }
    };
    team_board_of(conn, caller, period, by, rows).await
}

/// A board of the teams shown, unless the organisation switched them off.
pub async fn team_board_of(
    conn: &mut AnyConnection,
    caller: &Caller,
    period: Period,
    by: TeamKind,
    mut rows: Vec<TeamFigures>,
) -> Result<TeamBoard, ApiError> {
    if !crate::programme::settings::read(conn, &caller.org_id)
        .await?
        .team_boards
    {
        rows.clear();
    }
    rows.retain(|r| r.active >= MIN_TEAM);
    let average = |r: &TeamFigures| r.points as f64 / r.active as f64;
    rows.sort_by(|a, b| average(b).total_cmp(&average(a)).then(a.team.cmp(&b.team)));
    let mine = match by {
        TeamKind::Country => &caller.country,
        TeamKind::Department => &caller.department,
    };
    let mut teams = Vec::with_capacity(rows.len());
    let mut previous: Option<f64> = None;
    let mut rank = 0;
    for (i, r) in rows.iter().enumerate() {
        let avg = (average(r) * 10.0).round() / 10.0;
        if previous != Some(avg) {
            rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
            previous = Some(avg);
        }
        teams.push(TeamEntry {
            rank,
            team: r.team.clone(),
            active_members: u32::try_from(r.active).unwrap_or(u32::MAX),
            average_points: avg,
            yours: &r.team == mine,
        });
    }
    Ok(TeamBoard {
        month: period.month(),
        by,
        teams,
    })
}

#[derive(sqlx::FromRow)]
struct TopRow {
    item_id: String,
    title: String,
    url: String,
    audience: String,
}

/// The month's ten most shared contents, ranked across the organisation. An employee is not
/// shown the titles of items that were not meant for them (their ranks stay, as gaps).
pub async fn top(
    conn: &mut AnyConnection,
    caller: &Caller,
    month: Month,
    publication: &Publication,
) -> Result<TopTen, ApiError> {
    let rows: Vec<TopRow> = sqlx::query_as(
        "SELECT t.item_id, i.title, i.url, i.audience \
         FROM item_totals t JOIN items i ON i.id = t.item_id \
         WHERE t.org_id = $1 AND t.month = $2 AND t.verified + t.declared > 0 \
         ORDER BY t.verified DESC, t.clicks DESC, t.declared DESC, t.item_id LIMIT 10",
    )
    .bind(&caller.org_id)
    .bind(month.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let curator = caller.role.includes(relay_protocol::Role::Curator);
    let mut items = Vec::new();
    for (i, r) in rows.into_iter().enumerate() {
        // The counts the month's publication shows for the item (the same as its content
        // breakdown's), or none: an item shared by few, or hidden so that another figure does
        // not give such an item away.
        let shown = publication.content(&r.item_id);
        let count = |n: Option<u64>| n.and_then(|n| i64::try_from(n).ok());
        let audience: relay_protocol::Audience = serde_json::from_str(&r.audience)?;
        if !curator && !audience.includes(&caller.country, &caller.language, &caller.department) {
            continue;
        }
        items.push(TopItem {
            rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
            item_id: r.item_id,
            title: r.title,
            url: r.url,
            verified_shares: shown.and_then(|g| count(g.verified)),
            declared_shares: shown.and_then(|g| count(g.declared)),
            clicks: shown.and_then(|g| count(g.clicks)),
        });
    }
    Ok(TopTen {
        month: month.to_string(),
        items,
    })
}

#[derive(sqlx::FromRow, Default)]
struct TotalsRow {
    points: i64,
    verified: i64,
    declared: i64,
    clicks: i64,
}

#[derive(sqlx::FromRow)]
struct MyShareRow {
    share_id: String,
    item_id: String,
    title: String,
    network: String,
    proof: String,
    shared_at: i64,
    points: i64,
    clicks: i64,
    unscored: Option<String>,
    status: String,
    status_reason: Option<String>,
}

async fn totals(
    conn: &mut AnyConnection,
    person_id: &str,
    period: &str,
) -> Result<TotalsRow, ApiError> {
    Ok(sqlx::query_as(
        "SELECT points, verified, declared, clicks FROM points_totals WHERE person_id = $1 AND month = $2",
    )
    .bind(person_id)
    .bind(period)
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or_default())
}

pub async fn my_programme(
    conn: &mut AnyConnection,
    caller: &Caller,
    calendar: &Calendar,
    month: Month,
) -> Result<MyProgramme, ApiError> {
    let key = month.to_string();
    let mine = totals(conn, &caller.person_id, &key).await?;
    let all_time = totals(conn, &caller.person_id, ALL_TIME).await?;
    let (ahead, ranked): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(CAST(SUM(CASE WHEN points > $3 THEN 1 ELSE 0 END) AS BIGINT), 0), COUNT(*) \
         FROM points_totals WHERE org_id = $1 AND month = $2 AND points > 0",
    )
    .bind(&caller.org_id)
    .bind(&key)
    .bind(mine.points)
    .fetch_one(&mut *conn)
    .await?;
    let member: Option<(Option<String>,)> =
        sqlx::query_as("SELECT pseudonym FROM board_members WHERE person_id = $1")
            .bind(&caller.person_id)
            .fetch_optional(&mut *conn)
            .await?;
    let rows: Vec<MyShareRow> = sqlx::query_as(
        "SELECT s.share_id, s.item_id, i.title, s.network, s.proof, s.shared_at, s.points, s.clicks, \
         s.unscored, s.status, s.status_reason FROM shares s JOIN items i ON i.id = s.item_id \
         WHERE s.person_id = $1 AND s.month = $2 AND s.withdrawn_at IS NULL \
         ORDER BY s.shared_at DESC LIMIT 500",
    )
    .bind(&caller.person_id)
    .bind(&key)
    .fetch_all(&mut *conn)
    .await?;
    let internal = |e: relay_protocol::UnknownVariant| ApiError::Internal(e.into());
    let shares = rows
        .into_iter()
        .map(|r| {
            Ok(MyShare {
                network: r.network.parse().map_err(internal)?,
                proof: r.proof.parse().map_err(internal)?,
                share_id: r.share_id,
                item_id: r.item_id,
                title: r.title,
                shared_at: to_time(r.shared_at),
                points: r.points,
                clicks: r.clicks,
                unscored: r.unscored,
                status: r.status.parse().map_err(internal)?,
                status_reason: r.status_reason,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(MyProgramme {
        month: calendar.info(month),
        rules: crate::programme::rules_cache::rules_for(conn, &caller.org_id, month).await?,
        points: mine.points,
        all_time_points: all_time.points,
        verified_shares: mine.verified,
        declared_shares: mine.declared,
        clicks: mine.clicks,
        rank: (mine.points > 0).then(|| u32::try_from(ahead + 1).unwrap_or(u32::MAX)),
        ranked: u32::try_from(ranked).unwrap_or(u32::MAX),
        on_board: member.is_some(),
        pseudonym: member.and_then(|m| m.0),
        shares,
    })
}

/// Joins the leaderboard under `pseudonym` (or the person's name), or changes it. A pseudonym
/// someone else holds is refused.
pub async fn join(db: &Db, caller: &Caller, pseudonym: Option<&str>) -> Result<(), ApiError> {
    let result = sqlx::query(
        "INSERT INTO board_members (person_id, org_id, pseudonym, joined_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (person_id) DO UPDATE SET pseudonym = excluded.pseudonym",
    )
    .bind(&caller.person_id)
    .bind(&caller.org_id)
    .bind(pseudonym)
    .bind(now_ms())
    .execute(&db.write)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(ApiError::Conflict(
            "that pseudonym is taken: choose another".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Leaves the leaderboard. The points stay the person's.
pub async fn leave(db: &Db, caller: &Caller) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM board_members WHERE person_id = $1")
        .bind(&caller.person_id)
        .execute(&db.write)
        .await?;
    Ok(())
}
