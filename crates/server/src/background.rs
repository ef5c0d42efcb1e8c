//! Background tasks under supervision: one that panics is logged, counted
//! (`relay_background_task_restarts_total`) and started again after a pause, rather than the
//! instance going on without its publication clock or its push sender, unnoticed.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::shutdown::Shutdown;

/// The pause before a panicked task starts again (a task that panics at once must not spin).
pub const RESTART_PAUSE: Duration = Duration::from_secs(1);

/// Runs `start()`'s task, and again whenever it panics, until it ends by itself (the server
/// stopping) or the server stops.
pub fn supervise<F>(
    task: &'static str,
    shutdown: &Shutdown,
    metrics: Arc<Metrics>,
    pause: Duration,
    start: F,
) -> JoinHandle<()>
where
    F: Fn() -> JoinHandle<()> + Send + 'static,
{
    let stop = shutdown.signalled();
    tokio::spawn(async move {
        tokio::pin!(stop);
        loop {
            match start().await {
                Ok(()) => return,
                Err(err) if err.is_panic() => {
                    tracing::error!(task, "a background task panicked; it starts again");
                    metrics.task_restarts.with(&[task]).inc();
                }
                Err(_) => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = &mut stop => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_task_that_panics_starts_again_and_is_counted() {
        let shutdown = Shutdown::default();
        let metrics = Arc::new(Metrics::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let handle = supervise(
            "flaky",
            &shutdown,
            metrics.clone(),
            Duration::from_millis(1),
            move || {
                let run = counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    if run < 2 {
                        panic!("run {run} fails");
                    }
                })
            },
        );
        handle.await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(metrics.task_restarts.with(&["flaky"]).get(), 2);
    }

    #[tokio::test]
    async fn a_stopping_server_ends_the_supervision() {
        let shutdown = Shutdown::default();
        let metrics = Arc::new(Metrics::default());
        let handle = supervise(
            "always_failing",
            &shutdown,
            metrics.clone(),
            Duration::from_secs(3600),
            || tokio::spawn(async { panic!("at once") }),
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(5), handle)
            .await
            .expect("ends when the server stops")
            .unwrap();
        assert_eq!(metrics.task_restarts.with(&["always_failing"]).get(), 1);
    }
}
