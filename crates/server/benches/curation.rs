//! The curators' side: `cargo bench -p relay-server --bench curation`.
//!
//! - 20 sources polled every 5 minutes, all answering 304 Not Modified (a separate process
//!   serves the feeds: Python's `http.server`, which answers `If-Modified-Since`): this
//!   process's CPU time per polling cycle and per idle tick of the poller, as a share of one
//!   core over 5 minutes (goal: under 1 %);
//! - the inbox (`GET /v1/content?state=draft`, 50 a page) with 100,000 items, and the people
//!   list (`GET /v1/people`, a page of 100, and a search) with 20,000 people: p50 / p99 of 200
//!   requests each (goal: p99 < 100 ms).
//!
//! On embedded SQLite and on PostgreSQL (when `DATABASE_URL` or the default local server
//! answers); the release server runs in this process, requests go over HTTP.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use relay_protocol::{NewSource, SourceKind};
use relay_server::{AppState, Config};

const SOURCES: usize = 20;
const CYCLES: usize = 30;
const IDLE_TICKS: usize = 300;
const ITEMS: usize = 100_000;
const PEOPLE: usize = 20_000;

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let urls = common::backends(&rt, scratch.path(), "relay_curation_bench");
    let mut report = Vec::new();
    for (name, url) in urls {
        for line in rt.block_on(run(scratch.path(), &url)) {
            report.push(format!("{name}: {line}"));
        }
    }
    println!("\nCuration benchmark");
    for line in report {
        println!("  {line}");
    }
}

/// This process's CPU time (user and system) so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // The kernel's USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

struct FeedProcess(Child);

impl Drop for FeedProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Python's static file server over a folder of 20 feeds (each answers 304 to
/// `If-Modified-Since` with its `Last-Modified`).
fn serve_feeds(dir: &std::path::Path) -> (FeedProcess, String) {
    let feeds = dir.join("feeds");
    std::fs::create_dir_all(&feeds).unwrap();
    let fixture = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/feeds/cloudflare-blog.rss"
    ))
    .unwrap();
    for n in 0..SOURCES {
        std::fs::write(feeds.join(format!("feed-{n}.xml")), &fixture).unwrap();
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .current_dir(&feeds)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 serves the feeds");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (FeedProcess(child), base)
}

async fn run(dir: &std::path::Path, url: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let db = relay_server::db::Db::connect(url).await.unwrap();
    let mut sources = relay_server::sources::SourcesConfig::default();
    sources.fetch.allow_private = true;
    // The poller is driven by hand below.
    sources.poll_every = None;
    let config = Config {
        sources,
        ..common::config()
    };
    let state = AppState::new(db.clone(), config);
    let started = Instant::now();
    let org = relay_server::demo::bulk_org(&state, "bench", ITEMS)
        .await
        .unwrap();
    // Most of them drafts, as an inbox fed by sources for a long time would be.
    sqlx::query(
        "UPDATE items SET state = 'draft', live = 0 WHERE org_id = $1 AND id NOT IN \
                 (SELECT id FROM items WHERE org_id = $1 ORDER BY id LIMIT 1000)",
    )
    .bind(&org.id)
    .execute(&db.write)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(&db.write).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    for chunk in (0..PEOPLE).collect::<Vec<_>>().chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|n| {
                format!(
                    "('bench-person-{n}', '{}', 'Person {n:05} {}', 'person{n}@bench.example', 'FR', 'fr', 'Sales', 'employee', 0)",
                    org.id,
                    ["Martin", "Bernard", "Dubois", "Durand", "Lefebvre"][n % 5]
                )
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO people (id, org_id, name, email, country, language, department, role, created_at) VALUES {}",
            values.join(", ")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(&db.write).await.unwrap();
    eprintln!(
        "{ITEMS} items and {PEOPLE} people seeded in {:.1?}",
        started.elapsed()
    );
    let channel = relay_server::channels::list_all(&db, &org.id)
        .await
        .unwrap()
        .remove(0);

    // 20 sources, polled once so they hold their validators.
    let (_feeds, base) = serve_feeds(dir);
    let mut ids = Vec::new();
    for n in 0..SOURCES {
        let source = relay_server::sources::create(
            &state,
            &org.id,
            None,
            NewSource {
                kind: SourceKind::Feed,
                address: format!("{base}/feed-{n}.xml"),
                channel_id: channel.id.clone(),
                auto_publish: false,
                interval_minutes: Some(5),
            },
        )
        .await
        .unwrap();
        ids.push(source.id);
    }
    let polled = relay_server::sources::poller::tick(&state).await.unwrap();
    assert_eq!(polled, SOURCES);

    // Polling cycles: every source due, every one answering 304.
    let mut cycle_cpu = Duration::ZERO;
    let mut cycle_wall = Duration::ZERO;
    for _ in 0..CYCLES {
        sqlx::query("UPDATE sources SET next_poll_at = 0")
            .execute(&db.write)
            .await
            .unwrap();
        let (cpu, wall) = (cpu_time(), Instant::now());
        let polled = relay_server::sources::poller::tick(&state).await.unwrap();
        cycle_cpu += cpu_time() - cpu;
        cycle_wall += wall.elapsed();
        assert_eq!(polled, SOURCES);
    }
    let not_modified: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sources WHERE etag IS NULL AND last_modified IS NOT NULL AND last_error IS NULL")
            .fetch_one(&db.read)
            .await
            .unwrap();
    assert_eq!(
        not_modified as usize, SOURCES,
        "every source polled with its validator"
    );
    // Idle ticks: nothing due.
    let cpu = cpu_time();
    for _ in 0..IDLE_TICKS {
        assert_eq!(
            relay_server::sources::poller::tick(&state).await.unwrap(),
            0
        );
    }
    let idle_cpu = cpu_time() - cpu;
    let per_cycle = cycle_cpu / CYCLES as u32;
    let per_idle = idle_cpu / IDLE_TICKS as u32;
    // Over 5 minutes: one cycle, and a tick every 5 s.
    let five_minutes = per_cycle + per_idle * 60;
    lines.push(format!(
        "20 sources answering 304: {:.1} ms of CPU per cycle ({:.1} ms wall), {:.2} ms per idle tick: {:.3} % of a core over 5 minutes (goal < 1 %)",
        per_cycle.as_secs_f64() * 1000.0,
        cycle_wall.as_secs_f64() * 1000.0 / CYCLES as f64,
        per_idle.as_secs_f64() * 1000.0,
        five_minutes.as_secs_f64() / 300.0 * 100.0
    ));

    // The lists, over HTTP, as an admin.
    let token = common::staff_session(&db, &org.id, relay_protocol::Role::Admin).await;
    let running = relay_server::serve::start(
        state.clone(),
        "127.0.0.1:0".parse().unwrap(),
        Duration::from_secs(3600),
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    for (what, path, expected) in [
        (
            format!("the inbox, 50 newest drafts of {ITEMS} items"),
            "/v1/content?state=draft&limit=50",
            50,
        ),
        (
            format!("the people list, first page of 100 of {PEOPLE} people"),
            "/v1/people",
            100,
        ),
        (
            format!("the people list, page 150 of {PEOPLE} people"),
            "/v1/people?offset=15000",
            100,
        ),
        (
            format!("the people list, a common name among {PEOPLE} people"),
            "/v1/people?q=dubois&limit=100",
            100,
        ),
        (
            format!("the people list, a rare search (11 of {PEOPLE}: every row looked at)"),
            "/v1/people?q=PERSON1999",
            11,
        ),
    ] {
        let url = format!("{}{path}", running.base_url());
        let mut times = Vec::new();
        for n in 0..220 {
            let at = Instant::now();
            let answer = http.get(&url).bearer_auth(&token).send().await.unwrap();
            assert!(answer.status().is_success(), "{path}: {}", answer.status());
            let page: Vec<serde_json::Value> = answer.json().await.unwrap();
            assert_eq!(page.len(), expected, "{path}");
            if n >= 20 {
                times.push(at.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        lines.push(format!(
            "{what}: p50 {:.1} ms, p99 {:.1} ms (goal p99 < 100 ms)",
            times[times.len() / 2],
            times[times.len() * 99 / 100]
        ));
    }
    running.stop().await;
    lines
}
