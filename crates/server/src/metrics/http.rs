//! Each HTTP request counted by its route's template (`/v1/content/{id}`, never the path a
//! client made up: the series stay few), its method and status, with its latency.

use std::time::{Duration, Instant};

use axum::body::HttpBody;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::Metrics;
use crate::state::AppState;

/// The route label of requests no route matched.
const UNMATCHED: &str = "unmatched";

/// Methods outside these are one label, so that made-up methods make no new series.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    let route = route.as_deref().unwrap_or(UNMATCHED);
    if route == "/v1/sync" && response.status().is_success() {
        if let Some(bytes) = response.body().size_hint().exact() {
            state.metrics.sync_bytes.with(&[]).add(bytes);
        }
    }
    record(
        &state.metrics,
        method,
        route,
        response.status(),
        started.elapsed(),
    );
    response
}

pub fn record(
    metrics: &Metrics,
    method: &str,
    route: &str,
    status: axum::http::StatusCode,
    elapsed: Duration,
) {
    metrics
        .requests
        .with(&[method, route, status.as_str()])
        .inc();
    metrics.latency.with(&[method, route]).observe(elapsed);
}
