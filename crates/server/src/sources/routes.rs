//! The sources API, for curators.

use axum::extract::State;
use axum::http::StatusCode;
use relay_protocol::{NewSource, PollReport, Problem, Source, SourceUpdate};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Curator;
use crate::db::now_ms;
use crate::error::{ApiResult, Json, Path};
use crate::state::AppState;

/// The organisation's sources with their health, newest first. Curators.
#[utoipa::path(get, path = "/v1/sources", tag = "curation",
    responses((status = 200, body = Vec<Source>)), security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    Curator(caller): Curator,
) -> ApiResult<Json<Vec<Source>>> {
    Ok(Json(super::list(&state, &caller.org_id).await?))
}

/// Adds a source; it is polled at once. Curators.
#[utoipa::path(post, path = "/v1/sources", tag = "curation", request_body = NewSource,
    responses((status = 201, body = Source), (status = 400, body = Problem),
              (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn add(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Json(new): Json<NewSource>,
) -> ApiResult<(StatusCode, Json<Source>)> {
    let source = super::create(&state, &caller.org_id, Some(&caller.person_id), new).await?;
    Ok((StatusCode::CREATED, Json(source)))
}

/// One source and its health. Curators.
#[utoipa::path(get, path = "/v1/sources/{id}", tag = "curation",
    params(("id" = String, Path, description = "Source id")),
    responses((status = 200, body = Source), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn one(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Path(id): Path<String>,
) -> ApiResult<Json<Source>> {
    Ok(Json(
        super::get(&state, &caller.org_id, &id).await?.to_source()?,
    ))
}

/// Changes a source's channel, publishing mode, interval, or pauses it. Curators.
#[utoipa::path(patch, path = "/v1/sources/{id}", tag = "curation", request_body = SourceUpdate,
    params(("id" = String, Path, description = "Source id")),
    responses((status = 200, body = Source), (status = 400, body = Problem),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn change(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Path(id): Path<String>,
    Json(patch): Json<SourceUpdate>,
) -> ApiResult<Json<Source>> {
    Ok(Json(
        super::update(&state, &caller.org_id, Some(&caller.person_id), &id, patch).await?,
    ))
}

/// Polls a source now ("test now"), paused or not, and says what it found. A source that fails
/// answers 200 with the error in the report (and in its health). Curators.
#[utoipa::path(post, path = "/v1/sources/{id}/poll", tag = "curation",
    params(("id" = String, Path, description = "Source id")),
    responses((status = 200, body = PollReport), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn poll_now(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Path(id): Path<String>,
) -> ApiResult<Json<PollReport>> {
    let source = super::get(&state, &caller.org_id, &id).await?;
    // Claimed like the poller claims it, so the poller does not poll it at the same time.
    sqlx::query("UPDATE sources SET next_poll_at = $1 WHERE id = $2")
        .bind(now_ms() + 10 * 60 * 1000)
        .bind(&source.id)
        .execute(&state.db.write)
        .await?;
    Ok(Json(super::poll(&state, &source).await?))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(one, change))
        .routes(routes!(poll_now))
}
