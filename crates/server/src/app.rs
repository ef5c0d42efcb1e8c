//! The HTTP application: shared state, the router, and the generated OpenAPI document.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::store::TokenLifetimes;
use crate::auth::{AttemptLimits, AttemptQuota, SessionCache};
use crate::db::Db;
use crate::error::ApiError;
use crate::events::Events;

/// Largest request body accepted, in bytes (content bodies are at most 200 kB of HTML).
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// Largest request head accepted (header names and values), and most headers.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
pub const MAX_HEADERS: usize = 100;

/// Refuses requests with oversized or too many headers, with a problem document.
async fn limit_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if headers_too_large(request.headers()) {
        return ApiError::HeadersTooLarge.into_response();
    }
    next.run(request).await
}

/// Whether a request's headers go past [`MAX_HEADER_BYTES`] or [`MAX_HEADERS`].
pub fn headers_too_large(headers: &axum::http::HeaderMap) -> bool {
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    bytes > MAX_HEADER_BYTES || headers.len() > MAX_HEADERS
}

/// Settings that shape the API's answers.
#[derive(Debug, Clone)]
pub struct Config {
    /// The URL devices reach this server at (put in enrolment links).
    pub public_url: String,
    pub tokens: TokenLifetimes,
    /// Relay's LinkedIn app, for the brokered code exchange (none: LinkedIn is not offered).
    pub linkedin: Option<crate::linkedin::LinkedInConfig>,
    /// The company's OpenID Connect provider (none: enrolment codes only).
    pub oidc: Option<crate::auth::oidc::OidcConfig>,
    /// Attempts allowed on enrolment, refresh and sign-in.
    pub attempts: AttemptQuota,
    /// How long a retracted or expired item stays in the feed as a tombstone.
    pub tombstone_max_age: chrono::Duration,
    /// How long after a programme month ends its share records are still taken.
    pub month_grace: chrono::Duration,
    /// Where the prize draw's beacon rounds come from.
    pub beacon: crate::programme::draw::BeaconConfig,
    /// What sources may reach, and how often they are looked at. Shares are confirmed through
    /// the same guard and addresses (PLC directory, AppView, Mastodon's scheme).
    pub sources: crate::sources::SourcesConfig,
    /// How often posts are read to confirm shares, and read again.
    pub confirm: crate::shares::confirm::ConfirmConfig,
    /// How long console sessions and sign-in links last.
    pub console: crate::console::ConsoleConfig,
    /// Push services and their keys, the batch window.
    pub push: crate::push::PushSettings,
}

impl Config {
    /// Every default, at `public_url`, without limits on attempts: for tests, benchmarks and
    /// load runs, which enrol many devices from one address.
    pub fn unlimited(public_url: &str) -> Config {
        Config {
            public_url: public_url.into(),
            tokens: TokenLifetimes::default(),
            linkedin: None,
            oidc: None,
            attempts: AttemptQuota {
                per_address: u32::MAX,
                per_org: u32::MAX,
            },
            tombstone_max_age: chrono::Duration::days(DEFAULT_TOMBSTONE_DAYS),
            month_grace: chrono::Duration::hours(DEFAULT_MONTH_GRACE_HOURS),
            beacon: Default::default(),
            sources: Default::default(),
            confirm: Default::default(),
            console: Default::default(),
            push: Default::default(),
        }
    }
}

/// A month's records are taken until 72 hours after it ends (devices that were offline).
pub const DEFAULT_MONTH_GRACE_HOURS: i64 = 72;

/// Tombstones are fed for 90 days: a device offline longer rebuilds its cache.
pub const DEFAULT_TOMBSTONE_DAYS: i64 = 90;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub events: Events,
    pub sessions: SessionCache,
    pub attempts: Arc<AttemptLimits>,
    pub config: Arc<Config>,
    pub shutdown: crate::shutdown::Shutdown,
    /// The company provider's discovery document and keys, cached.
    pub provider: Arc<crate::auth::provider::ProviderCache>,
    /// Tracked links, today's salt and today's visitors, kept in memory.
    pub link_cache: crate::links::LinkCache,
    /// The HTTP client of sources (SSRF-safe, bounded).
    pub fetcher: crate::sources::fetch::Fetcher,
    /// Share records arriving together, written in one transaction.
    pub recorder: crate::shares::recorder::Recorder,
    /// The points rules of months that have begun (frozen).
    pub rules_cache: crate::programme::rules::RulesCache,
}

impl AppState {
    pub fn new(db: Db, config: Config) -> AppState {
        let config_fetch = config.sources.fetch.clone();
        AppState {
            db,
            events: Events::default(),
            sessions: SessionCache::default(),
            attempts: Arc::new(AttemptLimits::new(config.attempts)),
            config: Arc::new(config),
            shutdown: Default::default(),
            provider: Default::default(),
            link_cache: Default::default(),
            fetcher: crate::sources::fetch::Fetcher::new(config_fetch),
            recorder: Default::default(),
            rules_cache: Default::default(),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Relay server API", description = "Curated content, its change feed, device sessions and share records."),
    modifiers(&BearerAuth),
    tags(
        (name = "sessions", description = "Enrolment and device sessions"),
        (name = "sync", description = "The change feed and live events"),
        (name = "content", description = "What employees read"),
        (name = "curation", description = "Drafts, approval, retraction, audit"),
        (name = "people", description = "People and enrolment codes"),
        (name = "shares", description = "Share records"),
        (name = "programme", description = "Points, tracked links, the leaderboard and the top ten"),
        (name = "analytics", description = "The programme's figures, never a person's"),
        (name = "push", description = "Push notifications to phones and browsers, and a person's notification preferences"),
        (name = "console", description = "The curators' web console: browser sessions"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every refusal is a problem document: documented refusals say `application/problem+json`,
/// and every operation has a `default` answer for the refusals any request can meet (a
/// malformed body, a missing token, a rate limit, an unavailable database).
struct ProblemResponses;

impl utoipa::Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, response) in operation.responses.responses.iter_mut() {
                    let utoipa::openapi::RefOr::T(response) = response else {
                        continue;
                    };
                    if !status.starts_with('2') && !status.starts_with('3') {
                        if let Some(content) = response.content.shift_remove("application/json") {
                            response
                                .content
                                .insert(relay_protocol::PROBLEM_CONTENT_TYPE.into(), content);
                        }
                    }
                }
                operation
                    .responses
                    .responses
                    .entry("default".into())
                    .or_insert_with(|| {
                        ResponseBuilder::new()
                            .description("A refusal, explained")
                            .content(relay_protocol::PROBLEM_CONTENT_TYPE, problem())
                            .into()
                    });
            }
        }
    }
}

/// Every route, with its OpenAPI description collected from the handlers.
fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::auth::router())
        .merge(crate::sync::router())
        .merge(crate::events::router())
        .merge(crate::channels::router())
        .merge(crate::content::router())
        .merge(crate::people::router())
        .merge(crate::personal::router())
        .merge(crate::shares::router())
        .merge(crate::links::router())
        .merge(crate::programme::router())
        .merge(crate::reads::router())
        .merge(crate::sources::router())
        .merge(crate::linkedin::router())
        .merge(crate::oauth_callback::router())
        .merge(crate::auth::oidc::router())
        .merge(crate::audit::router())
        .merge(crate::console::router())
        .merge(crate::analytics::router())
        .merge(crate::push::router())
        .split_for_parts();
    // After the routes are in: it applies to their operations.
    utoipa::Modify::modify(&ProblemResponses, &mut doc);
    (router, doc)
}

/// The demo stories' illustrations (SVG drawn by the server, so the demo needs no internet).
async fn demo_media(
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let svg = file
        .strip_suffix(".svg")
        .and_then(crate::demo::illustration)
        .ok_or(ApiError::NotFound("image"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        svg,
    ))
}

/// The generated OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

pub fn app(state: AppState) -> Router {
    let (router, doc) = api();
    let doc = Arc::new(doc);
    router
        .route(
            "/v1/openapi.json",
            get(move || async move { axum::Json(doc.as_ref().clone()) }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/demo-media/{file}", get(demo_media))
        .merge(crate::console::pages())
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(limit_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
