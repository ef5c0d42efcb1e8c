use axum::extract::State;
use axum::http::StatusCode;
use relay_protocol::{
    ContentState, ContentUpdate, CuratedContent, NewContent, Problem, RetractRequest,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Curator;
use crate::error::{ApiResult, Json, Path, Query};
use crate::state::AppState;

use super::store;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only items in this state.
    state: Option<ContentState>,
    /// Page size (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Entries to skip (at most 100,000).
    #[param(minimum = 0, maximum = 100000)]
    offset: Option<u32>,
}

/// Content of the organisation in any state, most recently changed first. Curators.
#[utoipa::path(get, path = "/v1/content", tag = "curation", params(ListQuery),
    responses((status = 200, body = Vec<CuratedContent>), (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<CuratedContent>>> {
    let items = store::list(
        &state,
        &caller.org_id,
        q.state,
        crate::paging::limit(q.limit, 50, 500)?,
        crate::paging::offset(q.offset, 100_000)?,
    )
    .await?;
    Ok(Json(items))
}

/// Creates a draft. Its HTML is sanitised on the way in.
#[utoipa::path(post, path = "/v1/content", tag = "curation", request_body = NewContent,
    responses((status = 201, body = CuratedContent), (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn create(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Json(new): Json<NewContent>,
) -> ApiResult<(StatusCode, Json<CuratedContent>)> {
    let created = store::create(&state, &caller.org_id, Some(&caller.person_id), new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One item in any state. Curators.
#[utoipa::path(get, path = "/v1/content/{id}", tag = "curation", params(("id" = String, Path)),
    responses((status = 200, body = CuratedContent), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Path(id): Path<String>,
) -> ApiResult<Json<CuratedContent>> {
    Ok(Json(store::get(&state, &caller.org_id, &id).await?))
}

/// Edits a draft or an approved item (devices receive the edit).
#[utoipa::path(patch, path = "/v1/content/{id}", tag = "curation", params(("id" = String, Path)),
    request_body = ContentUpdate,
    responses((status = 200, body = CuratedContent), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn update(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Path(id): Path<String>,
    Json(patch): Json<ContentUpdate>,
) -> ApiResult<Json<CuratedContent>> {
    Ok(Json(
        store::update(&state, &caller.org_id, Some(&caller.person_id), &id, patch).await?,
    ))
}

/// Approves a draft. It reaches its audience at its publish time.
#[utoipa::path(post, path = "/v1/content/{id}/approve", tag = "curation", params(("id" = String, Path)),
    responses((status = 200, body = CuratedContent), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn approve(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Path(id): Path<String>,
) -> ApiResult<Json<CuratedContent>> {
    Ok(Json(
        store::approve(&state, &caller.org_id, Some(&caller.person_id), &id).await?,
    ))
}

/// Retracts an item for good; devices drop it and cancel queued shares of it.
#[utoipa::path(post, path = "/v1/content/{id}/retract", tag = "curation", params(("id" = String, Path)),
    request_body = RetractRequest,
    responses((status = 200, body = CuratedContent), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn retract(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Path(id): Path<String>,
    Json(req): Json<RetractRequest>,
) -> ApiResult<Json<CuratedContent>> {
    Ok(Json(
        store::retract(
            &state,
            &caller.org_id,
            Some(&caller.person_id),
            &id,
            &req.reason,
        )
        .await?,
    ))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update))
        .routes(routes!(approve))
        .routes(routes!(retract))
}
