use axum::extract::State;
use relay_protocol::{Breakdown, Dimension, MonthFigures, Problem};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::snapshots;
use crate::auth::Curator;
use crate::error::{ApiResult, Json, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct TrendQuery {
    /// The last month (`YYYY-MM`); the current one when absent.
    to: Option<String>,
    /// How many months up to it (default 12, at most 24).
    #[param(minimum = 1, maximum = 24)]
    months: Option<u32>,
}

/// The organisation's figures month by month, oldest first (the last is the month asked for).
/// Curators and admins. A figure about fewer than 5 people is absent.
#[utoipa::path(get, path = "/v1/analytics/months", tag = "analytics", params(TrendQuery),
    responses((status = 200, body = Vec<MonthFigures>), (status = 400, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn months(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Query(q): Query<TrendQuery>,
) -> ApiResult<Json<Vec<MonthFigures>>> {
    let count = crate::paging::limit(q.months, 12, 24)?;
    let mut conn = state.db.read.acquire().await?;
    let calendar = crate::programme::calendar::calendar_of(
        &mut conn,
        state.config.month_grace,
        &caller.org_id,
    )
    .await?;
    drop(conn);
    let last = crate::programme::rules::month_or_current(q.to.as_deref(), &calendar)?;
    let mut month = last;
    let mut list = Vec::with_capacity(count as usize);
    for _ in 0..count {
        list.push(month);
        month = month.prev();
    }
    list.reverse();
    Ok(Json(
        snapshots::months(&state, &caller.org_id, &calendar, &list).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct BreakdownQuery {
    /// `YYYY-MM`; the current month when absent.
    month: Option<String>,
    by: Dimension,
}

/// A month's shares by channel, network, language, country or department. Curators and
/// admins. Groups of fewer than 5 people are hidden, with enough others that the month's total
/// minus the groups shown never gives them away.
#[utoipa::path(get, path = "/v1/analytics/breakdown", tag = "analytics", params(BreakdownQuery),
    responses((status = 200, body = Breakdown), (status = 400, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn breakdown(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Query(q): Query<BreakdownQuery>,
) -> ApiResult<Json<Breakdown>> {
    let mut conn = state.db.read.acquire().await?;
    let calendar = crate::programme::calendar::calendar_of(
        &mut conn,
        state.config.month_grace,
        &caller.org_id,
    )
    .await?;
    drop(conn);
    let month = crate::programme::rules::month_or_current(q.month.as_deref(), &calendar)?;
    Ok(Json(
        snapshots::breakdown(&state, &caller.org_id, &calendar, month, q.by).await?,
    ))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(months))
        .routes(routes!(breakdown))
        .merge(super::individual::router())
        .merge(super::adoption::router())
}
