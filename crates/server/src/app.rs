//! The HTTP application: the router and the generated OpenAPI document. The shared state and
//! settings are in `state.rs`, the request size limits in `request_limits.rs`.

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

use crate::error::ApiError;
use crate::request_limits::MAX_BODY_BYTES;
// Where tests, benchmarks and the load test have always found them.
pub use crate::request_limits::{headers_too_large, MAX_HEADERS, MAX_HEADER_BYTES};
pub use crate::state::{AppState, Config, DEFAULT_MONTH_GRACE_HOURS, DEFAULT_TOMBSTONE_DAYS};

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
        .merge(crate::channels::router())
        .merge(crate::content::router())
        .merge(crate::people::router())
        .merge(crate::personal::router())
        .merge(crate::shares::router())
        .merge(crate::links::router())
        .merge(crate::programme::router())
        .merge(crate::reads::router())
        .merge(crate::sources::router())
        .merge(crate::social::router())
        .merge(crate::auth::oidc::router())
        .merge(crate::audit::routes::router())
        .merge(crate::console::router())
        .merge(crate::analytics::router())
        .merge(crate::push::router())
        .split_for_parts();
    // After the routes are in: it applies to their operations.
    utoipa::Modify::modify(&ProblemResponses, &mut doc);
    (router, doc)
}

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

/// `ready` while the database answers with every migration this server knows; else `503`
/// with why, so a balancer sends nothing to an instance that could not serve it.
async fn ready(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    match state.db.ready().await {
        Ok(()) => "ready".into_response(),
        Err(why) => {
            tracing::warn!(%why, "not ready");
            ApiError::NotReady(why).into_response()
        }
    }
}

/// The generated OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

pub fn app(state: AppState) -> Router {
    let (router, doc) = api();
    let metrics = axum::middleware::from_fn_with_state(state.clone(), crate::metrics::http::track);
    let doc = Arc::new(doc);
    router
        .route(
            "/v1/openapi.json",
            get(move || async move { axum::Json(doc.as_ref().clone()) }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/demo-media/{file}", get(demo_media))
        .merge(crate::console::pages())
        .merge(crate::scim::router())
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(limit_headers))
        .layer(TraceLayer::new_for_http())
        .layer(metrics)
        .with_state(state)
}
