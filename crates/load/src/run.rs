//! The run: seed, start the instances and the devices, play each scale, report, check that
//! nothing was lost, sent twice or signed out.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::attack::{self, Shared};
use crate::instances::Instance;
use crate::report::{self, Row};
use crate::seed::{self, Seeded};
use crate::worker::{
    unix_ms, DeviceSpec, WorkerCommand, WorkerConfig, WorkerMessage, WorkerReport,
};
use crate::{Backend, RunArgs};

/// A device's periodic sync, at scale 1.
const PERIODIC_SECS: f64 = 15.0 * 60.0;
/// Devices signed out on purpose in a run over several instances.
const REVOKED: usize = 20;
/// Live connections one instance holds here (its process may open 20,000 files).
const LIVE_PER_INSTANCE: usize = 15_000;
/// The moved devices reach an added instance within this. Their streams end as their access
/// tokens expire, over an hour; 30 s (120 times faster) ends the move before the 9:00 approval.
const MOVE_OVER: Duration = Duration::from_secs(30);

struct WorkerProcess {
    _child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl WorkerProcess {
    async fn start(config: &WorkerConfig) -> anyhow::Result<WorkerProcess> {
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let mut stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        let mut line = serde_json::to_string(config)?;
        line.push('\n');
        stdin.write_all(line.as_bytes()).await?;
        Ok(WorkerProcess {
            _child: child,
            stdin,
            stdout,
        })
    }

    async fn send(&mut self, command: &WorkerCommand) -> anyhow::Result<()> {
        let mut line = serde_json::to_string(command)?;
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await?;
        Ok(())
    }

    async fn next(&mut self) -> anyhow::Result<WorkerMessage> {
        let line = self
            .stdout
            .next_line()
            .await?
            .ok_or_else(|| anyhow::anyhow!("a device worker stopped"))?;
        Ok(serde_json::from_str(&line)?)
    }
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.backend == Backend::Postgres || (args.instances == 1 && !args.add_instance),
        "several instances share one PostgreSQL: pass --backend postgres"
    );
    let scratch = std::env::temp_dir().join(format!("relay-load-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let url = match args.backend {
        Backend::Sqlite => format!("sqlite:{}", scratch.join("relay.db").display()),
        Backend::Postgres => seed::fresh_pg_database(&args.database_url).await?,
    };
    let feeds = crate::feeds::serve().await?;
    let seeded = seed::seed(&url, args.devices, &feeds).await?;
    let mut instances = Vec::new();
    for _ in 0..args.instances {
        instances.push(Instance::start(&url)?);
    }
    let bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();
    let live = args
        .live
        .unwrap_or(LIVE_PER_INSTANCE * args.instances)
        .min(args.devices);

    // The devices switch on.
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..args.workers {
        let devices: Vec<DeviceSpec> = seeded
            .devices
            .iter()
            .enumerate()
            .filter(|(i, _)| i % args.workers == w)
            .map(|(i, d)| DeviceSpec {
                token: d.token.clone(),
                base: bases[i % bases.len()].clone(),
                live: i < live,
            })
            .collect();
        let config = WorkerConfig {
            source_ip: format!("127.0.0.{}", 10 + w).parse()?,
            devices,
            periodic_secs: PERIODIC_SECS,
        };
        workers.push(WorkerProcess::start(&config).await?);
    }
    let mut connected = 0;
    for worker in &mut workers {
        match worker.next().await? {
            WorkerMessage::Ready { live } => connected += live,
            WorkerMessage::Report(_) => anyhow::bail!("a worker reported before it was ready"),
        }
    }
    println!(
        "\n{} devices switched on in {:.1} s: {connected} live connections over {} instance(s) ({}), each device's first sync done",
        args.devices,
        started.elapsed().as_secs_f64(),
        instances.len(),
        match args.backend {
            Backend::Sqlite => "embedded SQLite",
            Backend::Postgres => "one PostgreSQL",
        }
    );
    let mut switch_on = WorkerReport::default();
    for worker in &mut workers {
        switch_on.merge(report_of(worker).await?);
    }
    report::print_rows(&rows_of(&mut switch_on), 1.0);
    if !switch_on.errors.is_empty() {
        println!("  device errors: {:?}", switch_on.errors);
    }
    for (n, instance) in instances.iter().enumerate() {
        println!(
            "  instance {n}: {:.0} MiB resident, {} open files",
            instance.rss_mib(),
            instance.open_files()
        );
    }

    let shared = attack::share(Shared::new(
        bases.clone(),
        seeded.devices.iter().map(|d| d.token.clone()).collect(),
        seeded.items.clone(),
        seeded.curator.clone(),
        seeded.channel_id.clone(),
    ));
    let db = relay_server::db::Db::connect(&url).await?;
    let http = reqwest::Client::new();
    let mut signed_out = switch_on.signed_out;
    let mut revoked = 0;
    let mut all_reached = true;
    let mut added = false;
    for (phase, &scale) in args.scales.iter().enumerate() {
        for worker in &mut workers {
            worker.send(&WorkerCommand::Scale(scale)).await?;
        }
        let cpu_before: Vec<f64> = instances.iter().map(Instance::cpu_secs).collect();
        for instance in &instances {
            instance.take_peak_mib();
        }
        let phase_started = Instant::now();
        let host = bases[0].clone();
        let secs = args.phase_secs;
        let attack = tokio::spawn(async move { attack::play(scale, secs, &host).await });
        let half = Duration::from_secs(args.phase_secs / 2);
        let last = phase + 1 == args.scales.len();
        if args.add_instance && last {
            tokio::time::sleep(Duration::from_secs(args.phase_secs / 4)).await;
            let instance = Instance::start(&url)?;
            println!(
                "\nan instance added at {:.0} s into the phase: {}; a third of the live devices move to it within {} s",
                phase_started.elapsed().as_secs_f64(),
                instance.base,
                MOVE_OVER.as_secs()
            );
            shared.bases.write().unwrap().push(instance.base.clone());
            for worker in &mut workers {
                worker
                    .send(&WorkerCommand::Move {
                        base: instance.base.clone(),
                        every: 3,
                        over_ms: MOVE_OVER.as_millis() as u64,
                    })
                    .await?;
            }
            instances.push(instance);
            added = true;
        }
        tokio::time::sleep(half.saturating_sub(phase_started.elapsed())).await;
        // 9:00: one approval reaches everyone.
        let (version, approved_ms) = approve(&http, &bases[0], &seeded, &db).await?;
        if last && bases.len() > 1 {
            // People sign some devices out on one instance while those devices' live
            // connections are held by another: the streams end there, and the devices learn
            // they were signed out (and no other device does).
            let chosen: Vec<&seed::Device> = seeded
                .devices
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < live && i % bases.len() == 1)
                .map(|(_, d)| d)
                .take(REVOKED)
                .collect();
            for device in &chosen {
                http.delete(format!("{}/v1/sessions/{}", bases[0], device.id))
                    .bearer_auth(&device.token)
                    .send()
                    .await?
                    .error_for_status()?;
            }
            revoked += chosen.len() as u32;
            println!(
                "\n{} devices signed out through instance 0 while instance 1 held their live connections",
                chosen.len()
            );
        }
        let metrics = attack.await??;
        let elapsed = phase_started.elapsed().as_secs_f64();
        let mut devices = WorkerReport::default();
        for worker in &mut workers {
            devices.merge(report_of(worker).await?);
        }
        signed_out += devices.signed_out;

        println!(
            "\n== {scale}x the peak, {elapsed:.0} s ({} live connections at the end) ==",
            devices.live
        );
        let mut rows = rows_of(&mut devices);
        rows.extend(attack::percentiles(&metrics).into_iter().map(
            |(kind, count, failed, p50_ms, p99_ms)| Row {
                kind,
                count,
                failed,
                p50_ms,
                p99_ms,
            },
        ));
        report::print_rows(&rows, scale);
        if !devices.errors.is_empty() {
            println!("  device errors: {:?}", devices.errors);
        }
        let arrival = devices.versions.get(&version).copied().unwrap_or_default();
        let fanout_ms = arrival.last_ms.saturating_sub(approved_ms);
        let (told, live_devices) = devices.told_of(version);
        let reached = told == live_devices;
        all_reached &= reached;
        println!(
            "  the 9:00 approval (version {version}): told to {told} of {live_devices} live devices not signed out, the first after {} ms, the last after {fanout_ms} ms (goal within {} ms: {})",
            arrival.first_ms.saturating_sub(approved_ms),
            report::GOAL_FANOUT_MS,
            report::verdict(reached && fanout_ms <= report::GOAL_FANOUT_MS)
        );
        for (n, instance) in instances.iter().enumerate() {
            let cpu = instance.cpu_secs() - cpu_before.get(n).copied().unwrap_or(0.0);
            let peak = instance.take_peak_mib();
            println!(
                "  instance {n}: CPU {:.0} % of one core on average, memory at most {peak:.0} MiB (goal < {:.0} MiB: {}), {} open files",
                100.0 * cpu / elapsed,
                report::GOAL_RSS_MIB,
                report::verdict(peak < report::GOAL_RSS_MIB),
                instance.open_files()
            );
        }
        println!(
            "  reconnections: {}; devices signed out: {}",
            devices.reconnects, devices.signed_out
        );
        if let Some(slowest) = rows.iter().max_by(|a, b| a.p99_ms.total_cmp(&b.p99_ms)) {
            println!(
                "  slowest at p99: {} ({:.1} ms)",
                slowest.kind, slowest.p99_ms
            );
        }
    }

    // Nothing lost, nothing twice.
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shares")
        .fetch_one(&db.read)
        .await?;
    let created = shared.created.load(std::sync::atomic::Ordering::Relaxed);
    let replayed = shared.replayed.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "\nshare records: {records} in the database for {created} answered 201, and {replayed} sent again answered 200 with the same record ({})",
        report::verdict(records as u64 == created)
    );
    println!(
        "every live device received every 9:00 approval: {}; devices signed out: {signed_out}, of which {revoked} on purpose ({})",
        report::verdict(all_reached),
        report::verdict(signed_out == revoked)
    );
    if added {
        println!("an instance joined mid-run: the figures above include it");
    }
    println!(
        "database size: {:.0} MiB",
        database_bytes(&db, &url).await? as f64 / (1024.0 * 1024.0)
    );
    for worker in &mut workers {
        let _ = worker.send(&WorkerCommand::Stop).await;
    }
    drop(instances);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// What a worker measured since its last report.
async fn report_of(worker: &mut WorkerProcess) -> anyhow::Result<crate::worker::WorkerReport> {
    worker.send(&WorkerCommand::Report).await?;
    match worker.next().await? {
        WorkerMessage::Report(report) => Ok(report),
        WorkerMessage::Ready { .. } => anyhow::bail!("a worker was ready twice"),
    }
}

/// The devices' latency rows, with their failures.
fn rows_of(devices: &mut WorkerReport) -> Vec<Row> {
    let percentiles = devices.percentiles();
    percentiles
        .into_iter()
        .map(|(kind, count, p50_ms, p99_ms)| Row {
            failed: devices
                .errors
                .iter()
                .filter(|(what, _)| what.starts_with(&format!("{kind}:")))
                .map(|(_, n)| *n as usize)
                .sum(),
            kind,
            count,
            p50_ms,
            p99_ms,
        })
        .collect()
}

/// A curator's draft approved now; returns the feed version it made and when it was sent.
async fn approve(
    http: &reqwest::Client,
    base: &str,
    seeded: &Seeded,
    db: &relay_server::db::Db,
) -> anyhow::Result<(i64, u64)> {
    let draft: serde_json::Value = http
        .post(format!("{base}/v1/content"))
        .bearer_auth(&seeded.curator)
        .json(&serde_json::json!({
            "kind": "article",
            "channel_id": seeded.channel_id,
            "title": "Good morning: the 9:00 story",
            "url": "https://news.load.example/nine",
            "language": "en",
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = draft["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no draft id"))?;
    let sent = unix_ms();
    http.post(format!("{base}/v1/content/{id}/approve"))
        .bearer_auth(&seeded.curator)
        .send()
        .await?
        .error_for_status()?;
    let version: i64 = sqlx::query_scalar("SELECT version FROM orgs WHERE id = $1")
        .bind(&seeded.org_id)
        .fetch_one(&db.read)
        .await?;
    Ok((version, sent))
}

async fn database_bytes(db: &relay_server::db::Db, url: &str) -> anyhow::Result<u64> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let size = |p: String| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        return Ok(size(path.to_owned()) + size(format!("{path}-wal")));
    }
    let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&db.read)
        .await?;
    Ok(bytes as u64)
}
