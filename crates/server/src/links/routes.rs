//! The tracked links' API: making one, and following one.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use relay_protocol::{NewLink, Problem, TrackedLink};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{follow_link, store, with_utm};
use crate::auth::{Caller, ClientAddr};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, Json};
use crate::state::AppState;

/// The caller's tracked link for an item on a network (one per person, item and network).
/// `201` when made, `200` when it existed; `409` for an item retracted or expired.
#[utoipa::path(post, path = "/v1/links", tag = "programme", request_body = NewLink,
    responses((status = 201, body = TrackedLink), (status = 200, body = TrackedLink),
              (status = 400, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewLink>,
) -> ApiResult<(StatusCode, Json<TrackedLink>)> {
    let mut tx = state.db.begin().await?;
    let item = crate::content::offered(&mut tx, &caller, &new.item_id).await?;
    if !item.still_offered_at(now_ms()) {
        return Err(ApiError::Conflict(
            "this item was retracted or has expired: it gets no new tracked links".into(),
        ));
    }
    let target = with_utm(&item.url, new.network.as_str(), &item.channel_slug)?;
    let (made, row) = store::make(&mut tx, &caller, &new.item_id, new.network, &target).await?;
    tx.commit().await?;
    let status = if made {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(row.into_link(&state.config.public_url)?)))
}

/// Follows a tracked link: `302` to the item's address with UTM parameters. Counted once a day
/// per visitor; preview fetchers and HEAD requests are not counted. No sign-in.
///
/// The hottest unauthenticated path: a link's row and `Location` are kept in memory, and the
/// request's headers are read in place (not copied).
#[utoipa::path(get, path = "/l/{code}", tag = "programme",
    params(("code" = String, Path, description = "The link's code")),
    responses((status = 302, description = "To the item", headers(("Location" = String))),
              (status = 404, body = Problem)))]
async fn follow(
    State(state): State<AppState>,
    Path(code): Path<String>,
    address: ClientAddr,
    request: Request,
) -> ApiResult<Response> {
    follow_link(&state, &code, request.method(), request.headers(), address).await
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(follow))
}
