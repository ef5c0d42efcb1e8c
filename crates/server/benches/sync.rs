//! Sync feed benchmark: `cargo bench -p relay-server --bench sync` (or `scripts/bench.sh`,
//! which installs nginx and wrk first).
//!
//! On embedded SQLite and on PostgreSQL (when `DATABASE_URL` or the default local server
//! answers), with the release `relay-server` binary in its own process:
//! - full sync: one device pulls 10,000 items page by page (items/s, median of 3 runs);
//! - empty sync: `wrk` with many concurrent devices (one session each, tokens rotated per
//!   request) asks "anything new?" (requests/s), next to nginx serving a static file with the
//!   same body, measured the same way in the same run, as a ratio. Goal: >= 0.5.
//!
//! Options (after `--`): `--items N` (10000), `--devices N` (64), `--seconds N` (5).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use relay_protocol::{EnrolResponse, SyncPage};
use relay_server::auth::store::{redeem, TokenLifetimes};
use relay_server::db::Db;
use relay_server::AppState;

struct Options {
    items: usize,
    devices: usize,
    seconds: u64,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Options {
        items: get("--items", 10_000),
        devices: get("--devices", 64),
        seconds: get("--seconds", 5) as u64,
    }
}

fn main() {
    let opts = options();
    for tool in ["wrk", "nginx"] {
        if Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
            && !std::path::Path::new(&format!("/usr/sbin/{tool}")).exists()
        {
            eprintln!("{tool} is missing: run scripts/bench.sh (it installs nginx-light and wrk)");
            std::process::exit(2);
        }
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    let pg = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let backends = [
        (
            "SQLite",
            format!("sqlite:{}", scratch.path().join("bench.db").display()),
        ),
        ("PostgreSQL", pg),
    ];
    for (name, url) in backends {
        let url = if name == "PostgreSQL" {
            match rt.block_on(common::fresh_pg_database(&url, "relay_bench")) {
                Some(u) => u,
                None => {
                    eprintln!("PostgreSQL not reachable at {url}: skipped");
                    continue;
                }
            }
        } else {
            url
        };
        let (tokens, head) = rt.block_on(prepare(&url, &opts));
        let (mut server, base) = spawn_server(&url);
        let full = rt.block_on(full_sync(&base, &tokens[0], opts.items));
        let cursor = format!("c1.0.{head}");
        let body = rt.block_on(empty_body(&base, &tokens[0], &cursor));
        let relay_rps = wrk(
            &format!("{base}/v1/sync?cursor={cursor}"),
            Some(&tokens),
            opts.devices,
            opts.seconds,
            scratch.path(),
        );
        server.kill().ok();
        server.wait().ok();
        let nginx_rps = nginx(&body, opts.devices, opts.seconds, scratch.path());
        rows.push((name, full, relay_rps, nginx_rps, body.len()));
    }
    println!();
    println!(
        "relay-server sync benchmark: {} items, {} devices, {} s per load run, {} cores",
        opts.items,
        opts.devices,
        opts.seconds,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!(
        "{:<11} {:>16} {:>18} {:>18} {:>8}",
        "backend", "full sync items/s", "empty sync req/s", "nginx static req/s", "ratio"
    );
    for (name, full, relay, nginx, size) in rows {
        println!(
            "{:<11} {:>16.0} {:>18.0} {:>18.0} {:>8.2}   (body {} bytes; goal ratio >= 0.5)",
            name,
            full,
            relay,
            nginx,
            relay / nginx,
            size
        );
    }
}

/// An organisation with `items` live items and `devices` enrolled devices. Returns the devices'
/// access tokens and the feed head.
async fn prepare(url: &str, opts: &Options) -> (Vec<String>, i64) {
    let db = Db::connect(url).await.unwrap();
    let state = AppState::new(db.clone(), common::config());
    let started = Instant::now();
    let org = relay_server::demo::bulk_org(&state, "bench", opts.items)
        .await
        .unwrap();
    eprintln!(
        "{url}: {} items written in {:.1?}",
        opts.items,
        started.elapsed()
    );
    let mut tokens = Vec::new();
    for d in 0..opts.devices {
        let enrolment = relay_server::demo::enrolled_employee(
            &state,
            &org.id,
            &format!("Device {d}"),
            &format!("d{d}@bench.example"),
        )
        .await
        .unwrap();
        let enrolled: EnrolResponse = redeem(
            &db,
            TokenLifetimes::default(),
            &enrolment.code,
            "bench",
            "linux",
        )
        .await
        .unwrap();
        tokens.push(enrolled.session.access_token);
    }
    let head: i64 = sqlx::query_scalar("SELECT version FROM orgs WHERE id = $1")
        .bind(&org.id)
        .fetch_one(&db.read)
        .await
        .unwrap();
    db.read.close().await;
    db.write.close().await;
    (tokens, head)
}

fn spawn_server(url: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay-server"))
        .args(["--database-url", url, "serve", "--bind", "127.0.0.1:0"])
        .env("RELAY_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let base = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("relay-server listening on ")
                .map(str::to_owned)
        })
        .expect("server start");
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

/// Median items/s of three full syncs from nothing.
async fn full_sync(base: &str, token: &str, items: usize) -> f64 {
    let http = reqwest::Client::new();
    let mut rates = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let mut cursor: Option<String> = None;
        let mut received = 0;
        loop {
            let mut url = format!("{base}/v1/sync?limit=1000");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page: SyncPage = http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            received += page.changes.len();
            cursor = Some(page.cursor);
            if !page.has_more {
                break;
            }
        }
        assert_eq!(received, items);
        rates.push(items as f64 / started.elapsed().as_secs_f64());
    }
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rates[1]
}

async fn empty_body(base: &str, token: &str, cursor: &str) -> String {
    let body = reqwest::Client::new()
        .get(format!("{base}/v1/sync?cursor={cursor}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page: SyncPage = serde_json::from_str(&body).unwrap();
    assert!(page.changes.is_empty());
    body
}

/// Requests per second `wrk` reaches against `url` with `connections` connections.
fn wrk(
    url: &str,
    tokens: Option<&[String]>,
    connections: usize,
    seconds: u64,
    dir: &std::path::Path,
) -> f64 {
    let mut args = vec![
        "-t2".to_owned(),
        format!("-c{connections}"),
        format!("-d{seconds}s"),
    ];
    if let Some(tokens) = tokens {
        let script = dir.join("tokens.lua");
        let mut f = std::fs::File::create(&script).unwrap();
        let list: Vec<String> = tokens.iter().map(|t| format!("\"{t}\"")).collect();
        writeln!(f, "local tokens = {{{}}}\nlocal n = 0", list.join(",")).unwrap();
        writeln!(f, "request = function()\n  n = n + 1\n  return wrk.format(nil, nil, {{[\"Authorization\"] = \"Bearer \" .. tokens[(n % #tokens) + 1]}})\nend").unwrap();
        args.push("-s".into());
        args.push(script.display().to_string());
    }
    args.push(url.to_owned());
    let out = Command::new("wrk").args(&args).output().expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    let non2xx = text.lines().find(|l| l.contains("Non-2xx"));
    assert!(non2xx.is_none(), "errors under load: {text}");
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rate in wrk output: {text}"))
}

/// nginx serving `body` as a static JSON file, measured like the server.
fn nginx(body: &str, connections: usize, seconds: u64, dir: &std::path::Path) -> f64 {
    let root = dir.join("nginx");
    std::fs::create_dir_all(root.join("www")).unwrap();
    std::fs::create_dir_all(root.join("logs")).unwrap();
    std::fs::write(root.join("www/sync.json"), body).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = format!(
        "daemon off;\nworker_processes auto;\npid {root}/nginx.pid;\nerror_log {root}/logs/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{ access_log off; keepalive_requests 1000000; default_type application/json;\n\
           client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp; uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;\n\
           server {{ listen 127.0.0.1:{port}; root {root}/www; }} }}\n",
        root = root.display()
    );
    std::fs::write(root.join("nginx.conf"), conf).unwrap();
    let nginx_bin = if std::path::Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    };
    let mut child = Command::new(nginx_bin)
        .args([
            "-c",
            &root.join("nginx.conf").display().to_string(),
            "-p",
            &root.display().to_string(),
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let url = format!("http://127.0.0.1:{port}/sync.json");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let rps = wrk(&url, None, connections, seconds, dir);
    // SIGTERM, not SIGKILL: the master then stops its workers too.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .ok();
    child.wait().ok();
    rps
}
