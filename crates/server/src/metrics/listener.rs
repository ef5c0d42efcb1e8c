//! The metrics listener: `GET /metrics` on its own address, apart from the API, so that a
//! firewall or a bind to an internal interface keeps the figures to the monitoring system.

use std::net::SocketAddr;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// Prometheus' text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Binds `bind` and serves `/metrics` until the server stops. Answers the bound address.
pub async fn start(
    state: AppState,
    bind: SocketAddr,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let stop = state.shutdown.signalled();
    let router = axum::Router::new()
        .route("/metrics", get(scrape))
        .with_state(state);
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %err, "the metrics listener stopped");
        }
    });
    Ok((addr, task))
}

async fn scrape(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        super::render(&state).await,
    )
}
