//! The redirect URL to register with social networks that accept no ephemeral loopback ports:
//! it forwards the browser to the app on the person's own computer.

use axum::response::IntoResponse;
use relay_protocol::Problem;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, Query};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct CallbackQuery {
    state: String,
}

/// Where providers that accept only registered redirect URLs (LinkedIn, X) send the browser
/// after sign-in: forwarded, query and all, to the device's
/// loopback port, which the device put at the start of `state` (`<port>.<random>`). Only ever
/// to 127.0.0.1: this is no open redirect.
#[utoipa::path(get, path = "/v1/oauth/callback", tag = "sessions", params(CallbackQuery),
    responses((status = 303), (status = 400, body = Problem)))]
async fn callback(
    Query(query): Query<CallbackQuery>,
    uri: axum::http::Uri,
) -> ApiResult<impl IntoResponse> {
    let port: u16 = query
        .state
        .split_once('.')
        .and_then(|(port, _)| port.parse().ok())
        .filter(|port| *port >= 1024)
        .ok_or_else(|| ApiError::bad("this sign-in did not start in the Relay app"))?;
    let to = format!(
        "http://127.0.0.1:{port}/callback?{}",
        uri.query().unwrap_or_default()
    );
    Ok(axum::response::Redirect::to(&to))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(callback))
}
