//! Closed months, computed once. A month's share records are refused once it has closed, and
//! its clicks stop counting toward it then (as for points), so its figures cannot change after
//! the close: they are computed at the first reading after it and kept, exact, in
//! `analytics_snapshots`. Open months (the current one, and the last one during its grace
//! period) are computed from the records at every reading.
//!
//! A snapshot also fixes who a closed month counts: someone who leaves or is erased later no
//! longer changes the figures of months they were part of.

use chrono::Utc;
use relay_protocol::{Breakdown, Dimension, MonthFigures};
use serde::{de::DeserializeOwned, Serialize};

use super::figures;
use crate::app::AppState;
use crate::db::now_ms;
use crate::error::ApiError;
use crate::programme::calendar::{Calendar, Month};

/// The figures of each of `months`, in order.
pub async fn months(
    state: &AppState,
    org_id: &str,
    calendar: &Calendar,
    months: &[Month],
) -> Result<Vec<MonthFigures>, ApiError> {
    let now = Utc::now();
    let keys: Vec<String> = months.iter().map(Month::to_string).collect();
    // One read for every kept month of the range.
    let kept: Vec<(String, String)> = sqlx::query_as(
        "SELECT month, body FROM analytics_snapshots \
         WHERE org_id = $1 AND view = 'months' AND month >= $2 AND month <= $3",
    )
    .bind(org_id)
    .bind(keys.first().cloned().unwrap_or_default())
    .bind(keys.last().cloned().unwrap_or_default())
    .fetch_all(&state.db.read)
    .await?;
    let mut out = Vec::with_capacity(months.len());
    for (month, key) in months.iter().zip(&keys) {
        if let Some((_, body)) = kept.iter().find(|(m, _)| m == key) {
            out.push(serde_json::from_str(body)?);
            continue;
        }
        let figures = figures::month(state, org_id, calendar, *month).await?;
        if calendar.is_closed(*month, now) {
            keep(state, org_id, key, "months", &figures).await?;
        }
        out.push(figures);
    }
    Ok(out)
}

/// A month's breakdown by `by`.
pub async fn breakdown(
    state: &AppState,
    org_id: &str,
    calendar: &Calendar,
    month: Month,
    by: Dimension,
) -> Result<Breakdown, ApiError> {
    let key = month.to_string();
    let view = format!("by:{}", by.as_str());
    if let Some(kept) = kept::<Breakdown>(state, org_id, &key, &view).await? {
        return Ok(kept);
    }
    let breakdown = figures::breakdown(state, org_id, month, by).await?;
    if calendar.is_closed(month, Utc::now()) {
        keep(state, org_id, &key, &view, &breakdown).await?;
    }
    Ok(breakdown)
}

async fn kept<T: DeserializeOwned>(
    state: &AppState,
    org_id: &str,
    month: &str,
    view: &str,
) -> Result<Option<T>, ApiError> {
    let body: Option<String> = sqlx::query_scalar(
        "SELECT body FROM analytics_snapshots WHERE org_id = $1 AND month = $2 AND view = $3",
    )
    .bind(org_id)
    .bind(month)
    .bind(view)
    .fetch_optional(&state.db.read)
    .await?;
    Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
}

/// Keeps a closed month's figures; two instances computing it at once keep the first.
async fn keep<T: Serialize>(
    state: &AppState,
    org_id: &str,
    month: &str,
    view: &str,
    figures: &T,
) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO analytics_snapshots (org_id, month, view, body, computed_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, month, view) DO NOTHING",
    )
    .bind(org_id)
    .bind(month)
    .bind(view)
    .bind(serde_json::to_string(figures)?)
    .bind(now_ms())
    .execute(&state.db.write)
    .await?;
    Ok(())
}
