use axum::extract::State;
use relay_protocol::{Erasure, ErasureRequest, PersonalData, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::erase::Requester;
use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ApiResult, Json, Path};
use crate::state::AppState;

/// Everything the server holds about the caller, as JSON: their profile, devices, shares,
/// points, links, leaderboard and draw entries, the content they wrote and the audit entries
/// about them.
#[utoipa::path(get, path = "/v1/me/data", tag = "people",
    responses((status = 200, body = PersonalData), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn my_data(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PersonalData>> {
    let mut conn = state.db.read.acquire().await?;
    Ok(Json(super::export(&mut conn, &caller.person_id).await?))
}

fn confirmed(req: &ErasureRequest) -> Result<(), ApiError> {
    if req.confirm {
        Ok(())
    } else {
        Err(ApiError::bad(
            "erasure cannot be undone: send {\"confirm\": true}",
        ))
    }
}

/// Erases the caller: their identity, devices and sessions (every one of them signed out),
/// tracked links and leaderboard entries. What the company's figures count stays, tied to no
/// one. Cannot be undone.
#[utoipa::path(post, path = "/v1/me/erasure", tag = "people", request_body = ErasureRequest,
    responses((status = 200, body = Erasure), (status = 400, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn erase_me(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<ErasureRequest>,
) -> ApiResult<Json<Erasure>> {
    confirmed(&req)?;
    Ok(Json(
        super::erase(
            &state,
            &caller.org_id,
            &caller.person_id,
            Requester::Themselves,
        )
        .await?,
    ))
}

/// Erases a person, as [`erase_me`] does. Admins.
#[utoipa::path(post, path = "/v1/people/{id}/erasure", tag = "people",
    params(("id" = String, Path)), request_body = ErasureRequest,
    responses((status = 200, body = Erasure), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn erase_person(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Json(req): Json<ErasureRequest>,
) -> ApiResult<Json<Erasure>> {
    confirmed(&req)?;
    let requester = if id == caller.person_id {
        Requester::Themselves
    } else {
        Requester::Admin(&caller.person_id)
    };
    Ok(Json(
        super::erase(&state, &caller.org_id, &id, requester).await?,
    ))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_data))
        .routes(routes!(erase_me))
        .routes(routes!(erase_person))
}
