//! The analytics views, read from each month's publication (`publication.rs`: closed months
//! computed once and kept, open ones at every reading).

use relay_protocol::{Breakdown, Dimension, MonthFigures};

use super::{figures, publication};
use crate::error::ApiError;
use crate::programme::calendar::{Calendar, Month};
use crate::state::AppState;

/// The figures of each of `months`, in order.
pub async fn months(
    state: &AppState,
    org_id: &str,
    calendar: &Calendar,
    months: &[Month],
) -> Result<Vec<MonthFigures>, ApiError> {
    let mut out = Vec::with_capacity(months.len());
    for month in months {
        out.push(
            publication::of(state, org_id, calendar, *month)
                .await?
                .figures,
        );
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
    let mut breakdown = publication::of(state, org_id, calendar, month)
        .await?
        .breakdown(by);
    if by == Dimension::Content {
        figures::label_contents(state, org_id, month, &mut breakdown.groups).await?;
    }
    Ok(breakdown)
}
