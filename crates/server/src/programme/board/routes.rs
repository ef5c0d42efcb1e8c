//! The boards' API.

use axum::extract::State;
use axum::http::StatusCode;
use relay_protocol::{Board, BoardMembership, MyProgramme, Problem, TeamBoard, TopTen};

use super::{store, Period, PeriodQuery, TeamQuery};
use crate::analytics::publication;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::programme::calendar::calendar_of;
use crate::programme::rules::{month_or_current, MonthQuery};
use crate::state::AppState;

/// The opt-in leaderboard of a month (the current one by default) or of all time. Only people
/// who joined it are listed.
#[utoipa::path(get, path = "/v1/programme/board", tag = "programme", params(PeriodQuery),
    responses((status = 200, body = Board), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn leaderboard(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Json<Board>> {
    let mut conn = state.db.read.acquire().await?;
    let calendar = calendar_of(&mut conn, state.config.month_grace, &caller.org_id).await?;
    let period = Period::of(&q, &calendar)?;
    Ok(Json(store::board(&mut conn, &caller, period).await?))
}

/// Joins the leaderboard, or changes the name shown on it.
#[utoipa::path(put, path = "/v1/programme/board/me", tag = "programme",
    request_body = BoardMembership,
    responses((status = 200, body = BoardMembership), (status = 400, body = Problem),
              (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn join(
    State(state): State<AppState>,
    caller: Caller,
    Json(membership): Json<BoardMembership>,
) -> ApiResult<Json<BoardMembership>> {
    let pseudonym = match membership.pseudonym.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) if p.chars().count() > 40 || p.chars().any(char::is_control) => {
            return Err(ApiError::bad(
                "a pseudonym is 1 to 40 characters, without control characters",
            ))
        }
        Some(p) => Some(p.to_owned()),
    };
    store::join(&state.db, &caller, pseudonym.as_deref()).await?;
    Ok(Json(BoardMembership { pseudonym }))
}

/// Leaves the leaderboard at once. The person's points stay theirs, privately.
#[utoipa::path(delete, path = "/v1/programme/board/me", tag = "programme",
    responses((status = 204, description = "Off the leaderboard")),
    security(("bearer" = [])))]
pub async fn leave(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    store::leave(&state.db, &caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Teams by country or department, ranked by average points per active member; teams with
/// fewer than 5 active members are not shown.
#[utoipa::path(get, path = "/v1/programme/teams", tag = "programme", params(TeamQuery),
    responses((status = 200, body = TeamBoard), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn teams(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<TeamQuery>,
) -> ApiResult<Json<TeamBoard>> {
    let mut conn = state.db.read.acquire().await?;
    let calendar = calendar_of(&mut conn, state.config.month_grace, &caller.org_id).await?;
    let period = Period::of(
        &PeriodQuery {
            month: q.month,
            all_time: q.all_time,
        },
        &calendar,
    )?;
    Ok(Json(
        store::team_board(&state, &mut conn, &caller, &calendar, period, q.by).await?,
    ))
}

/// The organisation's ten most shared contents of a month, by verified shares (clicks break
/// ties).
#[utoipa::path(get, path = "/v1/programme/top", tag = "programme", params(MonthQuery),
    responses((status = 200, body = TopTen), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn top_ten(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MonthQuery>,
) -> ApiResult<Json<TopTen>> {
    let mut conn = state.db.read.acquire().await?;
    let calendar = calendar_of(&mut conn, state.config.month_grace, &caller.org_id).await?;
    let month = month_or_current(q.month.as_deref(), &calendar)?;
    let publication = publication::of(&state, &caller.org_id, &calendar, month).await?;
    Ok(Json(
        store::top(&mut conn, &caller, month, &publication).await?,
    ))
}

/// The caller's own points, shares, clicks and rank: private to them.
#[utoipa::path(get, path = "/v1/programme/me", tag = "programme", params(MonthQuery),
    responses((status = 200, body = MyProgramme), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn me(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MonthQuery>,
) -> ApiResult<Json<MyProgramme>> {
    let mut conn = state.db.read.acquire().await?;
    let calendar = calendar_of(&mut conn, state.config.month_grace, &caller.org_id).await?;
    let month = month_or_current(q.month.as_deref(), &calendar)?;
    Ok(Json(
        store::my_programme(&mut conn, &caller, &calendar, month).await?,
    ))
}
