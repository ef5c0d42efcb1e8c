//! One approval reaching 20,000 devices' push endpoints: `cargo bench -p relay-server --bench push`.
//!
//! 20,000 employees, one signed-in device each with a Web Push subscription (half of them read
//! French). A curator approves one item over HTTP; the time is taken from the approval's answer
//! until the 20,000th notification was received and decrypted (goal: within 60 s), with the
//! server's memory (resident set) before and at its peak during the delivery.
//!
//! The receiver is a real Web Push service with its browsers (`relay_testkit::push_peers`: every
//! body decrypted by RFC 8291, every VAPID signature checked) in a child process, so that this
//! process's memory is the server's (and this driver's few megabytes of tokens). It shares the
//! 2 cores with the server: its decryption costs about what the server's encryption does.
//!
//! The batch window (120 s by default: "3 new stories" rather than three pushes) is set to 0
//! here: what is measured is the pipeline from the approval to the last delivery. Quiet hours
//! are switched off so the run does not depend on the time of day. On embedded SQLite and on
//! PostgreSQL (when `DATABASE_URL` or the default local server answers).

mod common;

use relay_testkit::push_peers;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use relay_protocol::{PushChannel, PushPayload};
use relay_server::auth::store::{redeem, TokenLifetimes};
use relay_server::push::{PushSettings, WebPushConfig};
use relay_server::{AppState, Config};

const DEVICES: usize = 20_000;
/// Enrolments and registrations made at once while seeding.
const SEEDERS: usize = 16;
const RECEIVER: &str = "RELAY_PUSH_BENCH_RECEIVER";

fn main() {
    if let Ok(vapid_public) = std::env::var(RECEIVER) {
        return receiver(&vapid_public);
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let urls = common::backends(&rt, scratch.path(), "relay_push_bench");
    let mut report = Vec::new();
    for (name, url) in urls {
        for line in rt.block_on(run(&url)) {
            report.push(format!("{name}: {line}"));
        }
    }
    println!("\nPush benchmark ({DEVICES} devices, one approval)");
    for line in report {
        println!("  {line}");
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// This process's resident set, in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024.0
}

/// The child process: a Web Push service with `DEVICES` browsers' subscriptions. Prints each
/// subscription as a JSON line, then `ready`; once every one received its notification,
/// `done FIRST_MS LAST_MS SAME PAYLOAD_JSON` (arrival times as Unix milliseconds, the first
/// payload, how many payloads equal it); stops when its stdin closes.
fn receiver(vapid_public: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let service = push_peers::WebPushReceiver::start(vapid_public).await;
        let mut out = std::io::stdout().lock();
        for n in 0..DEVICES {
            let channel = service.subscribe(&format!("browser-{n}"));
            writeln!(out, "{}", serde_json::to_string(&channel).unwrap()).unwrap();
        }
        writeln!(out, "ready").unwrap();
        out.flush().unwrap();
        drop(out);
        let mut first = None;
        loop {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let delivered = service.log.delivered();
            if first.is_none() && !delivered.is_empty() {
                first = Some(unix_ms());
            }
            if delivered.len() >= DEVICES {
                let last = unix_ms();
                let payload = delivered[0].payload.clone().expect("a decrypted payload");
                let same = delivered
                    .iter()
                    .filter(|r| r.payload.as_ref().map(|p| &p.items) == Some(&payload.items))
                    .count();
                let distinct: std::collections::HashSet<_> =
                    delivered.iter().map(|r| r.to.clone()).collect();
                assert_eq!(distinct.len(), DEVICES, "one notification per browser");
                println!(
                    "done {} {last} {same} {}",
                    first.unwrap(),
                    serde_json::to_string(&payload).unwrap()
                );
                break;
            }
        }
    });
    // Until the bench is done with this run.
    let _ = std::io::stdin().read_line(&mut String::new());
}

async fn run(url: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let (vapid_private, vapid_public) = WebPushConfig::generate();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(RECEIVER, &vapid_public)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut from_receiver = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut channels: Vec<PushChannel> = Vec::with_capacity(DEVICES);
    for line in from_receiver.by_ref() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        channels.push(serde_json::from_str(&line).unwrap());
    }
    assert_eq!(channels.len(), DEVICES);

    let baseline = rss_mib();
    let db = relay_server::db::Db::connect(url).await.unwrap();
    let push = PushSettings {
        web_push: Some(WebPushConfig {
            private_key: vapid_private,
            subject: "mailto:bench@bench.example".into(),
        }),
        batch_window: Duration::ZERO,
        local_endpoints: true,
        ..PushSettings::default()
    };
    let state = AppState::new(
        db.clone(),
        Config {
            push,
            ..common::config()
        },
    );
    let started = Instant::now();
    let org = relay_server::demo::bulk_org(&state, "bench", 100)
        .await
        .unwrap();
    let running = relay_server::serve::start(
        state.clone(),
        "127.0.0.1:0".parse().unwrap(),
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();

    // The employees' devices: enrolled, then registering their subscriptions over HTTP.
    let channels = Arc::new(channels);
    let next = Arc::new(AtomicU64::new(0));
    let mut seeders = Vec::new();
    for _ in 0..SEEDERS {
        let (state, org_id, http, base, channels, next) = (
            state.clone(),
            org.id.clone(),
            http.clone(),
            base.clone(),
            channels.clone(),
            next.clone(),
        );
        seeders.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                if n >= DEVICES {
                    return;
                }
                let enrolment = relay_server::demo::enrolled_employee(
                    &state,
                    &org_id,
                    &format!("Employee {n}"),
                    &format!("employee{n}@bench.example"),
                )
                .await
                .unwrap();
                let token = redeem(
                    &state.db,
                    TokenLifetimes::default(),
                    &enrolment.code,
                    "phone",
                    "android",
                )
                .await
                .unwrap()
                .session
                .access_token;
                let answer = http
                    .put(format!("{base}/v1/me/push"))
                    .bearer_auth(&token)
                    .json(&channels[n])
                    .send()
                    .await
                    .unwrap();
                assert!(
                    answer.status().is_success(),
                    "registering: {}",
                    answer.text().await.unwrap()
                );
            }
        }));
    }
    for seeder in seeders {
        seeder.await.unwrap();
    }
    // Half of them read French; nobody's quiet hours (equal start and end: none).
    sqlx::query(
        "UPDATE people SET quiet_start = 0, quiet_end = 0, \
         language = CASE WHEN email LIKE '%0@bench.example' OR email LIKE '%2@bench.example' \
         OR email LIKE '%4@bench.example' OR email LIKE '%6@bench.example' \
         OR email LIKE '%8@bench.example' THEN 'fr' ELSE 'en' END",
    )
    .execute(&db.write)
    .await
    .unwrap();
    eprintln!(
        "{DEVICES} devices enrolled and subscribed in {:.1?}",
        started.elapsed()
    );

    // The curator's approval.
    let curator = common::staff_session(&db, &org.id, relay_protocol::Role::Curator).await;
    let channel = relay_server::channels::list_all(&db, &org.id)
        .await
        .unwrap()
        .remove(0);
    let draft: serde_json::Value = http
        .post(format!("{base}/v1/content"))
        .bearer_auth(&curator)
        .json(&serde_json::json!({
            "kind": "article",
            "channel_id": channel.id,
            "title": "Our results for the year",
            "url": "https://news.bench.example/results",
            "language": "en",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = draft["id"].as_str().expect("a draft").to_owned();

    let before = rss_mib();
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max((rss_mib() * 1024.0) as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let approved = http
        .post(format!("{base}/v1/content/{id}/approve"))
        .bearer_auth(&curator)
        .send()
        .await
        .unwrap();
    assert!(approved.status().is_success());
    let approved_at = unix_ms();
    let done = tokio::task::spawn_blocking(move || {
        let line = from_receiver
            .next()
            .expect("the receiver's report")
            .unwrap();
        (line, from_receiver)
    });
    let (done, _rest) = tokio::time::timeout(Duration::from_secs(600), done)
        .await
        .expect("every device reached within 10 minutes")
        .unwrap();
    sampling.abort();
    let mut parts = done.splitn(5, ' ');
    assert_eq!(parts.next(), Some("done"));
    let first: u64 = parts.next().unwrap().parse().unwrap();
    let last: u64 = parts.next().unwrap().parse().unwrap();
    let same: usize = parts.next().unwrap().parse().unwrap();
    let payload: PushPayload = serde_json::from_str(parts.next().unwrap()).unwrap();
    assert_eq!(payload.items, vec![id.clone()]);
    assert_eq!(
        same, DEVICES,
        "every notification announces the approved item"
    );
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM push_deliveries")
        .fetch_one(&db.read)
        .await
        .unwrap();
    assert_eq!(pending, 0, "every delivery settled");
    running.stop().await;
    let _ = child.stdin.take().unwrap().write_all(b"\n");
    let _ = child.wait();

    let all = last.saturating_sub(approved_at) as f64 / 1000.0;
    lines.push(format!(
        "one approval to {DEVICES} devices' Web Push endpoints: first after {:.2} s, all after {all:.1} s ({:.0} notifications/s; goal: all within 60 s: {})",
        first.saturating_sub(approved_at) as f64 / 1000.0,
        DEVICES as f64 / all.max(0.001),
        if all <= 60.0 { "met" } else { "NOT met" }
    ));
    lines.push(format!(
        "memory (this process: the server and the driver): {baseline:.0} MiB before seeding, {before:.0} MiB before the approval, {:.0} MiB at most during delivery",
        peak.load(Ordering::Relaxed) as f64 / 1024.0
    ));
    lines
}
