//! What the programme shows: the opt-in leaderboard, team boards, the top ten, and the caller's
//! own figures (private, whether or not they joined the leaderboard). The periods and ranking
//! rules here; the queries in `store.rs`, the API in `routes.rs`.

pub mod routes;
pub mod store;

use serde::Deserialize;

use super::calendar::{Calendar, Month};
use super::ledger::ALL_TIME;
use crate::error::ApiError;
use relay_protocol::TeamKind;

pub use store::{board, my_programme, team_board, team_board_of, top};

/// Teams smaller than this are not shown: a board of three would show individuals.
pub const MIN_TEAM: u64 = relay_protocol::MIN_GROUP;
/// Lines of a leaderboard.
pub(crate) const BOARD_SIZE: i64 = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// `YYYY-MM`; the current month when absent.
    pub month: Option<String>,
    /// All time instead of a month.
    pub all_time: Option<bool>,
}

/// A month, or all time.
#[derive(Debug, Clone, Copy)]
pub enum Period {
    Month(Month),
    AllTime,
}

impl Period {
    pub(crate) fn key(self) -> String {
        match self {
            Period::Month(m) => m.to_string(),
            Period::AllTime => ALL_TIME.to_owned(),
        }
    }

    pub(crate) fn month(self) -> Option<String> {
        match self {
            Period::Month(m) => Some(m.to_string()),
            Period::AllTime => None,
        }
    }

    pub(crate) fn of(q: &PeriodQuery, calendar: &Calendar) -> Result<Period, ApiError> {
        if q.all_time == Some(true) {
            if q.month.is_some() {
                return Err(ApiError::bad("give month or all_time, not both"));
            }
            return Ok(Period::AllTime);
        }
        Ok(Period::Month(crate::programme::rules::month_or_current(
            q.month.as_deref(),
            calendar,
        )?))
    }
}

/// Standard competition ranks (1, 1, 3): equal points share a rank.
pub(crate) fn ranks(points: impl IntoIterator<Item = i64>) -> Vec<u32> {
    let mut out = Vec::new();
    let mut previous = None;
    let mut rank = 0;
    for (i, p) in points.into_iter().enumerate() {
        if previous != Some(p) {
            rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
            previous = Some(p);
        }
        out.push(rank);
    }
    out
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TeamQuery {
    /// Group by country or department.
    #[param(inline)]
    pub by: TeamKind,
    /// `YYYY-MM`; the current month when absent.
    pub month: Option<String>,
    /// All time instead of a month.
    pub all_time: Option<bool>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_points_share_a_rank() {
        assert_eq!(super::ranks([30, 20, 20, 10]), vec![1, 2, 2, 4]);
        assert_eq!(super::ranks([]), Vec::<u32>::new());
    }
}
