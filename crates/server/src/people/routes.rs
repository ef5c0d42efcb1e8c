//! The people API: listing, adding, reading and changing people, and enrolment codes.

use axum::extract::State;
use axum::http::StatusCode;
use relay_protocol::{Enrolment, NewEnrolment, NewPerson, Person, PersonUpdate, Problem, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store;
use crate::auth::{store as sessions, Admin, Caller};
use crate::error::{ApiError, ApiResult, Json, Path};
use crate::state::AppState;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PeopleQuery {
    /// Only people whose name or e-mail address contains this, in any case.
    #[param(max_length = 200)]
    q: Option<String>,
    /// Page size (default 100, at most 1,000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Entries to skip (at most 100,000).
    #[param(minimum = 0, maximum = 100000)]
    offset: Option<u32>,
}

/// The organisation's people by name, a page at a time, optionally searched. Admins.
#[utoipa::path(get, path = "/v1/people", tag = "people", params(PeopleQuery),
    responses((status = 200, body = Vec<Person>), (status = 400, body = Problem),
              (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    Admin(caller): Admin,
    crate::error::Query(q): crate::error::Query<PeopleQuery>,
) -> ApiResult<Json<Vec<Person>>> {
    let limit = crate::paging::limit(q.limit, 100, 1000)?;
    let offset = crate::paging::offset(q.offset, 100_000)?;
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.chars().count() > 200) {
        return Err(ApiError::bad("q must be at most 200 characters"));
    }
    // `%` and `_` in the search are themselves, not wildcards.
    let pattern = search.map(|s| {
        let escaped = s
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let rows = store::list(&state.db, &caller.org_id, pattern.as_deref(), limit, offset).await?;
    Ok(Json(rows))
}

/// Adds a person. Admins.
#[utoipa::path(post, path = "/v1/people", tag = "people", request_body = NewPerson,
    responses((status = 201, body = Person), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(new): Json<NewPerson>,
) -> ApiResult<(StatusCode, Json<Person>)> {
    Ok((
        StatusCode::CREATED,
        Json(store::add(&state.db, &caller.org_id, Some(&caller.person_id), new).await?),
    ))
}

/// One person. Admins, or the person themself.
#[utoipa::path(get, path = "/v1/people/{id}", tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = Person), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Person>> {
    if id != caller.person_id {
        caller.require(Role::Admin)?;
    }
    Ok(Json(store::get(&state.db, &caller.org_id, &id).await?))
}

/// Changes a person. Admins.
#[utoipa::path(patch, path = "/v1/people/{id}", tag = "people", params(("id" = String, Path)),
    request_body = PersonUpdate,
    responses((status = 200, body = Person), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn patch(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Json(patch): Json<PersonUpdate>,
) -> ApiResult<Json<Person>> {
    Ok(Json(
        store::update(
            &state.db,
            &state.sessions,
            &caller.org_id,
            Some(&caller.person_id),
            &id,
            patch,
        )
        .await?,
    ))
}

/// Issues an enrolment code for the person's next device. Admins.
#[utoipa::path(post, path = "/v1/people/{id}/enrolments", tag = "people", params(("id" = String, Path)),
    request_body = NewEnrolment,
    responses((status = 201, body = Enrolment), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn enrolment(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Json(req): Json<NewEnrolment>,
) -> ApiResult<(StatusCode, Json<Enrolment>)> {
    let mut tx = state.db.begin().await?;
    let enrolment = sessions::create_enrolment(
        &mut tx,
        &caller.org_id,
        &id,
        req.valid_hours,
        &state.config.public_url,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(enrolment)))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(super::import::router())
        .routes(routes!(list, create))
        .routes(routes!(show, patch))
        .routes(routes!(enrolment))
}
