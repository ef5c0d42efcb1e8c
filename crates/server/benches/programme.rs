//! Programme benchmark: `cargo bench -p relay-server --bench programme` (or `scripts/bench.sh`,
//! which installs nginx and wrk first).
//!
//! On embedded SQLite and on PostgreSQL (when `DATABASE_URL` or the default local server
//! answers), over a year of activity of 20,000 people: 720,000 share records (80 % verified)
//! with 2,000,000 clicks, 600 items, 2,000 people on the leaderboard, the totals the ledger keeps.
//! The release server runs in this process; requests go over HTTP.
//! - the leaderboard (month and all time), the team boards and the top ten: p50 / p99 latency of
//!   200 sequential requests each (goal: p99 < 50 ms);
//! - the console's analytics, twelve months, a month by group (this one, and a closed one, kept
//!   once computed) and adoption: p50 / p99 of 100 sequential requests each after the first
//!   reading, which is shown too (goal: p99 < 200 ms);
//! - recording a share with its points: 8,000 records all scored, 16 and 64 devices at once,
//!   records/s (goal: >= 2,000/s);
//! - following a tracked link as a browser (302, the visitor counted once a day): `wrk` req/s,
//!   next to nginx answering a static 302 in the same run (goal: >= 0.5 of nginx).
//!
//! Options (after `--`): `--people N` (20000), `--shares N` (720000), `--seconds N` (5).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use relay_server::auth::store::{redeem, TokenLifetimes};
use relay_server::db::Db;
use relay_server::AppState;

const COUNTRIES: &[&str] = &["FR", "DE", "US", "GB", "ES", "IT", "NL", "BE", "PL", "SE"];
const DEPARTMENTS: &[&str] = &[
    "Sales",
    "Marketing",
    "Support",
    "Finance",
    "Legal",
    "HR",
    "R&D",
    "IT",
    "Operations",
    "Consulting",
    "Partners",
    "Comms",
];
const NETWORKS: &[&str] = &["linkedin", "x", "bluesky", "mastodon"];

struct Options {
    people: usize,
    shares: usize,
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
        people: get("--people", 20_000),
        shares: get("--shares", 720_000),
        seconds: get("--seconds", 5) as u64,
    }
}

fn main() {
    let opts = options();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let urls = common::backends(&rt, scratch.path(), "relay_programme_bench");
    let wrk_ok = Command::new("sh")
        .args(["-c", "command -v wrk"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut report = Vec::new();
    for (name, url) in urls {
        let lines = rt.block_on(run(name, &url, &opts, wrk_ok, scratch.path()));
        report.extend(lines);
    }
    if wrk_ok {
        let nginx = nginx_302(opts.seconds, scratch.path());
        report.push(format!("nginx static 302: {nginx:.0} req/s"));
    } else {
        report.push("wrk is missing (run scripts/bench.sh): no redirect figures".into());
    }
    println!(
        "\nProgramme benchmark ({} people, {} share records)",
        opts.people, opts.shares
    );
    for line in report {
        println!("  {line}");
    }
}

/// The twelve months up to this one, oldest first.
fn months() -> Vec<String> {
    use chrono::Datelike;
    let now = chrono::Utc::now();
    (0..12)
        .rev()
        .map(|back| {
            let total = now.year() * 12 + now.month0() as i32 - back;
            format!("{:04}-{:02}", total / 12, total % 12 + 1)
        })
        .collect()
}

/// Inserts rows `per` values at a time, in one transaction.
async fn insert_rows(db: &Db, head: &str, rows: &[Vec<String>]) {
    let mut tx = db.begin().await.unwrap();
    for chunk in rows.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|r| format!("({})", r.join(", ")))
            .collect();
        sqlx::query(&format!("{head} VALUES {}", values.join(", ")))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A year of activity, written straight into the tables (as the ledger would have left them).
async fn seed(state: &AppState, opts: &Options) -> (String, Vec<String>, Vec<String>) {
    let db = &state.db;
    let org = relay_server::demo::bulk_org(state, "bench", 600)
        .await
        .unwrap();
    let items: Vec<String> = sqlx::query_scalar("SELECT id FROM items WHERE org_id = $1")
        .bind(&org.id)
        .fetch_all(&db.read)
        .await
        .unwrap();
    let now = relay_server::db::now_ms();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let people: Vec<String> = (0..opts.people).map(|i| format!("p-{i:06}")).collect();
    let rows: Vec<Vec<String>> = people
        .iter()
        .enumerate()
        .map(|(i, id)| {
            vec![
                q(id),
                q(&org.id),
                q(&format!("Person {i}")),
                q(&format!("p{i}@bench.example")),
                q(COUNTRIES[i % COUNTRIES.len()]),
                q("en"),
                q(DEPARTMENTS[i % DEPARTMENTS.len()]),
                q("employee"),
                now.to_string(),
            ]
        })
        .collect();
    insert_rows(
        db,
        "INSERT INTO people (id, org_id, name, email, country, language, department, role, created_at)",
        &rows,
    )
    .await;
    let members: Vec<Vec<String>> = people
        .iter()
        .step_by(10)
        .enumerate()
        .map(|(i, id)| {
            vec![
                q(id),
                q(&org.id),
                q(&format!("Sharer {i}")),
                now.to_string(),
            ]
        })
        .collect();
    insert_rows(
        db,
        "INSERT INTO board_members (person_id, org_id, pseudonym, joined_at)",
        &members,
    )
    .await;

    let months = months();
    let clicks_per_share = 2_000_000.0 / opts.shares as f64;
    let mut person_totals: std::collections::HashMap<(usize, usize), [i64; 4]> = Default::default();
    let mut item_totals: std::collections::HashMap<(usize, usize), [i64; 3]> = Default::default();
    let mut shares = Vec::with_capacity(opts.shares);
    for n in 0..opts.shares {
        let m = n * months.len() / opts.shares;
        // Some people share much more than others.
        let p = ((rng.gen::<f64>().powi(3)) * opts.people as f64) as usize % opts.people;
        let it = rng.gen_range(0..items.len());
        let verified = rng.gen_bool(0.8);
        let clicks = (rng.gen::<f64>() * 2.0 * clicks_per_share)
            .round()
            .min(20.0) as i64;
        let points = if verified { 10 } else { 3 } + clicks;
        let t = person_totals.entry((p, m)).or_default();
        t[0] += points;
        t[1] += i64::from(verified);
        t[2] += i64::from(!verified);
        t[3] += clicks;
        let i = item_totals.entry((it, m)).or_default();
        i[0] += i64::from(verified);
        i[1] += i64::from(!verified);
        i[2] += clicks;
        let day = format!("{}-{:02}", months[m], 1 + n % 28);
        shares.push(vec![
            q(&format!("s-{n:07}")),
            q(&org.id),
            q("bench-device"),
            q(&format!("share-{n}")),
            q(&people[p]),
            q(&items[it]),
            q(NETWORKS[n % NETWORKS.len()]),
            now.to_string(),
            now.to_string(),
            q(if verified { "verified" } else { "declared" }),
            q(&months[m]),
            q(&day),
            "1".into(),
            points.to_string(),
            clicks.to_string(),
            // Verified here means confirmed by the server (or attested and trusted).
            q(if verified { "confirmed" } else { "declared" }),
            q(if verified { "verified" } else { "declared" }),
        ]);
    }
    let started = Instant::now();
    insert_rows(
        db,
        "INSERT INTO shares (id, org_id, device_id, share_id, person_id, item_id, network, shared_at, \
         recorded_at, proof, month, day, scored, points, clicks, status, counts_as)",
        &shares,
    )
    .await;
    eprintln!(
        "{} share records written in {:.1?}",
        shares.len(),
        started.elapsed()
    );
    // Each person's attributes for the months they shared in, as the recorder fixes them.
    sqlx::query(
        "INSERT INTO month_members (org_id, month, person_id, country, language, department) \
         SELECT DISTINCT s.org_id, s.month, s.person_id, p.country, p.language, p.department \
         FROM shares s JOIN people p ON p.id = s.person_id",
    )
    .execute(&db.write)
    .await
    .unwrap();
    let mut all_time: std::collections::HashMap<usize, [i64; 4]> = Default::default();
    let mut totals = Vec::new();
    for ((p, m), t) in &person_totals {
        let a = all_time.entry(*p).or_default();
        for k in 0..4 {
            a[k] += t[k];
        }
        totals.push(vec![
            q(&org.id),
            q(&people[*p]),
            q(&months[*m]),
            t[0].to_string(),
            t[1].to_string(),
            t[2].to_string(),
            t[3].to_string(),
        ]);
    }
    for (p, t) in &all_time {
        totals.push(vec![
            q(&org.id),
            q(&people[*p]),
            q("*"),
            t[0].to_string(),
            t[1].to_string(),
            t[2].to_string(),
            t[3].to_string(),
        ]);
    }
    insert_rows(
        db,
        "INSERT INTO points_totals (org_id, person_id, month, points, verified, declared, clicks)",
        &totals,
    )
    .await;
    let items_rows: Vec<Vec<String>> = item_totals
        .iter()
        .map(|((it, m), t)| {
            vec![
                q(&org.id),
                q(&items[*it]),
                q(&months[*m]),
                t[0].to_string(),
                t[1].to_string(),
                t[2].to_string(),
            ]
        })
        .collect();
    insert_rows(
        db,
        "INSERT INTO item_totals (org_id, item_id, month, verified, declared, clicks)",
        &items_rows,
    )
    .await;
    // The months' members the ledger would have fixed, from the seeded totals.
    sqlx::query(
        "INSERT INTO month_members (org_id, month, person_id, country, language, department) \
         SELECT t.org_id, t.month, t.person_id, p.country, p.language, p.department \
         FROM points_totals t JOIN people p ON p.id = t.person_id \
         WHERE t.org_id = $1 AND t.month <> '*' ON CONFLICT (person_id, month) DO NOTHING",
    )
    .bind(&org.id)
    .execute(&db.write)
    .await
    .unwrap();
    // Fresh statistics, as a database that grew over a year has.
    sqlx::query("ANALYZE").execute(&db.write).await.unwrap();
    (org.id, people, items)
}

async fn session(state: &AppState, org_id: &str, n: usize) -> String {
    let enrolment = relay_server::demo::enrolled_employee(
        state,
        org_id,
        &format!("Bench device {n}"),
        &format!("bench{n}@bench.example"),
    )
    .await
    .unwrap();
    redeem(
        &state.db,
        TokenLifetimes::default(),
        &enrolment.code,
        "bench",
        "linux",
    )
    .await
    .unwrap()
    .session
    .access_token
}

/// p50 and p99 of `count` sequential GETs, in milliseconds.
async fn latency(http: &reqwest::Client, url: &str, token: &str, count: usize) -> (f64, f64) {
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let answer = http.get(url).bearer_auth(token).send().await.unwrap();
        assert!(answer.status().is_success(), "{url}: {}", answer.status());
        answer.bytes().await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[count / 2], times[count * 99 / 100])
}

async fn run(
    name: &str,
    url: &str,
    opts: &Options,
    wrk_ok: bool,
    dir: &std::path::Path,
) -> Vec<String> {
    let db = Db::connect(url).await.unwrap();
    let state = AppState::new(db.clone(), common::config());
    let started = Instant::now();
    let (org_id, _people, items) = seed(&state, opts).await;
    eprintln!(
        "{name}: a year of activity seeded in {:.1?}",
        started.elapsed()
    );
    let token = session(&state, &org_id, 0).await;
    let running = relay_server::serve::start(
        state.clone(),
        "127.0.0.1:0".parse().unwrap(),
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    let base = running.base_url();
    let http = reqwest::Client::new();
    let mut lines = Vec::new();
    let month = months().last().cloned().unwrap();
    for (what, path) in [
        (
            "leaderboard, this month",
            format!("/v1/programme/board?month={month}"),
        ),
        (
            "leaderboard, all time",
            "/v1/programme/board?all_time=true".to_owned(),
        ),
        (
            "team board by country",
            format!("/v1/programme/teams?by=country&month={month}"),
        ),
        (
            "team board by department",
            format!("/v1/programme/teams?by=department&month={month}"),
        ),
        ("top ten", format!("/v1/programme/top?month={month}")),
        ("my activity", format!("/v1/programme/me?month={month}")),
    ] {
        let url = format!("{base}{path}");
        latency(&http, &url, &token, 20).await;
        let (p50, p99) = latency(&http, &url, &token, 200).await;
        lines.push(format!("{name}: {what}: p50 {p50:.1} ms, p99 {p99:.1} ms"));
    }

    // The console's analytics (curators): twelve months of figures, and a month by group.
    let curator = session(&state, &org_id, 999_999).await;
    sqlx::query("UPDATE people SET role = 'curator' WHERE email = 'bench999999@bench.example'")
        .execute(&db.write)
        .await
        .unwrap();
    let closed = months()[months().len() - 3].clone();
    for (what, path) in [
        (
            "analytics, twelve months",
            format!("/v1/analytics/months?to={month}"),
        ),
        (
            "analytics, the month by department",
            format!("/v1/analytics/breakdown?month={month}&by=department"),
        ),
        (
            "analytics, the month by network",
            format!("/v1/analytics/breakdown?month={month}&by=network"),
        ),
        (
            "analytics, the month by content",
            format!("/v1/analytics/breakdown?month={month}&by=content"),
        ),
        (
            "analytics, a closed month by department",
            format!("/v1/analytics/breakdown?month={closed}&by=department"),
        ),
        ("analytics, adoption", "/v1/analytics/adoption".to_owned()),
    ] {
        let url = format!("{base}{path}");
        // The first reading: a closed month's is computed then, and kept.
        let (first, _) = latency(&http, &url, &curator, 1).await;
        latency(&http, &url, &curator, 5).await;
        let (p50, p99) = latency(&http, &url, &curator, 100).await;
        lines.push(format!(
            "{name}: {what}: p50 {p50:.1} ms, p99 {p99:.1} ms (first reading {first:.0} ms)"
        ));
    }

    // Recording shares with their points: 8,000 records, every one scored (1,600 people, 5
    // items each: within the daily cap), sent by 16 and then 64 devices at once (other people
    // each time, so their daily cap is untouched).
    const PEOPLE: usize = 1_600;
    const PER_PERSON: usize = 5;
    let mut tokens = Vec::with_capacity(2 * PEOPLE);
    for n in 1..=2 * PEOPLE {
        tokens.push(session(&state, &org_id, n).await);
    }
    let tokens = std::sync::Arc::new(tokens);
    for (round, devices) in [16usize, 64].into_iter().enumerate() {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for d in 0..devices {
            let (http, base, tokens, items) =
                (http.clone(), base.clone(), tokens.clone(), items.clone());
            tasks.push(tokio::spawn(async move {
                let mut points = 0;
                for p in (round * PEOPLE + d..(round + 1) * PEOPLE).step_by(devices) {
                    for n in 0..PER_PERSON {
                        let record = serde_json::json!({
                            "share_id": format!("bench-{round}-{p}-{n}"),
                            "item_id": items[(p * 7 + n) % items.len()],
                            "network": NETWORKS[round % NETWORKS.len()],
                            "shared_at": chrono::Utc::now(),
                            "proof": "verified",
                            "post_id": format!("post-{round}-{p}-{n}"),
                        });
                        let answer = http
                            .post(format!("{base}/v1/shares"))
                            .bearer_auth(&tokens[p])
                            .json(&record)
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(answer.status(), reqwest::StatusCode::CREATED);
                        let record: serde_json::Value = answer.json().await.unwrap();
                        points += record["points"].as_i64().unwrap();
                    }
                }
                points
            }));
        }
        let mut points = 0;
        for t in tasks {
            points += t.await.unwrap();
        }
        let records = PEOPLE * PER_PERSON;
        let rate = records as f64 / started.elapsed().as_secs_f64();
        assert_eq!(points, (records * 10) as i64, "every record scored");
        lines.push(format!(
            "{name}: recording shares with points ({records} records, all scored, {devices} devices at once): {rate:.0} records/s"
        ));
    }

    if wrk_ok {
        let link: serde_json::Value = http
            .post(format!("{base}/v1/links"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"item_id": items[0], "network": "bluesky"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = format!("{base}/l/{}", link["code"].as_str().unwrap());
        let rps = tokio::task::spawn_blocking({
            let seconds = opts.seconds;
            let dir = dir.to_owned();
            move || wrk(&url, seconds, &dir)
        })
        .await
        .unwrap();
        lines.push(format!(
            "{name}: tracked link followed by a browser (302, counted once a day): {rps:.0} req/s"
        ));
    }
    running.stop().await;
    db.read.close().await;
    db.write.close().await;
    lines
}

/// Requests/s `wrk` reaches on `url` as a browser (64 connections), redirects not followed.
fn wrk(url: &str, seconds: u64, _dir: &std::path::Path) -> f64 {
    let out = Command::new("wrk")
        .args([
            "-t2",
            "-c64",
            &format!("-d{seconds}s"),
            "-H",
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            url,
        ])
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rate in wrk output: {text}"))
}

/// nginx answering a static 302, measured the same way.
fn nginx_302(seconds: u64, dir: &std::path::Path) -> f64 {
    let root = dir.join("nginx302");
    std::fs::create_dir_all(root.join("logs")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = format!(
        "daemon off;\nworker_processes auto;\npid {root}/nginx.pid;\nerror_log {root}/logs/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{ access_log off; keepalive_requests 1000000;\n\
           client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp; uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;\n\
           server {{ listen 127.0.0.1:{port}; location /l/ {{ return 302 https://news.example.com/story?utm_source=relay&utm_medium=bluesky&utm_campaign=news; }} }} }}\n",
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
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let rps = wrk(&format!("http://127.0.0.1:{port}/l/abc"), seconds, dir);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .ok();
    child.wait().ok();
    rps
}
