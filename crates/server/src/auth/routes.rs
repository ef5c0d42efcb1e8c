use axum::extract::State;
use axum::http::StatusCode;
use relay_protocol::{
    DeviceSession, EnrolRequest, EnrolResponse, Me, Org, Problem, RefreshRequest, Role,
    SessionTokens,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::rows::{OrgRow, PersonRow};
use crate::error::{ApiError, ApiResult, Json, Path, Query};
use crate::state::AppState;

use super::{store, Caller, ClientAddr};

/// Redeems an enrolment code for a device session.
#[utoipa::path(post, path = "/v1/enrol", tag = "sessions", request_body = EnrolRequest,
    responses((status = 200, body = EnrolResponse), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 429, body = Problem)))]
async fn enrol(
    State(state): State<AppState>,
    address: ClientAddr,
    Json(req): Json<EnrolRequest>,
) -> ApiResult<Json<EnrolResponse>> {
    state.attempts.attempt_from(address)?;
    let response = store::redeem(
        &state.db,
        state.config.tokens,
        &req.code,
        &req.device_name,
        &req.platform,
    )
    .await?;
    Ok(Json(response))
}

/// Rotates the session's tokens. The old refresh token stops working.
#[utoipa::path(post, path = "/v1/session/refresh", tag = "sessions", request_body = RefreshRequest,
    responses((status = 200, body = SessionTokens), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 429, body = Problem)))]
async fn refresh(
    State(state): State<AppState>,
    address: ClientAddr,
    Json(req): Json<RefreshRequest>,
) -> ApiResult<Json<SessionTokens>> {
    state.attempts.attempt_from(address)?;
    Ok(Json(store::refresh(&state, &req.refresh_token).await?))
}

/// Who the session belongs to.
#[utoipa::path(get, path = "/v1/me", tag = "sessions",
    responses((status = 200, body = Me), (status = 401, body = Problem)), security(("bearer" = [])))]
async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Me>> {
    let person: PersonRow = sqlx::query_as(&format!(
        "SELECT {} FROM people WHERE id = $1",
        PersonRow::COLUMNS
    ))
    .bind(&caller.person_id)
    .fetch_one(&state.db.read)
    .await?;
    let org: OrgRow = sqlx::query_as("SELECT id, slug, name FROM orgs WHERE id = $1")
        .bind(&caller.org_id)
        .fetch_one(&state.db.read)
        .await?;
    Ok(Json(Me {
        person: person.into_person()?,
        org: Org::from(org),
        device_id: caller.device_id,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SessionsQuery {
    /// Admins only: every session of the organisation instead of the caller's own.
    #[serde(default)]
    all: bool,
    /// Admins only: this person's sessions.
    person: Option<String>,
}

/// The caller's devices (or, for admins, a person's with `person=ID`, or the organisation's
/// with `all=true`).
#[utoipa::path(get, path = "/v1/sessions", tag = "sessions", params(SessionsQuery),
    responses((status = 200, body = Vec<DeviceSession>)), security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SessionsQuery>,
) -> ApiResult<Json<Vec<DeviceSession>>> {
    let person = if let Some(person) = q.person.as_deref() {
        if person != caller.person_id {
            caller.require(Role::Admin)?;
        }
        Some(person)
    } else if q.all {
        caller.require(Role::Admin)?;
        None
    } else {
        Some(caller.person_id.as_str())
    };
    Ok(Json(
        store::list_sessions(&state.db, &caller.org_id, person, &caller.device_id).await?,
    ))
}

/// Signs a device out. People revoke their own devices; admins any of the organisation's.
#[utoipa::path(delete, path = "/v1/sessions/{device_id}", tag = "sessions",
    params(("device_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(device_id): Path<String>,
) -> ApiResult<StatusCode> {
    let owner = if caller.role.includes(Role::Admin) {
        None
    } else {
        Some(caller.person_id.as_str())
    };
    if store::revoke(
        &state,
        &caller.org_id,
        &device_id,
        owner,
        Some(&caller.person_id),
    )
    .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("session"))
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enrol))
        .routes(routes!(refresh))
        .routes(routes!(me))
        .routes(routes!(list))
        .routes(routes!(revoke))
}
