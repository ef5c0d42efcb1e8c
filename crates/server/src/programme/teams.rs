//! Running team totals: per country and per department, each month and all time, the points
//! and the active members (people with points in the period) of the organisation's active
//! people. The ledger's writes keep them, and so does a person moving team or leaving, so a
//! team board reads a few rows instead of grouping 20,000 people's totals on every request.

use std::collections::BTreeMap;

use relay_protocol::TeamKind;
use sqlx::AnyConnection;

use crate::error::ApiError;

/// The teams a person counts in, read under their lock.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Member {
    pub country: String,
    pub department: String,
    pub active: i64,
}

impl Member {
    fn team(&self, kind: TeamKind) -> &str {
        match kind {
            TeamKind::Country => &self.country,
            TeamKind::Department => &self.department,
        }
    }
}

/// What one person's change does to a period's totals of their teams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub period: String,
    pub points: i64,
    /// +1 when the person's points in the period became positive, -1 when they fell to zero.
    pub active: i64,
}

impl Change {
    /// The change from a person's totals of `period` going from `before` to `after` points.
    pub fn of(period: &str, before: i64, after: i64) -> Change {
        Change {
            period: period.to_owned(),
            points: after.max(0) - before.max(0),
            active: i64::from(after > 0) - i64::from(before > 0),
        }
    }

    fn is_empty(&self) -> bool {
        self.points == 0 && self.active == 0
    }
}

/// Adds `changes` to the person's teams, in one statement. A member who left counts nowhere.
pub async fn apply(
    conn: &mut AnyConnection,
    org_id: &str,
    member: &Member,
    changes: &[Change],
) -> Result<(), ApiError> {
    let changes: Vec<(String, Member, Change)> = changes
        .iter()
        .map(|c| (org_id.to_owned(), member.clone(), c.clone()))
        .collect();
    apply_many(conn, &changes).await
}

/// Adds several people's changes to their teams, summed per team first, in one statement (rows
/// in key order, so concurrent writers lock them in the same order).
pub async fn apply_many(
    conn: &mut AnyConnection,
    changes: &[(String, Member, Change)],
) -> Result<(), ApiError> {
    let mut sums: BTreeMap<(String, String, &'static str, String), (i64, i64)> = BTreeMap::new();
    for (org_id, member, change) in changes {
        if member.active == 0 || change.is_empty() {
            continue;
        }
        for kind in [TeamKind::Country, TeamKind::Department] {
            let key = (
                org_id.clone(),
                change.period.clone(),
                kind.as_str(),
                member.team(kind).to_owned(),
            );
            let sum = sums.entry(key).or_default();
            sum.0 += change.points;
            sum.1 += change.active;
        }
    }
    sums.retain(|_, (points, active)| *points != 0 || *active != 0);
    if sums.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO team_totals (org_id, month, kind, team, points, active) VALUES {} \
         ON CONFLICT (org_id, month, kind, team) DO UPDATE SET \
         points = team_totals.points + excluded.points, \
         active = team_totals.active + excluded.active",
        crate::db::values(sums.len(), 6)
    );
    let mut query = sqlx::query(&sql);
    for ((org_id, period, kind, team), (points, active)) in sums {
        query = query
            .bind(org_id)
            .bind(period)
            .bind(kind)
            .bind(team)
            .bind(points)
            .bind(active);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Moves everything a person has earned from the teams of `from` to those of `to` (a change of
/// country or department, a departure or a return), under their lock.
pub async fn move_person(
    conn: &mut AnyConnection,
    org_id: &str,
    person_id: &str,
    from: &Member,
    to: &Member,
) -> Result<(), ApiError> {
    if from == to {
        return Ok(());
    }
    let periods: Vec<(String, i64)> = sqlx::query_as(
        "SELECT month, points FROM points_totals WHERE person_id = $1 AND points > 0",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    let leaving: Vec<Change> = periods
        .iter()
        .map(|(period, points)| Change::of(period, *points, 0))
        .collect();
    let arriving: Vec<Change> = periods
        .iter()
        .map(|(period, points)| Change::of(period, 0, *points))
        .collect();
    // Several hundred periods at most (a month each); chunked to stay under bind limits.
    for chunk in leaving.chunks(100) {
        apply(conn, org_id, from, chunk).await?;
    }
    for chunk in arriving.chunks(100) {
        apply(conn, org_id, to, chunk).await?;
    }
    Ok(())
}

/// One team's totals for a period.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TeamTotals {
    pub team: String,
    pub active: i64,
    pub points: i64,
}

/// The teams of `kind` with at least `min_active` active members in `period`.
pub async fn read(
    conn: &mut AnyConnection,
    org_id: &str,
    period: &str,
    kind: TeamKind,
    min_active: i64,
) -> Result<Vec<TeamTotals>, ApiError> {
    Ok(sqlx::query_as(
        "SELECT team, active, points FROM team_totals \
         WHERE org_id = $1 AND month = $2 AND kind = $3 AND active >= $4",
    )
    .bind(org_id)
    .bind(period)
    .bind(kind.as_str())
    .bind(min_active)
    .fetch_all(&mut *conn)
    .await?)
}

/// The same figures computed from every person's totals: what the running totals must always
/// equal (tests compare them) and how a benchmark's seeded data gets its team totals.
pub async fn scan(
    conn: &mut AnyConnection,
    org_id: &str,
    period: &str,
    kind: TeamKind,
) -> Result<Vec<TeamTotals>, ApiError> {
    let column = match kind {
        TeamKind::Country => "p.country",
        TeamKind::Department => "p.department",
    };
    Ok(sqlx::query_as(&format!(
        "SELECT {column} AS team, COUNT(*) AS active, CAST(SUM(t.points) AS BIGINT) AS points \
         FROM points_totals t JOIN people p ON p.id = t.person_id \
         WHERE t.org_id = $1 AND t.month = $2 AND t.points > 0 AND p.active = 1 \
         GROUP BY {column} ORDER BY {column}"
    ))
    .bind(org_id)
    .bind(period)
    .fetch_all(&mut *conn)
    .await?)
}

/// Recomputes an organisation's team totals from every person's totals.
pub async fn rebuild(conn: &mut AnyConnection, org_id: &str) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM team_totals WHERE org_id = $1")
        .bind(org_id)
        .execute(&mut *conn)
        .await?;
    for column in ["country", "department"] {
        sqlx::query(&format!(
            "INSERT INTO team_totals (org_id, month, kind, team, points, active) \
             SELECT t.org_id, t.month, '{column}', p.{column}, CAST(SUM(t.points) AS BIGINT), COUNT(*) \
             FROM points_totals t JOIN people p ON p.id = t.person_id \
             WHERE t.org_id = $1 AND t.points > 0 AND p.active = 1 \
             GROUP BY t.org_id, t.month, p.{column}"
        ))
        .bind(org_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn a_change_counts_a_member_once_while_their_points_stay_positive() {
        assert_eq!(Change::of("2026-11", 0, 10).active, 1);
        assert_eq!(Change::of("2026-11", 10, 13).active, 0);
        assert_eq!(Change::of("2026-11", 13, 0).active, -1);
        assert_eq!(Change::of("2026-11", 0, 0).active, 0);
        assert_eq!(Change::of("2026-11", 10, 13).points, 3);
        assert_eq!(Change::of("2026-11", 13, 0).points, -13);
    }
}
