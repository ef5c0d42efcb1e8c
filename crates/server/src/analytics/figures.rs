//! The figures, read from the share records, devices and consults of each month.

use std::collections::{BTreeMap, HashMap};

use relay_protocol::{Breakdown, Dimension, MonthFigures};

use super::privacy::{self, Activity};
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
    let (sharers, shares, verified, clicks): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(DISTINCT person_id), COUNT(*), \
                CAST(COALESCE(SUM(CASE WHEN proof = 'verified' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                CAST(COALESCE(SUM(clicks), 0) AS BIGINT) \
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
        Dimension::Country => ("p.country", "JOIN people p ON p.id = s.person_id"),
        Dimension::Department => ("p.department", "JOIN people p ON p.id = s.person_id"),
    };
    let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(&format!(
        "SELECT {key}, s.person_id, COUNT(*), \
                CAST(SUM(CASE WHEN s.proof = 'verified' THEN 1 ELSE 0 END) AS BIGINT), \
                CAST(SUM(s.clicks) AS BIGINT) \
         FROM shares s {join} \
         WHERE s.org_id = $1 AND s.month = $2 AND s.withdrawn_at IS NULL \
         GROUP BY {key}, s.person_id"
    ))
    .bind(org_id)
    .bind(month.to_string())
    .fetch_all(&state.db.read)
    .await?;
    let mut cells: BTreeMap<String, HashMap<String, Activity>> = BTreeMap::new();
    for (group, person, shares, verified, clicks) in rows {
        cells.entry(group).or_default().insert(
            person,
            Activity {
                shares: shares as u64,
                verified: verified as u64,
                clicks: clicks as u64,
            },
        );
    }
    Ok(Breakdown {
        month: month.to_string(),
        by,
        groups: privacy::groups(cells),
    })
}
