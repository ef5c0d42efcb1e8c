use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use relay_protocol::{ConsoleSession, ConsoleSignIn, ConsoleSignInOptions, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sessions::{self, Via};
use crate::auth::{Caller, ClientAddr};
use crate::error::{ApiError, ApiResult, Json};
use crate::state::AppState;

/// How a browser can sign in to the console here.
#[utoipa::path(get, path = "/v1/console/config", tag = "console",
    responses((status = 200, body = ConsoleSignInOptions)))]
async fn options(State(state): State<AppState>) -> Json<ConsoleSignInOptions> {
    Json(ConsoleSignInOptions {
        oidc: state.config.oidc.is_some(),
    })
}

/// Signs a browser in with a one-time link's token: the session comes back as a cookie.
#[utoipa::path(post, path = "/v1/console/session", tag = "console", request_body = ConsoleSignIn,
    responses((status = 200, body = ConsoleSession), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 429, body = Problem)))]
async fn sign_in(
    State(state): State<AppState>,
    address: ClientAddr,
    Json(req): Json<ConsoleSignIn>,
) -> ApiResult<impl IntoResponse> {
    state.attempts.attempt_from(address)?;
    let (org_id, person_id) = super::links::redeem(&state.db, &req.token).await?;
    let person = crate::people::get(&state.db, &org_id, &person_id).await?;
    let org = crate::orgs::by_id(&state.db, &org_id).await?;
    let (session, cookie) = sessions::open(&state, org, person, Via::Link).await?;
    Ok(([(SET_COOKIE, cookie)], Json(session)))
}

/// The browser's console session (after a reload: the page's CSRF token again).
#[utoipa::path(get, path = "/v1/console/session", tag = "console",
    responses((status = 200, body = ConsoleSession), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
async fn current(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
) -> ApiResult<Json<ConsoleSession>> {
    let token = console_token(&headers, &caller)?;
    let person = crate::people::get(&state.db, &caller.org_id, &caller.person_id).await?;
    let org = crate::orgs::by_id(&state.db, &caller.org_id).await?;
    let (expires_at,): (i64,) =
        sqlx::query_as("SELECT expires_at FROM console_sessions WHERE hash = $1")
            .bind(&caller.access_hash)
            .fetch_one(&state.db.read)
            .await?;
    Ok(Json(sessions::describe(
        &state, org, person, &token, expires_at,
    )))
}

/// Signs the browser out: the session ends on the server and the cookie is removed.
#[utoipa::path(delete, path = "/v1/console/session", tag = "console",
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
) -> ApiResult<impl IntoResponse> {
    console_token(&headers, &caller)?;
    sessions::close(&state, &caller).await?;
    let mut out = HeaderMap::new();
    sessions::clear(&state, &mut out);
    Ok((StatusCode::NO_CONTENT, out))
}

/// The cookie's token, for callers that came with one (a device's bearer token has no console
/// session to describe or end).
fn console_token(headers: &HeaderMap, caller: &Caller) -> ApiResult<String> {
    if !crate::auth::cookie::is_console(caller) {
        return Err(ApiError::Forbidden(
            "this is for console sessions, not devices".into(),
        ));
    }
    crate::auth::cookie::token_of(headers)
        .ok_or_else(|| ApiError::unauthorized("missing_token", "no cookie"))
}

/// The console's API (documented with the rest).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(options))
        .routes(routes!(sign_in, current, sign_out))
}

/// The console's pages: the app itself and the company sign-in's redirects.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/console", get(super::assets::to_index))
        .route("/console/", get(super::assets::index))
        .route("/console/oidc/start", get(super::oidc::start))
        .route("/console/oidc/callback", get(super::oidc::callback))
        .route("/console/{*path}", get(super::assets::file))
}
