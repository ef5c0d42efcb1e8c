//! Prometheus metrics as an operator reads them: on their own listener (never on the API's
//! port), counting what happened (requests by route template, sync pages, share records and
//! tracked links by outcome, live streams, the pools, the sources), valid for `promtool check
//! metrics`, naming no person, and scraped by a real Prometheus from the real binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::cli::Killed;
use crate::harness::*;
use crate::newsroom::*;

crate::both_backends!(the_metrics_count_what_happened_and_name_no_one);

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// The value of the sample `name{labels}` (labels as written, `""` for none).
fn sample(page: &str, name: &str, labels: &str) -> Option<f64> {
    let series = if labels.is_empty() {
        name.to_owned()
    } else {
        format!("{name}{{{labels}}}")
    };
    page.lines()
        .find_map(|line| line.strip_prefix(&series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

fn promtool_accepts(page: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool: {said}"
    );
}

async fn the_metrics_count_what_happened_and_name_no_one(backend: Backend) {
    let mut room = Newsroom::new(backend).await;
    let metrics = room
        .server
        .running
        .serve_metrics("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let scrape = || async move {
        let answer = reqwest::get(format!("http://{metrics}/metrics"))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(
            answer.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        answer.text().await.unwrap()
    };
    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let item = room.item("Story").await;

    // A live stream, a first sync and a sync with nothing new.
    let stream = eve
        .http
        .get(format!("{}/v1/events", eve.base))
        .bearer_auth(eve.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let first = eve.sync_page(None, 100).await;
    eve.sync_page(Some(&first.cursor), 100).await;
    // A share scored, the same record again, one refused.
    record(&eve, &verified(&item, Network::X, 1)).await;
    record(&eve, &verified(&item, Network::X, 1)).await;
    let refused = eve
        .send(
            Method::POST,
            "/v1/shares",
            Some(&verified("no-such-item", Network::X, 2)),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    // A tracked link: a visitor, the same visitor again, a preview's HEAD.
    let link: TrackedLink = eve
        .send_ok(
            Method::POST,
            "/v1/links",
            Some(&NewLink {
                item_id: item.clone(),
                network: Network::Linkedin,
            }),
        )
        .await;
    for method in [Method::GET, Method::GET, Method::HEAD] {
        let answer = browser(7)
            .request(method, format!("{}/l/{}", room.server.base, link.code))
            .header("user-agent", FIREFOX)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FOUND);
    }
    // A path no route has (its made-up part must not become a series), and the API's port
    // has no metrics.
    let made_up = format!("/v1/made-up-{}", eve.person().id);
    assert_eq!(
        eve.send::<()>(Method::GET, &made_up, None).await.status,
        StatusCode::NOT_FOUND
    );
    let public = reqwest::get(format!("{}/metrics", room.server.base))
        .await
        .unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);

    let page = scrape().await;
    let get = |name: &str, labels: &str| sample(&page, name, labels);
    assert_eq!(
        get(
            "relay_http_requests_total",
            r#"method="GET",route="/v1/sync",status="200""#
        ),
        Some(2.0),
        "{page}"
    );
    assert_eq!(get("relay_sync_pages_total", ""), Some(2.0));
    assert!(get("relay_sync_changes_total", "").unwrap() >= 1.0);
    assert!(get("relay_sync_bytes_total", "").unwrap() > 100.0);
    assert_eq!(
        get(
            "relay_http_request_duration_seconds_count",
            r#"method="POST",route="/v1/shares""#
        ),
        Some(3.0)
    );
    assert_eq!(
        get(
            "relay_http_request_duration_seconds_bucket",
            r#"method="POST",route="/v1/shares",le="+Inf""#
        ),
        Some(3.0)
    );
    for (outcome, n) in [("scored", 1.0), ("repeat", 1.0), ("refused", 1.0)] {
        let labels = format!("outcome=\"{outcome}\"");
        assert_eq!(
            get("relay_share_records_total", &labels),
            Some(n),
            "{outcome}"
        );
    }
    for (outcome, n) in [("counted", 1.0), ("repeat", 1.0), ("not_a_person", 1.0)] {
        let labels = format!("outcome=\"{outcome}\"");
        assert_eq!(
            get("relay_link_follows_total", &labels),
            Some(n),
            "{outcome}"
        );
    }
    assert_eq!(
        get(
            "relay_http_requests_total",
            r#"method="GET",route="/l/{code}",status="302""#
        ),
        Some(2.0)
    );
    assert_eq!(
        get(
            "relay_http_requests_total",
            r#"method="GET",route="unmatched",status="404""#
        ),
        Some(2.0),
        "the made-up path and /metrics on the API's port"
    );
    assert_eq!(get("relay_live_connections", ""), Some(1.0));
    assert_eq!(get("relay_database_up", ""), Some(1.0));
    assert_eq!(get("relay_sources", r#"health="healthy""#), Some(0.0));
    assert_eq!(
        get("relay_push_queue_depth", r#"stage="deliveries""#),
        Some(0.0)
    );
    let pool = match backend {
        Backend::Sqlite => "read",
        Backend::Postgres => "shared",
    };
    assert!(get(
        "relay_db_connections",
        &format!(r#"pool="{pool}",state="idle""#)
    )
    .is_some());
    assert!(get("process_open_fds", "").unwrap() > 0.0);
    // Nobody is named: no person, item, link or made-up path.
    for private in [
        eve.person().id.as_str(),
        eve.person().email.as_str(),
        item.as_str(),
        link.code.as_str(),
        made_up.as_str(),
    ] {
        assert!(!page.contains(private), "{private} in the metrics");
    }
    promtool_accepts(&page);
    monitoring_examples_read_real_metrics(&page);

    // The stream ends: the gauge follows.
    drop(stream);
    let mut live = None;
    for _ in 0..50 {
        live = sample(&scrape().await, "relay_live_connections", "");
        if live == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(live, Some(0.0));
}

/// The alert rules and the Grafana dashboard in `docs/monitoring/` are valid and name only
/// metrics the server serves.
fn monitoring_examples_read_real_metrics(page: &str) {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/monitoring");
    let rules = docs.join("alerts.yml");
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dashboard: serde_json::Value =
        serde_json::from_slice(&std::fs::read(docs.join("grafana-dashboard.json")).unwrap())
            .unwrap();
    let mut expressions: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|panel| panel["targets"].as_array().unwrap())
        .map(|target| target["expr"].as_str().unwrap().to_owned())
        .collect();
    assert!(expressions.len() > 10);
    let rules = std::fs::read_to_string(&rules).unwrap();
    expressions.push(rules);
    let served: Vec<&str> = page
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    for text in &expressions {
        for name in text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("relay_") || w.starts_with("process_"))
        {
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .filter(|base| served.contains(base))
                .unwrap_or(name);
            assert!(served.contains(&base), "{name} is not served");
        }
    }
}

/// The real binary with `--metrics-bind`, and Debian's Prometheus scraping it every second:
/// its query API reads back what the server counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("relay.db").display());
    let metrics_port = free_port();
    let metrics_bind = format!("127.0.0.1:{metrics_port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay-server"))
        .args(["--database-url", &url, "serve", "--bind", "127.0.0.1:0"])
        .args(["--metrics-bind", &metrics_bind])
        .env_remove("DATABASE_URL")
        .env_remove("RELAY_CONFIG")
        .env("RELAY_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let _server = Killed(child);
    let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
    let said_metrics = lines
        .find_map(|l| {
            l.strip_prefix("relay-server metrics on ")
                .map(str::to_owned)
        })
        .expect("the server says where its metrics are");
    assert_eq!(said_metrics, format!("http://{metrics_bind}/metrics"));
    let base = lines
        .find_map(|l| {
            l.strip_prefix("relay-server listening on ")
                .map(str::to_owned)
        })
        .expect("the server says where it listens");
    // Read on to the end: a server whose standard error is closed fails as it logs.
    std::thread::spawn(move || lines.for_each(drop));
    for _ in 0..3 {
        let ok = reqwest::get(format!("{base}/healthz")).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
    }

    let prometheus_port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n\
             scrape_configs:\n  - job_name: relay\n    static_configs:\n      - targets: ['{metrics_bind}']\n"
        ),
    )
    .unwrap();
    let prometheus = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prometheus_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus (Debian's package)");
    let _prometheus = Killed(prometheus);

    let query = |q: &'static str| async move {
        let answer = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{prometheus_port}/api/v1/query"))
            .query(&[("query", q)])
            .send()
            .await
            .ok()?;
        let body: serde_json::Value = answer.json().await.ok()?;
        let value = body["data"]["result"][0]["value"][1].as_str()?;
        value.parse::<f64>().ok()
    };
    let mut seen = (None, None);
    for _ in 0..300 {
        seen = (
            query(r#"up{job="relay"}"#).await,
            query(r#"relay_http_requests_total{route="/healthz",status="200"}"#).await,
        );
        if seen == (Some(1.0), Some(3.0)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen,
        (Some(1.0), Some(3.0)),
        "Prometheus scraped the server and read its three health checks"
    );
    assert_eq!(query("relay_database_up").await, Some(1.0));
}
