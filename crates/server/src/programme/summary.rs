//! `GET /v1/programme/summary`: everything the app's programme screens show, in one answer with
//! an `ETag`, so a device asks often and downloads only when something moved. It has its own
//! validator instead of the content feed's version: a share must not wake every device's sync.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use relay_protocol::{ProgrammeSummary, TeamKind};
use sha2::{Digest, Sha256};

use super::board::{self, Period};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

/// The caller's programme this month: their figures, the boards and the top ten. `304` when
/// `If-None-Match` names the current `ETag`.
#[utoipa::path(get, path = "/v1/programme/summary", tag = "programme",
    responses((status = 200, body = ProgrammeSummary, headers(("ETag" = String))),
              (status = 304, description = "Unchanged since the ETag given")),
    security(("bearer" = [])))]
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut conn = state.db.read.acquire().await?;
    let calendar =
        super::calendar::calendar_of(&mut conn, state.config.month_grace, &caller.org_id).await?;
    let month = calendar.month_of(chrono::Utc::now());
    let publication =
        crate::analytics::publication::of(&state, &caller.org_id, &calendar, month).await?;
    let summary = ProgrammeSummary {
        me: board::my_programme(&mut conn, &caller, &calendar, month).await?,
        board: board::board(&mut conn, &caller, Period::Month(month)).await?,
        all_time_board: board::board(&mut conn, &caller, Period::AllTime).await?,
        teams_by_country: board::team_board_of(
            &mut conn,
            &caller,
            Period::Month(month),
            TeamKind::Country,
            publication.teams(TeamKind::Country).to_vec(),
        )
        .await?,
        teams_by_department: board::team_board_of(
            &mut conn,
            &caller,
            Period::Month(month),
            TeamKind::Department,
            publication.teams(TeamKind::Department).to_vec(),
        )
        .await?,
        top: board::top(&mut conn, &caller, month, &publication).await?,
        team_boards: super::settings::read(&mut conn, &caller.org_id)
            .await?
            .team_boards,
    };
    let body = serde_json::to_vec(&summary)?;
    let digest = Sha256::digest(&body);
    let etag = format!("\"{}\"", relay_draw::hex::encode(&digest[..16]));
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let cache = [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, "private, no-cache".to_owned()),
    ];
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((
        StatusCode::OK,
        cache,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}
