//! Running the server: the HTTP listener plus its background tasks.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::{app, AppState};
use crate::db::Backend;

/// A server running in this process.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits (briefly: event streams never end by themselves)
    /// for open requests to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(2), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }

    /// Waits until the server stops (Ctrl-C or a failure).
    pub async fn wait(self) -> std::io::Result<()> {
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
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
    crate::content::clock::spawn(state.clone(), clock_interval);
    if state.db.backend == Backend::Postgres {
        state
            .events
            .listen_postgres(state.db.url().to_owned(), state.sessions.clone());
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let router = app(state.clone());
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        })
        .await
    });
    Ok(Running {
        addr,
        state,
        stop: Some(stop),
        task,
    })
}
