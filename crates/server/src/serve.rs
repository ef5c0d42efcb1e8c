//! Running the server: the HTTP listener plus its background tasks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::{app, AppState};
use crate::db::Backend;

/// A server running in this process, with the handles of everything it started.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    task: JoinHandle<std::io::Result<()>>,
    /// The publication clock and, on PostgreSQL, the cross-instance listener.
    background: Vec<JoinHandle<()>>,
}

/// How long in-flight requests get to finish once the server stops.
const DRAIN: Duration = Duration::from_secs(10);

impl Running {
    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops cleanly: no new connections, live event streams end, in-flight requests finish
    /// (for up to [`DRAIN`]), then the background tasks return. Answers whether everything
    /// ended by itself (nothing had to be aborted).
    pub async fn stop(mut self) -> bool {
        self.state.shutdown.trigger();
        let mut clean = true;
        if tokio::time::timeout(DRAIN, &mut self.task).await.is_err() {
            tracing::warn!("requests still running after the drain time; aborting them");
            self.task.abort();
            clean = false;
        }
        for mut task in self.background.drain(..) {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
                clean = false;
            }
        }
        clean
    }

    /// Serves Prometheus metrics on `bind` (its own listener, apart from the API) until the
    /// server stops. Answers the bound address.
    pub async fn serve_metrics(&mut self, bind: SocketAddr) -> std::io::Result<SocketAddr> {
        let (addr, task) = crate::metrics::listener::start(self.state.clone(), bind).await?;
        self.background.push(task);
        Ok(addr)
    }

    /// Serves until SIGTERM or Ctrl-C (then stops cleanly, as [`Running::stop`]) or a failure.
    pub async fn serve_until_signalled(mut self) -> std::io::Result<()> {
        #[cfg(unix)]
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        #[cfg(unix)]
        let terminated = term.recv();
        #[cfg(not(unix))]
        let terminated = std::future::pending::<Option<()>>();
        tokio::select! {
            result = &mut self.task => {
                return result.unwrap_or_else(|e| Err(std::io::Error::other(e)));
            }
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
        tracing::info!("stopping: no new connections, finishing requests");
        if self.stop().await {
            tracing::info!("stopped");
        }
        Ok(())
    }
}

/// How much of a request's head hyper reads before refusing it on its own (with a bare 431):
/// far above [`crate::request_limits::MAX_HEADER_BYTES`], so that the app's own limit, which answers with a
/// problem document, is the one requests meet.
const HEAD_BUFFER: usize = 1024 * 1024;

/// Tracked links (`GET` or `HEAD /l/{code}`), the one hot path that anyone on the internet
/// reaches, skip the router and its layers (request tracing, body limit): about twice the
/// redirects per second (`benches/programme.rs`). The header limit still holds; anything else
/// about the request goes the usual way.
async fn follow_directly<B>(
    state: &Arc<AppState>,
    request: &hyper::Request<B>,
    peer: SocketAddr,
) -> Option<axum::response::Response> {
    use axum::response::IntoResponse;
    let method = request.method();
    if method != hyper::Method::GET && method != hyper::Method::HEAD {
        return None;
    }
    let code = crate::links::tracked_code(request.uri().path())?;
    if crate::request_limits::headers_too_large(request.headers()) {
        return None;
    }
    let started = std::time::Instant::now();
    let address = crate::auth::ClientAddr(Some(peer.ip()));
    let response = crate::links::follow_link(state, code, method, request.headers(), address)
        .await
        .into_response();
    let method = if method == hyper::Method::GET {
        "GET"
    } else {
        "HEAD"
    };
    crate::metrics::http::record(
        &state.metrics,
        method,
        "/l/{code}",
        response.status(),
        started.elapsed(),
    );
    Some(response)
}

/// Accepts connections until `stop`, then lets open ones finish. Each request carries its
/// client's address (`ConnectInfo`: the peer, or the client a trusted proxy names), for the
/// attempt limits and the count of link visitors.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    state: Arc<AppState>,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use tower::ServiceExt;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_buf_size(HEAD_BUFFER)
        .max_headers(crate::request_limits::MAX_HEADERS * 4);
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let router = router.clone();
        let state = state.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            let router = router.clone();
            let state = state.clone();
            async move {
                // Behind a trusted reverse proxy, the client it names.
                let peer = state.config.trusted_proxies.client(peer, request.headers());
                if let Some(response) = follow_directly(&state, &request, peer).await {
                    return Ok(response);
                }
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                router.oneshot(request).await
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Binds `bind` (port 0 picks a free one), starts the publication clock and, on PostgreSQL, the
/// cross-instance event listener, and serves until stopped.
pub async fn start(
    state: AppState,
    bind: SocketAddr,
    clock_interval: Duration,
) -> std::io::Result<Running> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    // Each started again should it panic (and counted: `relay_background_task_restarts_total`).
    let supervised = |task: &'static str, start: fn(&AppState, Duration) -> JoinHandle<()>| {
        let for_task = state.clone();
        crate::background::supervise(
            task,
            &state.shutdown,
            state.metrics.clone(),
            crate::background::RESTART_PAUSE,
            move || start(&for_task, clock_interval),
        )
    };
    let mut background = vec![supervised("publication_clock", |s, every| {
        crate::content::clock::spawn(s.clone(), every)
    })];
    if state.config.sources.poll_every.is_some() {
        background.push(supervised("sources_poller", |s, _| {
            let every = s.config.sources.poll_every.unwrap_or_default();
            crate::sources::poller::spawn(s.clone(), every)
        }));
    }
    background.push(supervised("push", |s, _| crate::push::spawn(s.clone())));
    background.push(supervised("draw_clock", |s, _| {
        crate::programme::draw::clock::spawn(s.clone())
    }));
    background.push(supervised("share_confirmation", |s, _| {
        crate::shares::confirm::spawn(s.clone())
    }));
    if state.db.backend == Backend::Postgres {
        background.push(supervised("postgres_listener", |s, _| {
            s.events
                .listen_postgres(s.db.clone(), s.sessions.clone(), s.shutdown.clone())
        }));
    }
    let router = app(state.clone());
    let stopped = state.shutdown.signalled();
    let task = tokio::spawn(serve(listener, router, Arc::new(state.clone()), stopped));
    Ok(Running {
        addr,
        state,
        task,
        background,
    })
}
