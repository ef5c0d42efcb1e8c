//! Company sign-in with the company's OpenID Connect provider. The device runs the
//! authorization code flow with PKCE in the system browser and brings the code here; the server
//! exchanges it (the provider's public client, with the device's PKCE verifier), validates the
//! ID token (signature from the provider's JWKS, issuer, audience, expiry, the device's nonce)
//! and opens a device session, creating the person on first sign-in where the configuration
//! allows it.

use axum::extract::State;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use relay_protocol::{EnrolResponse, NewPerson, OidcProvider, OidcSignIn, Org, Problem, Role};
use serde::Deserialize;

use super::provider::{provider_down, Discovery};
pub use super::settings::OidcConfig;
use crate::error::{ApiError, ApiResult, Json};
use crate::state::AppState;

pub const SCOPES: &[&str] = &["openid", "email", "profile"];

#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    pub id_token: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Claims {
    pub sub: String,
    nonce: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    name: Option<String>,
    locale: Option<String>,
}

impl OidcConfig {
    pub fn console_client(&self) -> &str {
        self.console_client_id.as_deref().unwrap_or(&self.client_id)
    }
}

pub(crate) fn config(state: &AppState) -> ApiResult<&OidcConfig> {
    state
        .config
        .oidc
        .as_ref()
        .ok_or(ApiError::NotFound("company sign-in"))
}

/// Where devices sign in with the company's provider.
#[utoipa::path(get, path = "/v1/auth/oidc", tag = "sessions",
    responses((status = 200, body = OidcProvider), (status = 404, body = Problem)))]
async fn provider(State(state): State<AppState>) -> ApiResult<Json<OidcProvider>> {
    let config = config(&state)?;
    let discovery = state.provider.discovery(&config.issuer).await?;
    Ok(Json(OidcProvider {
        issuer: config.issuer.clone(),
        client_id: config.client_id.clone(),
        authorization_endpoint: discovery.authorization_endpoint,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
    }))
}

/// Signs a device in with a code from the company's provider: a device session, as enrolment
/// gives.
#[utoipa::path(post, path = "/v1/auth/oidc", tag = "sessions", request_body = OidcSignIn,
    responses((status = 200, body = EnrolResponse), (status = 400, body = Problem),
              (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 429, body = Problem)))]
async fn sign_in(
    State(state): State<AppState>,
    address: crate::auth::ClientAddr,
    Json(req): Json<OidcSignIn>,
) -> ApiResult<Json<EnrolResponse>> {
    state.attempts.attempt_from(address)?;
    let config = config(&state)?;
    let device_name = req.device_name.trim();
    let platform = req.platform.trim();
    if device_name.is_empty() || device_name.chars().count() > 100 {
        return Err(ApiError::bad("device_name must be 1 to 100 characters"));
    }
    if platform.is_empty() || platform.len() > 32 {
        return Err(ApiError::bad("platform must be 1 to 32 characters"));
    }
    if req.nonce.len() < 16 {
        return Err(ApiError::bad("nonce must be at least 16 characters"));
    }
    let (claims, email) = exchange(
        &state,
        config,
        &config.client_id,
        &req.code,
        &req.redirect_uri,
        &req.code_verifier,
        &req.nonce,
    )
    .await?;
    let org: crate::db::rows::OrgRow =
        sqlx::query_as("SELECT id, slug, name FROM orgs WHERE slug = $1")
            .bind(&config.org_slug)
            .fetch_optional(&state.db.read)
            .await?
            .ok_or_else(|| {
                provider_down("organisation", "the configured organisation does not exist")
            })?;
    let person = match crate::people::find_by_email(&state.db, &org.id, &email).await {
        Ok(person) => person,
        Err(ApiError::NotFound(_)) if config.create_people => {
            let (language, country) = locale(claims.locale.as_deref(), config);
            crate::people::add(
                &state.db,
                &org.id,
                None,
                NewPerson {
                    name: claims.name.unwrap_or_else(|| email.clone()),
                    email: email.clone(),
                    country,
                    language,
                    department: String::new(),
                    role: Role::Employee,
                },
            )
            .await?
        }
        Err(ApiError::NotFound(_)) => {
            return Err(ApiError::Forbidden(format!(
                "{email} has no Relay account in this organisation; ask your communication team"
            )))
        }
        Err(e) => return Err(e),
    };
    if !person.active {
        return Err(ApiError::Forbidden("this account is deactivated".into()));
    }
    let mut tx = state.db.begin().await?;
    let (device_id, tokens) = crate::auth::store::insert_session(
        &mut tx,
        state.config.tokens,
        &org.id,
        &person.id,
        device_name,
        platform,
    )
    .await?;
    crate::audit::record(
        &mut tx,
        &org.id,
        Some(&person.id),
        "session.oidc",
        &device_id,
        serde_json::json!({ "device_name": device_name, "platform": platform, "subject": claims.sub }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(EnrolResponse {
        session: tokens,
        person,
        org: Org::from(org),
    }))
}

/// A sign-in code exchanged at the provider's token endpoint (with its PKCE verifier, for
/// `client_id`), and the ID token that comes back validated: its claims and the person's
/// verified e-mail address. Devices and the console sign in through it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn exchange(
    state: &AppState,
    config: &OidcConfig,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    nonce: &str,
) -> ApiResult<(Claims, String)> {
    let refused = |why: &str| ApiError::unauthorized("sign_in_refused", why.to_owned());
    let discovery = state.provider.discovery(&config.issuer).await?;
    let answer = state
        .provider
        .http()
        .post(&discovery.token_endpoint)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", client_id),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .map_err(|e| provider_down("token endpoint", e.without_url()))?;
    if !answer.status().is_success() {
        return Err(refused("the identity provider refused the sign-in code"));
    }
    let id_token = answer
        .json::<TokenAnswer>()
        .await
        .ok()
        .and_then(|a| a.id_token)
        .ok_or_else(|| refused("the identity provider gave no ID token"))?;
    let claims = validate(state, config, client_id, &discovery, &id_token, nonce).await?;
    let email = claims
        .email
        .clone()
        .filter(|_| claims.email_verified != Some(false))
        .ok_or_else(|| refused("the identity provider gave no verified e-mail address"))?;
    Ok((claims, email))
}

/// The ID token's signature (a key of the provider's JWKS, an asymmetric algorithm only),
/// issuer, audience, expiry and nonce.
async fn validate(
    state: &AppState,
    config: &OidcConfig,
    client_id: &str,
    discovery: &Discovery,
    id_token: &str,
    nonce: &str,
) -> ApiResult<Claims> {
    let refused = |why: String| ApiError::unauthorized("sign_in_refused", why);
    let header = jsonwebtoken::decode_header(id_token)
        .map_err(|e| refused(format!("the ID token is malformed: {e}")))?;
    if !matches!(
        header.alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::ES256
            | Algorithm::ES384
            | Algorithm::EdDSA
    ) {
        return Err(refused(format!(
            "the ID token's algorithm {:?} is not accepted",
            header.alg
        )));
    }
    let jwk = state
        .provider
        .key(&discovery.jwks_uri, header.kid.as_deref())
        .await?
        .ok_or_else(|| refused("the ID token is signed with an unknown key".into()))?;
    let key = DecodingKey::from_jwk(&jwk)
        .map_err(|e| refused(format!("the provider's key is unusable: {e}")))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[config.issuer.as_str()]);
    validation.set_audience(&[client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 60;
    let data = jsonwebtoken::decode::<Claims>(id_token, &key, &validation)
        .map_err(|e| refused(format!("the ID token is not valid: {e}")))?;
    if data.claims.nonce.as_deref() != Some(nonce) {
        return Err(refused(
            "the ID token was not issued for this sign-in (nonce)".into(),
        ));
    }
    Ok(data.claims)
}

/// Language and country from a `locale` claim (`fr-FR`, `fr_CA`, `de`).
fn locale(claim: Option<&str>, config: &OidcConfig) -> (String, String) {
    let mut parts = claim.unwrap_or("").split(['-', '_']);
    let language = parts
        .next()
        .filter(|l| l.len() == 2)
        .map(str::to_lowercase)
        .unwrap_or_else(|| config.default_language.clone());
    let country = parts
        .next()
        .filter(|c| c.len() == 2)
        .map(str::to_uppercase)
        .unwrap_or_else(|| config.default_country.clone());
    (language, country)
}

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(provider, sign_in))
}
