//! "Sign in with your company account" for the console: the authorization code flow with PKCE,
//! run by the server for the browser. The flow's secrets (state, nonce, PKCE verifier) are
//! derived from one random value in a short-lived cookie of the browser that started it, so
//! another browser cannot finish it (login CSRF) and the server keeps nothing between the two
//! requests (any instance can take the callback).

use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::sessions::{self, Via};
use crate::auth::{hash_secret, new_token, TokenKind};
use crate::error::ApiError;
use crate::state::AppState;

const FLOW_COOKIE: &str = "relay_console_oidc";
const FLOW_MAX_AGE_SECS: u64 = 600;

fn derived(flow: &str, what: &str) -> String {
    hash_secret(&format!("{what}:{flow}"))
}

fn redirect_uri(state: &AppState) -> String {
    format!(
        "{}/console/oidc/callback",
        state.config.public_url.trim_end_matches('/')
    )
}

/// The flow cookie: `SameSite=Lax`, since it must come back on the provider's redirect (a
/// navigation from another site), and scoped to the callback.
fn flow_cookie(state: &AppState, value: &str, max_age: u64) -> HeaderValue {
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{FLOW_COOKIE}={value}; Path=/console/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .expect("a cookie of URL-safe characters")
}

/// Sends the browser to the company's provider.
pub async fn start(State(state): State<AppState>) -> Result<Response, ApiError> {
    let config = crate::auth::oidc::config(&state)?;
    let discovery = state.provider.discovery(&config.issuer).await?;
    let flow = new_token(TokenKind::ConsoleLink);
    let verifier = derived(&flow, "verifier");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut url = url::Url::parse(&discovery.authorization_endpoint).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!(
            "the provider's authorization endpoint: {e}"
        ))
    })?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", config.console_client())
        .append_pair("redirect_uri", &redirect_uri(&state))
        .append_pair("scope", &crate::auth::oidc::SCOPES.join(" "))
        .append_pair("state", &derived(&flow, "state"))
        .append_pair("nonce", &derived(&flow, "nonce"))
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let mut headers = HeaderMap::new();
    headers.insert(SET_COOKIE, flow_cookie(&state, &flow, FLOW_MAX_AGE_SECS));
    headers.insert(
        LOCATION,
        HeaderValue::from_str(url.as_str()).map_err(|e| ApiError::Internal(e.into()))?,
    );
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Where the provider sends the browser back: the code is exchanged and checked, the person
/// found (curators and admins only), and the browser lands in the console signed in. Failures
/// land on the sign-in page with the reason.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Callback>,
) -> Response {
    let mut out = HeaderMap::new();
    out.insert(SET_COOKIE, flow_cookie(&state, "", 0));
    let destination = match finish(&state, &headers, query).await {
        Ok(cookie) => {
            out.append(SET_COOKIE, cookie);
            "/console/#/inbox".to_owned()
        }
        Err(e) => {
            let reason: String =
                url::form_urlencoded::byte_serialize(e.to_string().as_bytes()).collect();
            format!("/console/#/signin?error={reason}")
        }
    };
    out.insert(
        LOCATION,
        HeaderValue::from_str(&destination).unwrap_or(HeaderValue::from_static("/console/")),
    );
    (StatusCode::SEE_OTHER, out).into_response()
}

async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    query: Callback,
) -> Result<HeaderValue, ApiError> {
    let refused = |why: &str| ApiError::unauthorized("sign_in_refused", why.to_owned());
    if let Some(error) = query.error {
        return Err(refused(&format!("the identity provider said: {error}")));
    }
    let flow = crate::auth::cookie::cookie_value(headers, FLOW_COOKIE)
        .ok_or_else(|| refused("this sign-in was not started in this browser, or took too long"))?;
    if query.state.as_deref() != Some(derived(&flow, "state").as_str()) {
        return Err(refused("this sign-in was not started in this browser"));
    }
    let code = query
        .code
        .ok_or_else(|| refused("the identity provider gave no code"))?;
    let config = crate::auth::oidc::config(state)?;
    let (_, email) = crate::auth::oidc::exchange(
        state,
        config,
        config.console_client(),
        &code,
        &redirect_uri(state),
        &derived(&flow, "verifier"),
        &derived(&flow, "nonce"),
    )
    .await?;
    let org = crate::orgs::by_slug(&state.db, &config.org_slug).await?;
    let person = crate::people::find_by_email(&state.db, &org.id, &email)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) => {
                ApiError::Forbidden(format!("{email} has no Relay account in this organisation"))
            }
            e => e,
        })?;
    let (_, cookie) = sessions::open(state, org, person, Via::Oidc).await?;
    Ok(cookie)
}
