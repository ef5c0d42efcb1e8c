//! LinkedIn's code exchange, brokered. LinkedIn requires the client secret for it, and a secret
//! shipped in every desktop app is no secret: the server holds it and exchanges the code a
//! device brings, passing LinkedIn's token straight back. The token is never stored, never
//! logged (the request and answer bodies stay out of every log line) and never cached
//! (`Cache-Control: no-store`).

use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use relay_protocol::{LinkedInApp, LinkedInCode, LinkedInTokens, Problem};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use super::linkedin_settings::LinkedInConfig;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Json};
use crate::state::AppState;

/// What a LinkedIn app may ask for: sign-in (member id) and posting as the member.
pub const SCOPES: &[&str] = &["openid", "profile", "w_member_social"];

impl LinkedInConfig {
    /// `RELAY_LINKEDIN_CLIENT_ID` and `RELAY_LINKEDIN_CLIENT_SECRET` (both, or LinkedIn is not
    /// offered); `RELAY_LINKEDIN_AUTHORIZE_URL` and `RELAY_LINKEDIN_TOKEN_URL` for tests.
    pub fn from_env() -> Option<LinkedInConfig> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Some(LinkedInConfig {
            client_id: var("RELAY_LINKEDIN_CLIENT_ID")?,
            client_secret: var("RELAY_LINKEDIN_CLIENT_SECRET")?,
            authorize_url: var("RELAY_LINKEDIN_AUTHORIZE_URL")
                .unwrap_or_else(|| "https://www.linkedin.com/oauth/v2/authorization".into()),
            token_url: var("RELAY_LINKEDIN_TOKEN_URL")
                .unwrap_or_else(|| "https://www.linkedin.com/oauth/v2/accessToken".into()),
            redirect_url: var("RELAY_LINKEDIN_REDIRECT_URL"),
        })
    }
}

/// The redirect URL registered with LinkedIn.
fn redirect_url(state: &AppState, config: &LinkedInConfig) -> String {
    config.redirect_url.clone().unwrap_or_else(|| {
        format!(
            "{}/v1/oauth/callback",
            state.config.public_url.trim_end_matches('/')
        )
    })
}

fn config(state: &AppState) -> ApiResult<&LinkedInConfig> {
    state
        .config
        .linkedin
        .as_ref()
        .ok_or(ApiError::NotFound("LinkedIn app"))
}

/// Relay's LinkedIn app: where a device sends the person to sign in.
#[utoipa::path(get, path = "/v1/linkedin", tag = "linkedin",
    responses((status = 200, body = LinkedInApp), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn app_info(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<LinkedInApp>> {
    let config = config(&state)?;
    Ok(Json(LinkedInApp {
        client_id: config.client_id.clone(),
        authorize_url: config.authorize_url.clone(),
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        redirect_uri: redirect_url(&state, config),
    }))
}

#[derive(Deserialize)]
struct LinkedInError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Exchanges a device's authorization code with Relay's client secret; LinkedIn's token goes
/// back to the device and nowhere else.
#[utoipa::path(post, path = "/v1/linkedin/token", tag = "linkedin", request_body = LinkedInCode,
    responses((status = 200, body = LinkedInTokens), (status = 400, body = Problem),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn token(
    State(state): State<AppState>,
    caller: Caller,
    Json(code): Json<LinkedInCode>,
) -> ApiResult<impl IntoResponse> {
    let config = config(&state)?;
    if code.redirect_uri != redirect_url(&state, config) {
        return Err(ApiError::bad(
            "redirect_uri must be this server's LinkedIn callback",
        ));
    }
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.code.as_str()),
        ("redirect_uri", code.redirect_uri.as_str()),
        ("client_id", config.client_id.as_str()),
        ("client_secret", config.client_secret.as_str()),
    ];
    if let Some(verifier) = &code.code_verifier {
        form.push(("code_verifier", verifier.as_str()));
    }
    let response = reqwest::Client::new()
        .post(&config.token_url)
        .form(&form)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| {
            ApiError::Internal(anyhow::anyhow!("LinkedIn unreachable: {}", e.without_url()))
        })?;
    let status = response.status();
    if !status.is_success() {
        let error: LinkedInError = response.json().await.unwrap_or(LinkedInError {
            error: status.to_string(),
            error_description: String::new(),
        });
        tracing::info!(person = %caller.person_id, error = %error.error, "LinkedIn refused a code");
        return Err(ApiError::bad(format!(
            "LinkedIn refused the sign-in: {}",
            if error.error_description.is_empty() {
                error.error
            } else {
                error.error_description
            }
        )));
    }
    let tokens: LinkedInTokens = response
        .json()
        .await
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("LinkedIn answered something else")))?;
    tracing::info!(person = %caller.person_id, "LinkedIn sign-in brokered");
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(tokens)))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(app_info))
        .routes(routes!(token))
}
