//! Device engine benchmark: `cargo bench -p relay-client --bench engine` (or
//! `scripts/bench.sh`). Prints:
//! - the first sync of 10,000 and of 100,000 items, end to end against the real server (items/s;
//!   goal: 10,000 in under 1 s);
//! - the apply rate alone (pages already fetched) next to raw rusqlite inserts of the same rows
//!   into a bare table and into the device's own schema with its search index, in the same run
//!   (goal: apply >= 0.9 of the raw insert into the same schema);
//! - search latency over 100,000 items, p50 and p99 (goal: p99 < 10 ms);
//! - the feed and search answering while the 100,000-item first sync runs, p50 and p99 (goal:
//!   p99 < 50 ms: the app's window never waits for a sync).
//!
//! Options (after `--`): `--small N` (10000), `--large N` (100000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use relay_client::api::ServerApi;
use relay_client::secrets::MemoryStore;
use relay_client::store::Store;
use relay_client::Engine;
use relay_protocol::{Change, SyncPage};
use relay_server::{AppState, Config, Db};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Rounds of the apply and raw-insert measurements (medians are shown).
const ROUNDS: usize = 3;

fn median(mut rates: Vec<f64>) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

struct Row {
    items: usize,
    sync_rate: f64,
    apply_rate: f64,
    raw_rate: f64,
    raw_schema_rate: f64,
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sizes = [arg("--small", 10_000), arg("--large", 100_000)];
    let sizes: Vec<usize> = sizes.into_iter().filter(|s| *s > 0).collect();
    let mut rows = Vec::new();
    let mut search = None;
    let mut during_sync = None;
    for (n, &size) in sizes.iter().enumerate() {
        let scratch = tempfile::tempdir().unwrap();
        let (server, code) = rt.block_on(server(scratch.path(), size));
        let base = server.base_url();

        // End to end: a new device's first sync.
        let secrets = MemoryStore::default();
        let engine =
            Engine::open(&scratch.path().join("device"), Arc::new(secrets.clone())).unwrap();
        rt.block_on(engine.enrol(&base, &code, "bench")).unwrap();
        let last = n == sizes.len() - 1;
        let reading = last.then(|| ReadsDuringSync::start(engine.store().clone()));
        let started = Instant::now();
        let report = rt.block_on(engine.sync(&mut |_| {})).unwrap();
        let sync_rate = size as f64 / started.elapsed().as_secs_f64();
        assert_eq!(report.upserted, size);
        if let Some(reading) = reading {
            during_sync = Some((size, reading.finish()));
        }

        // The same pages again, fetched first, then applied alone; and raw inserts of them.
        let api = ServerApi::new(&base, relay_client::api::http_client(), Arc::new(secrets));
        let pages = rt.block_on(fetch_all(&api));
        // Three rounds, each into fresh files, the three ways in turn; medians (a single
        // 10,000-item round lasts a third of a second and moves with whatever else runs).
        let (mut apply, mut raw, mut raw_schema) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let file = |name: &str| scratch.path().join(format!("{name}-{round}.db"));
            let store = Store::open(&file("apply")).unwrap();
            let started = Instant::now();
            for page in &pages {
                store.apply_page(page).unwrap();
            }
            apply.push(size as f64 / started.elapsed().as_secs_f64());
            raw.push(raw_insert(&file("raw"), &pages, size));
            raw_schema.push(raw_insert_same_schema(&file("raw-schema"), &pages, size));
        }
        let (apply_rate, raw_rate, raw_schema_rate) =
            (median(apply), median(raw), median(raw_schema));
        // Breakdown: the same apply without maintaining the search index.
        let bare = Store::open(&scratch.path().join("apply-nofts.db")).unwrap();
        bare.drop_search_triggers_for_bench();
        let started = Instant::now();
        for page in &pages {
            bare.apply_page(page).unwrap();
        }
        eprintln!(
            "apply without the search index: {:.0} items/s",
            size as f64 / started.elapsed().as_secs_f64()
        );
        rows.push(Row {
            items: size,
            sync_rate,
            apply_rate,
            raw_rate,
            raw_schema_rate,
        });

        if n == sizes.len() - 1 {
            search = Some(search_latency(engine.store(), size));
        }
        rt.block_on(server.stop());
    }
    println!();
    println!(
        "relay-client engine benchmark ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!(
        "{:>8} {:>18} {:>14} {:>16} {:>7} {:>22} {:>7}",
        "items",
        "first sync items/s",
        "apply items/s",
        "raw bare table/s",
        "ratio",
        "raw same schema+FTS/s",
        "ratio"
    );
    for r in &rows {
        println!(
            "{:>8} {:>18.0} {:>14.0} {:>16.0} {:>7.2} {:>22.0} {:>7.2}",
            r.items,
            r.sync_rate,
            r.apply_rate,
            r.raw_rate,
            r.apply_rate / r.raw_rate,
            r.raw_schema_rate,
            r.apply_rate / r.raw_schema_rate
        );
    }
    println!("(goals: a 10,000-item first sync in under 1 s; apply >= 0.9 of the raw insert into the same schema)");
    for r in &rows {
        println!(
            "  {} items: first sync in {:.2} s; apply at {:.2} of the same schema's raw insert",
            r.items,
            r.items as f64 / r.sync_rate,
            r.apply_rate / r.raw_schema_rate
        );
    }
    if let Some((n, [feed, search])) = &during_sync {
        for (what, l) in [("feed", feed), ("search", search)] {
            println!(
                "{what} during the {n}-item first sync: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} reads (goal p99 < 50 ms)",
                l.p50.as_secs_f64() * 1e3,
                l.p99.as_secs_f64() * 1e3,
                l.max.as_secs_f64() * 1e3,
                l.count
            );
        }
    }
    if let Some((n, p50, p99, queries)) = search {
        println!(
            "search over {n} items: p50 {:.2} ms, p99 {:.2} ms over {queries} queries (goal p99 < 10 ms)",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
}

/// A server on a SQLite file with `size` live items and an enrolment code for one employee.
async fn server(dir: &std::path::Path, size: usize) -> (relay_server::serve::Running, String) {
    let db = Db::connect(&format!("sqlite:{}", dir.join("server.db").display()))
        .await
        .unwrap();
    let state = AppState::new(db.clone(), Config::unlimited("http://bench"));
    let started = Instant::now();
    let org = relay_server::demo::bulk_org(&state, "bench", size)
        .await
        .unwrap();
    eprintln!("server: {size} items written in {:.1?}", started.elapsed());
    let enrolment =
        relay_server::demo::enrolled_employee(&state, &org.id, "Bench", "bench@bench.example")
            .await
            .unwrap();
    let running = relay_server::serve::start(
        state,
        "127.0.0.1:0".parse().unwrap(),
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    (running, enrolment.code)
}

async fn fetch_all(api: &ServerApi) -> Vec<SyncPage> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = api
            .sync_page(cursor.as_deref(), relay_client::sync::PAGE_SIZE)
            .await
            .unwrap();
        cursor = Some(page.cursor.clone());
        let more = page.has_more;
        pages.push(page);
        if !more {
            return pages;
        }
    }
}

/// The same rows through one prepared INSERT per page transaction into a bare table: the floor
/// of what writing them costs.
fn raw_insert(path: &std::path::Path, pages: &[SyncPage], size: usize) -> f64 {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.execute_batch(
        "CREATE TABLE raw_items (id TEXT PRIMARY KEY, kind TEXT, channel_id TEXT, title TEXT, summary TEXT, body_html TEXT, \
         url TEXT, image_url TEXT, language TEXT, suggested_texts TEXT, published_at INTEGER, expires_at INTEGER, \
         updated_at INTEGER, version INTEGER)",
    )
    .unwrap();
    let started = Instant::now();
    let mut count = 0;
    for page in pages {
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx.prepare_cached("INSERT INTO raw_items VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)").unwrap();
            for change in &page.changes {
                if let Change::Upsert { item } = change {
                    insert
                        .execute(rusqlite::params![
                            item.id,
                            item.kind.as_str(),
                            item.channel_id,
                            item.title,
                            item.summary,
                            item.body_html,
                            item.url,
                            item.image_url,
                            item.language,
                            serde_json::to_string(&item.suggested_texts).unwrap(),
                            item.published_at.timestamp_millis(),
                            item.expires_at.map(|t| t.timestamp_millis()),
                            item.updated_at.timestamp_millis(),
                            item.version,
                        ])
                        .unwrap();
                    count += 1;
                }
            }
        }
        tx.commit().unwrap();
    }
    assert_eq!(count, size);
    size as f64 / started.elapsed().as_secs_f64()
}

/// The same rows through one prepared plain INSERT into the device's own schema (its indexes
/// and search index included): what the schema itself costs, without the engine's logic.
fn raw_insert_same_schema(path: &std::path::Path, pages: &[SyncPage], size: usize) -> f64 {
    drop(Store::open(path).unwrap());
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    let started = Instant::now();
    for page in pages {
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO items (id, kind, channel_id, title, summary, body_html, body_text, url, image_url, language, \
                     suggested_texts, published_at, expires_at, updated_at, version) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, '[]', ?10, ?11, ?12, ?13)",
                )
                .unwrap();
            for change in &page.changes {
                if let Change::Upsert { item } = change {
                    insert
                        .execute(rusqlite::params![
                            item.id,
                            item.kind.as_str(),
                            item.channel_id,
                            item.title,
                            item.summary,
                            item.body_html,
                            item.url,
                            item.image_url,
                            item.language,
                            item.published_at.timestamp_millis(),
                            item.expires_at.map(|t| t.timestamp_millis()),
                            item.updated_at.timestamp_millis(),
                            item.version,
                        ])
                        .unwrap();
                }
            }
        }
        tx.commit().unwrap();
    }
    size as f64 / started.elapsed().as_secs_f64()
}

fn search_latency(store: &Store, size: usize) -> (usize, Duration, Duration, usize) {
    let queries = [
        "cloud",
        "resume",
        "sécurité",
        "securite",
        "hiring news",
        "climate week",
        "donnees",
        "partner",
        "launch matters",
        "award",
        "privacy",
        "story 4242",
        "why cloud",
        "lorem ipsum",
        "week",
        "résumé news",
        "adipiscing",
        "story",
        // Words still being typed: prefixes.
        "secu",
        "clim",
        "hir",
        "priv",
        "partn",
        "lore",
    ];
    let mut times = Vec::new();
    for round in 0..30 {
        for q in queries {
            let started = Instant::now();
            let found = store.search(q, 20).unwrap();
            times.push(started.elapsed());
            if round == 0 && q == "resume" {
                assert!(!found.is_empty(), "accent folding finds résumé");
            }
        }
    }
    times.sort();
    let p = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (size, p(0.50), p(0.99), times.len())
}

/// Latencies of one kind of read.
struct Latencies {
    p50: Duration,
    p99: Duration,
    max: Duration,
    count: usize,
}

impl Latencies {
    fn of(mut samples: Vec<Duration>) -> Latencies {
        samples.sort();
        let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
        Latencies {
            p50: at(0.5),
            p99: at(0.99),
            max: *samples.last().unwrap(),
            count: samples.len(),
        }
    }
}

/// What the app's window does while a first sync runs: asks for the feed's first page and
/// searches, again and again (every 20 ms), on another thread.
struct ReadsDuringSync {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<(Vec<Duration>, Vec<Duration>)>,
}

impl ReadsDuringSync {
    fn start(store: Store) -> ReadsDuringSync {
        use std::sync::atomic::Ordering;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || {
                let (mut feed, mut search) = (Vec::new(), Vec::new());
                let words = ["cloud", "story", "secu", "climate week", "résumé news"];
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    store
                        .feed(&relay_client::store::FeedQuery {
                            limit: 50,
                            ..Default::default()
                        })
                        .unwrap();
                    feed.push(started.elapsed());
                    let started = Instant::now();
                    store.search(words[n % words.len()], 50).unwrap();
                    search.push(started.elapsed());
                    n += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                (feed, search)
            }
        });
        ReadsDuringSync { stop, thread }
    }

    fn finish(self) -> [Latencies; 2] {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (feed, search) = self.thread.join().unwrap();
        [Latencies::of(feed), Latencies::of(search)]
    }
}
