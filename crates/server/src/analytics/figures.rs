//! The figures, read from the share records, devices and consults of each month.

use std::collections::{BTreeMap, HashMap, HashSet};

use relay_protocol::{Breakdown, Dimension, GroupFigures, MonthFigures, MIN_GROUP};

use super::privacy::{self, Activity, GroupTotals};
use crate::app::AppState;
use crate::error::ApiError;
use crate::programme::calendar::{Calendar, Month};

/// A month's figures, organisation-wide.
pub async fn month(
    state: &AppState,
    org_id: &str,
    calendar: &Calendar,
    month: Month,
) -> Result<MonthFigures, ApiError> {
    let db = &state.db.read;
    let (start, end) = (
        calendar.starts_at(month).timestamp_millis(),
        calendar.ends_at(month).timestamp_millis(),
    );
    let enrolled: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT s.person_id) FROM sessions s JOIN people p ON p.id = s.person_id \
         WHERE s.org_id = $1 AND p.active = 1 AND s.created_at < $2 \
         AND (s.revoked_at IS NULL OR s.revoked_at >= $3)",
    )
    .bind(org_id)
    .bind(end)
    .bind(start)
    .fetch_one(db)
    .await?;
    let (sharers, shares, verified, clicks, reach, reach_unknown): (i64, i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "SELECT COUNT(DISTINCT person_id), COUNT(*), \
                CAST(COALESCE(SUM(CASE WHEN counts_as = 'verified' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                CAST(COALESCE(SUM(clicks), 0) AS BIGINT), \
                CAST(COALESCE(SUM(followers), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN followers IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM shares WHERE org_id = $1 AND month = $2 AND withdrawn_at IS NULL",
        )
        .bind(org_id)
        .bind(month.to_string())
        .fetch_one(db)
        .await?;
    let consulters: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM consults WHERE org_id = $1 AND month = $2")
            .bind(org_id)
            .bind(month.to_string())
            .fetch_one(db)
            .await?;
    let ratio = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64),
        _ => None,
    };
    let enrolled = privacy::shown(enrolled as u64);
    let sharers = privacy::shown(sharers as u64);
    // Counts of shares describe their sharers: hidden with them.
    let of_sharers = |n: i64| sharers.map(|_| n as u64);
    let (shares, verified, clicks) = (of_sharers(shares), of_sharers(verified), of_sharers(clicks));
    let (reach, reach_unknown) = (of_sharers(reach), of_sharers(reach_unknown));
    let consulters = privacy::shown(consulters as u64);
    Ok(MonthFigures {
        month: month.to_string(),
        enrolled,
        sharers,
        sharer_rate: ratio(sharers, enrolled),
        shares,
        verified,
        declared: shares.zip(verified).map(|(s, v)| s - v),
        shares_per_sharer: ratio(shares, sharers),
        clicks,
        click_through: ratio(clicks, shares),
        reach,
        reach_unknown,
        consulters,
        consult_rate: ratio(consulters, enrolled),
    })
}

/// A month's shares by `by`, small groups hidden.
pub async fn breakdown(
    state: &AppState,
    org_id: &str,
    month: Month,
    by: Dimension,
) -> Result<Breakdown, ApiError> {
    let (key, join) = match by {
        Dimension::Channel => ("i.channel_id", "JOIN items i ON i.id = s.item_id"),
        Dimension::Network => ("s.network", ""),
        Dimension::Language => ("i.language", "JOIN items i ON i.id = s.item_id"),
        // As each person stood at their first activity of the month (`members.rs`).
        Dimension::Country => (
            "m.country",
            "JOIN month_members m ON m.person_id = s.person_id AND m.month = s.month",
        ),
        Dimension::Department => (
            "m.department",
            "JOIN month_members m ON m.person_id = s.person_id AND m.month = s.month",
        ),
        Dimension::Content => ("s.item_id", ""),
    };
    // Totals per group, counted by the database; people only for groups that may be hidden.
    type Row = (String, i64, i64, i64, i64, i64, i64);
    let filter = "s.org_id = $1 AND s.month = $2 AND s.withdrawn_at IS NULL";
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {key}, COUNT(DISTINCT s.person_id), COUNT(*), \
                CAST(SUM(CASE WHEN s.counts_as = 'verified' THEN 1 ELSE 0 END) AS BIGINT), \
                CAST(SUM(s.clicks) AS BIGINT), CAST(COALESCE(SUM(s.followers), 0) AS BIGINT), \
                CAST(SUM(CASE WHEN s.followers IS NULL THEN 1 ELSE 0 END) AS BIGINT) \
         FROM shares s {join} WHERE {filter} GROUP BY {key}"
    ))
    .bind(org_id)
    .bind(month.to_string())
    .fetch_all(&state.db.read)
    .await?;
    let totals: BTreeMap<String, GroupTotals> = rows
        .into_iter()
        .map(
            |(group, people, shares, verified, clicks, reach, reach_unknown)| {
                let activity = Activity {
                    shares: shares as u64,
                    verified: verified as u64,
                    clicks: clicks as u64,
                    reach: reach as u64,
                    reach_unknown: reach_unknown as u64,
                };
                let people = people as u64;
                (group, GroupTotals { people, activity })
            },
        )
        .collect();
    // Fewer than 5 people in all only when every group has fewer: then all are hidden anyway.
    let largest = totals.values().map(|t| t.people).max().unwrap_or(0);
    let mut hidden = privacy::first_hidden(&totals, largest);
    let people_of = |keys: Vec<String>| {
        let sql =
            format!("SELECT DISTINCT s.person_id FROM shares s {join} WHERE {filter} AND {key} IN");
        async move {
            let mut people = HashSet::new();
            for chunk in keys.chunks(500) {
                let sql = format!("{sql} ({})", crate::db::placeholders(3, chunk.len()));
                let mut query = sqlx::query_scalar::<_, String>(&sql)
                    .bind(org_id)
                    .bind(month.to_string());
                for k in chunk {
                    query = query.bind(k);
                }
                people.extend(query.fetch_all(&state.db.read).await?);
            }
            Ok::<_, ApiError>(people)
        }
    };
    let mut union = people_of(hidden.iter().cloned().collect()).await?;
    while !hidden.is_empty() && (union.len() as u64) < MIN_GROUP {
        let Some(next) = privacy::next_hidden(&totals, &hidden) else {
            break;
        };
        union.extend(people_of(vec![next.clone()]).await?);
        hidden.insert(next);
    }
    let mut groups = privacy::figures(&totals, &hidden);
    if by == Dimension::Content {
        label_contents(state, org_id, month, &mut groups).await?;
    }
    Ok(Breakdown {
        month: month.to_string(),
        by,
        groups,
    })
}

/// Content breakdowns: each item's title and reads, and the month's most read items that nobody
/// shared. Reads are counts of openings, never of who opened; an item's reads show only when at
/// least [`MIN_GROUP`] people could have read it (its audience): an item aimed at one person
/// would otherwise say whether they opened it.
async fn label_contents(
    state: &AppState,
    org_id: &str,
    month: Month,
    groups: &mut Vec<GroupFigures>,
) -> Result<(), ApiError> {
    let key = month.to_string();
    let reads: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT r.item_id, i.title, i.audience, CAST(SUM(r.reads) AS BIGINT) FROM item_reads r \
         JOIN items i ON i.id = r.item_id \
         WHERE r.org_id = $1 AND r.day >= $2 AND r.day < $3 GROUP BY r.item_id, i.title, i.audience",
    )
    .bind(org_id)
    .bind(format!("{key}-01"))
    .bind(format!("{key}-32"))
    .fetch_all(&state.db.read)
    .await?;
    let audiences: Vec<(&str, &str)> = reads
        .iter()
        .map(|(id, _, audience, _)| (id.as_str(), audience.as_str()))
        .collect();
    let readers = audience_sizes(state, org_id, &audiences).await?;
    let readable = |id: &str| readers.get(id).copied().unwrap_or(0) >= MIN_GROUP;
    let mut reads: HashMap<String, (String, u64)> = reads
        .into_iter()
        .map(|(id, title, _, n)| (id, (title, n as u64)))
        .collect();
    let shared: Vec<String> = groups.iter().map(|g| g.key.clone()).collect();
    let mut titles: HashMap<String, String> = HashMap::new();
    for chunk in shared.chunks(500) {
        let sql = format!(
            "SELECT id, title FROM items WHERE id IN ({})",
            crate::db::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, String)>(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        titles.extend(query.fetch_all(&state.db.read).await?);
    }
    for g in groups.iter_mut() {
        g.label = titles.get(&g.key).cloned();
        let n = reads.remove(&g.key).map_or(0, |(_, n)| n);
        g.reads = (n == 0 || readable(&g.key)).then_some(n);
    }
    // Unshared items are listed by reads: only those whose reads may be shown.
    let mut unshared: Vec<(String, (String, u64))> =
        reads.into_iter().filter(|(id, _)| readable(id)).collect();
    unshared.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(a.0.cmp(&b.0)));
    for (id, (title, n)) in unshared.into_iter().take(MOST_READ_UNSHARED) {
        groups.push(GroupFigures {
            key: id,
            hidden: false,
            people: Some(0),
            shares: Some(0),
            verified: Some(0),
            declared: Some(0),
            clicks: Some(0),
            reach: Some(0),
            reach_unknown: Some(0),
            label: Some(title),
            reads: Some(n),
        });
    }
    Ok(())
}

/// How many active people each item is offered to, from `(item id, audience JSON)` pairs.
async fn audience_sizes(
    state: &AppState,
    org_id: &str,
    items: &[(&str, &str)],
) -> Result<HashMap<String, u64>, ApiError> {
    if items.is_empty() {
        return Ok(HashMap::new());
    }
    let cells: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT country, language, department, COUNT(*) FROM people \
         WHERE org_id = $1 AND active = 1 AND erased_at IS NULL \
         GROUP BY country, language, department",
    )
    .bind(org_id)
    .fetch_all(&state.db.read)
    .await?;
    let mut sizes = HashMap::new();
    for (id, audience) in items {
        let audience: relay_protocol::Audience = serde_json::from_str(audience)?;
        let size: i64 = cells
            .iter()
            .filter(|(c, l, d, _)| audience.includes(c, l, d))
            .map(|cell| cell.3)
            .sum();
        sizes.insert((*id).to_owned(), u64::try_from(size).unwrap_or(0));
    }
    Ok(sizes)
}

/// How many read but unshared items a content breakdown lists after the shared ones.
const MOST_READ_UNSHARED: usize = 20;
