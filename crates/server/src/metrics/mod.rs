//! Prometheus metrics, served on a listener of their own (`serve --metrics-bind ADDR`) so that
//! the public port never shows them. Counters are kept as requests go; gauges (live streams,
//! the database pools, queues, sources) are read when scraped. Every figure is a count over
//! the whole instance: no person, device or organisation is a label.

pub mod http;
pub mod listener;
pub mod registry;

use std::time::{SystemTime, UNIX_EPOCH};

use registry::{write_counters, write_gauge, write_histograms, Counter, Family, Histogram};

use crate::state::AppState;

/// The instance's counters and histograms.
pub struct Metrics {
    pub requests: Family<Counter>,
    pub latency: Family<Histogram>,
    pub sync_pages: Family<Counter>,
    pub sync_changes: Family<Counter>,
    pub sync_bytes: Family<Counter>,
    pub share_records: Family<Counter>,
    pub link_follows: Family<Counter>,
    pub push_deliveries: Family<Counter>,
    pub task_restarts: Family<Counter>,
    started: SystemTime,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Family::new(
                "relay_http_requests_total",
                "HTTP requests answered, by method, route template and status.",
                &["method", "route", "status"],
            ),
            latency: Family::new(
                "relay_http_request_duration_seconds",
                "Time to answer an HTTP request (to the response's head), by method and route template.",
                &["method", "route"],
            ),
            sync_pages: Family::new(
                "relay_sync_pages_total",
                "Sync pages served (GET /v1/sync answered 200).",
                &[],
            ),
            sync_changes: Family::new(
                "relay_sync_changes_total",
                "Changes (items and tombstones) sent in sync pages.",
                &[],
            ),
            sync_bytes: Family::new(
                "relay_sync_bytes_total",
                "Bytes of sync pages sent, before compression.",
                &[],
            ),
            share_records: Family::new(
                "relay_share_records_total",
                "Share records received, by outcome: scored, unscored, repeat (the same record again) or refused.",
                &["outcome"],
            ),
            link_follows: Family::new(
                "relay_link_follows_total",
                "Tracked links followed, by outcome: counted (a new visitor today), repeat, own (the sharer), not_a_person (previews, HEAD) or failed (not counted after an error).",
                &["outcome"],
            ),
            push_deliveries: Family::new(
                "relay_push_deliveries_total",
                "Push notification attempts, by service and result: delivered, gone, retry, given_up or refused.",
                &["service", "result"],
            ),
            task_restarts: Family::new(
                "relay_background_task_restarts_total",
                "Background tasks restarted after a panic, by task.",
                &["task"],
            ),
            started: SystemTime::now(),
        }
    }
}

/// The page Prometheus scrapes: counters, then gauges read now.
pub async fn render(state: &AppState) -> String {
    let m = &state.metrics;
    let mut out = String::with_capacity(16 * 1024);
    write_counters(&mut out, &m.requests);
    write_histograms(&mut out, &m.latency);
    for family in [
        &m.sync_pages,
        &m.sync_changes,
        &m.sync_bytes,
        &m.share_records,
        &m.link_follows,
        &m.push_deliveries,
        &m.task_restarts,
    ] {
        write_counters(&mut out, family);
    }

    write_gauge(
        &mut out,
        "relay_live_connections",
        "Live event streams (GET /v1/events) open on this instance.",
        &[],
        &[(vec![], state.events.live_streams() as f64)],
    );
    // On PostgreSQL one pool serves reads and writes.
    let pools: Vec<(&str, &sqlx::AnyPool)> = match state.db.backend {
        crate::db::Backend::Sqlite => vec![("read", &state.db.read), ("write", &state.db.write)],
        crate::db::Backend::Postgres => vec![("shared", &state.db.read)],
    };
    let mut connections = Vec::new();
    for (name, pool) in &pools {
        let idle = pool.num_idle() as f64;
        let open = pool.size() as f64;
        connections.push((vec![(*name).to_owned(), "idle".to_owned()], idle));
        connections.push((vec![(*name).to_owned(), "in_use".to_owned()], open - idle));
    }
    write_gauge(
        &mut out,
        "relay_db_connections",
        "Database connections of this instance's pools (SQLite: read and write; PostgreSQL: shared), by state.",
        &["pool", "state"],
        &connections,
    );
    let max: Vec<(Vec<String>, f64)> = pools
        .iter()
        .map(|(name, pool)| {
            (
                vec![(*name).to_owned()],
                pool.options().get_max_connections() as f64,
            )
        })
        .collect();
    write_gauge(
        &mut out,
        "relay_db_connections_max",
        "The most connections each pool opens.",
        &["pool"],
        &max,
    );

    match database_gauges(state).await {
        Ok(gauges) => {
            write_gauge(
                &mut out,
                "relay_push_queue_depth",
                "Push work waiting: items to announce (pending) and notifications to send (deliveries).",
                &["stage"],
                &[
                    (vec!["pending".into()], gauges.pending as f64),
                    (vec!["deliveries".into()], gauges.deliveries as f64),
                ],
            );
            let sources: Vec<(Vec<String>, f64)> = ["healthy", "failing", "flagged", "paused"]
                .iter()
                .zip(gauges.sources)
                .map(|(health, n)| (vec![(*health).to_owned()], n as f64))
                .collect();
            write_gauge(
                &mut out,
                "relay_sources",
                "Sources of every organisation, by health: healthy, failing (less than a day), flagged (failing a day or more) or paused.",
                &["health"],
                &sources,
            );
            database_up(&mut out, 1.0);
        }
        Err(err) => {
            tracing::warn!(error = %err, "metrics: the database did not answer");
            database_up(&mut out, 0.0);
        }
    }

    write_gauge(
        &mut out,
        "relay_build_info",
        "The running version.",
        &["version"],
        &[(vec![env!("CARGO_PKG_VERSION").to_owned()], 1.0)],
    );
    process_gauges(&mut out, m.started);
    out
}

fn database_up(out: &mut String, up: f64) {
    write_gauge(
        out,
        "relay_database_up",
        "1 when the database answered this scrape's queries.",
        &[],
        &[(vec![], up)],
    );
}

struct DatabaseGauges {
    pending: i64,
    deliveries: i64,
    /// healthy, failing, flagged, paused
    sources: [i64; 4],
}

async fn database_gauges(state: &AppState) -> Result<DatabaseGauges, sqlx::Error> {
    let mut conn = state.db.read.acquire().await?;
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM push_pending")
        .fetch_one(&mut *conn)
        .await?;
    let deliveries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM push_deliveries")
        .fetch_one(&mut *conn)
        .await?;
    let flag_before = crate::db::now_ms() - crate::sources::FLAG_AFTER_MS;
    let (healthy, failing, flagged, paused): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT \
           CAST(COALESCE(SUM(CASE WHEN paused = 0 AND failing_since IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
           CAST(COALESCE(SUM(CASE WHEN paused = 0 AND failing_since >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT), \
           CAST(COALESCE(SUM(CASE WHEN paused = 0 AND failing_since < $1 THEN 1 ELSE 0 END), 0) AS BIGINT), \
           CAST(COALESCE(SUM(CASE WHEN paused <> 0 THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM sources",
    )
    .bind(flag_before)
    .fetch_one(&mut *conn)
    .await?;
    Ok(DatabaseGauges {
        pending,
        deliveries,
        sources: [healthy, failing, flagged, paused],
    })
}

/// The process' own figures under the names every Prometheus client uses (Linux only).
fn process_gauges(out: &mut String, started: SystemTime) {
    let start = started
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    write_gauge(
        out,
        "process_start_time_seconds",
        "Start time of the process since the Unix epoch, seconds.",
        &[],
        &[(vec![], start)],
    );
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        write_gauge(
            out,
            "process_open_fds",
            "Open file descriptors (each connection holds one).",
            &[],
            &[(vec![], fds.count() as f64)],
        );
    }
    if let Some(max) = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|soft| soft.parse::<f64>().ok())
        })
    {
        write_gauge(
            out,
            "process_max_fds",
            "The most file descriptors the process may open.",
            &[],
            &[(vec![], max)],
        );
    }
    if let Some(pages) = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<f64>().ok())
    {
        write_gauge(
            out,
            "process_resident_memory_bytes",
            "Resident memory, bytes.",
            &[],
            &[(vec![], pages * 4096.0)],
        );
    }
}
