//! A device worker: a few thousand employees' devices in one process, from one 127.0.0.x
//! address. A live device holds `/v1/events` open and syncs as soon as a new version is
//! announced (as the app does); every device also syncs every 15 minutes (divided by the
//! scale). Latencies are measured here, where a device would feel them.
//!
//! Talks to `run` in JSON lines: its devices first on stdin, then [`WorkerCommand`]s; it
//! answers [`WorkerMessage`]s on stdout.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Notify, Semaphore};

/// Syncs in flight at once per worker: the connections a worker's devices may open besides
/// their live ones (the server's file limit is shared by both).
const SYNCS_IN_FLIGHT: usize = 256;
/// Not a request: from an event's arrival to the device's synced cache (the wait within the
/// server's spread, for one of the worker's connections, and the sync's pages).
pub const EVENT_TO_SYNCED: &str = "(device) event to synced";
/// Live connections opened per second per worker while the devices start.
const CONNECTS_PER_SEC: u64 = 1_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeviceSpec {
    pub token: String,
    pub base: String,
    pub live: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct WorkerConfig {
    pub source_ip: IpAddr,
    pub devices: Vec<DeviceSpec>,
    /// Seconds between a device's periodic syncs at scale 1.
    pub periodic_secs: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum WorkerCommand {
    /// Play the peak at this multiple from now on.
    Scale(f64),
    /// Every `every`th live device reconnects to `base` (an instance added behind the
    /// balancer), each at a random moment within `over_ms`: a balancer moves no open
    /// connection, a device lands on the new instance when its stream ends, as its access
    /// token expires (tokens were issued at random moments, so their expiries are too).
    Move {
        base: String,
        every: usize,
        over_ms: u64,
    },
    /// Answer a [`WorkerMessage::Report`] with what was measured since the last one.
    Report,
    Stop,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum WorkerMessage {
    /// Every device made its first sync and every live one is connected.
    Ready {
        live: u32,
    },
    Report(WorkerReport),
}

/// When devices received one version's announcement (Unix milliseconds).
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
pub struct Arrival {
    pub count: u32,
    pub first_ms: u64,
    pub last_ms: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct WorkerReport {
    /// Per request kind, every latency in microseconds.
    pub latencies_us: BTreeMap<String, Vec<u32>>,
    pub versions: BTreeMap<i64, Arrival>,
    /// Devices the server answered 401 (signed out): never expected.
    pub signed_out: u32,
    pub errors: BTreeMap<String, u32>,
    pub reconnects: u32,
    /// Live connections open when the report was made.
    pub live: u32,
    /// The live devices not signed out, by the newest version they were told of, when the
    /// report was made: who has an approval is counted device by device, not by arrivals.
    pub newest: BTreeMap<i64, u32>,
}

struct Device {
    spec: DeviceSpec,
    base: RwLock<String>,
    cursor: tokio::sync::Mutex<Option<String>>,
    /// Told to drop its live connection and reconnect (to its new base).
    moved: Notify,
    signed_out: AtomicBool,
    /// The newest version its live connection announced (across reconnections).
    newest: AtomicI64,
}

struct Worker {
    devices: Vec<Arc<Device>>,
    events_http: reqwest::Client,
    sync_http: reqwest::Client,
    syncs: Semaphore,
    report: Mutex<WorkerReport>,
    first_syncs: AtomicUsize,
    live_now: AtomicU32,
    scale_bits: AtomicU64,
    periodic_secs: f64,
}

impl Worker {
    fn record(&self, kind: &str, took: Duration) {
        let us = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        let mut report = self.report.lock().unwrap();
        report
            .latencies_us
            .entry(kind.to_owned())
            .or_default()
            .push(us);
    }

    fn error(&self, what: String) {
        *self.report.lock().unwrap().errors.entry(what).or_default() += 1;
    }

    fn signed_out(&self, device: &Device) {
        if !device.signed_out.swap(true, Ordering::Relaxed) {
            self.report.lock().unwrap().signed_out += 1;
        }
    }

    fn arrived(&self, version: i64) {
        let now = unix_ms();
        let mut report = self.report.lock().unwrap();
        let arrival = report.versions.entry(version).or_default();
        if arrival.count == 0 {
            arrival.first_ms = now;
        }
        arrival.count += 1;
        arrival.last_ms = arrival.last_ms.max(now);
    }

    /// Syncs `device` from its cursor to the head, page by page; each page's latency is
    /// recorded under `kind`.
    async fn sync(&self, device: &Device, kind: &str) {
        let _permit = self.syncs.acquire().await.expect("never closed");
        let mut cursor = device.cursor.lock().await;
        let base = device.base.read().unwrap().clone();
        loop {
            let mut url = format!("{base}/v1/sync");
            if let Some(c) = cursor.as_deref() {
                url.push_str("?cursor=");
                url.push_str(c);
            }
            let started = Instant::now();
            let answer = self
                .sync_http
                .get(&url)
                .bearer_auth(&device.spec.token)
                .send()
                .await;
            let page = match answer {
                Ok(r) if r.status() == reqwest::StatusCode::UNAUTHORIZED => {
                    return self.signed_out(device)
                }
                Ok(r) if r.status().is_success() => r.json::<Page>().await,
                Ok(r) => return self.error(format!("{kind}: {}", r.status())),
                Err(e) => return self.error(format!("{kind}: {}", kind_of(&e))),
            };
            match page {
                Ok(page) => {
                    self.record(kind, started.elapsed());
                    *cursor = Some(page.cursor);
                    if !page.has_more {
                        return;
                    }
                }
                Err(e) => return self.error(format!("{kind}: {}", kind_of(&e))),
            }
        }
    }

    /// A live device: holds the event stream, syncs on each newer version, reconnects when
    /// the stream ends or it is moved.
    async fn live(self: Arc<Self>, device: Arc<Device>) {
        let mut known = i64::MIN;
        let mut first = true;
        loop {
            let base = device.base.read().unwrap().clone();
            let started = Instant::now();
            let answer = self
                .events_http
                .get(format!("{base}/v1/events"))
                .bearer_auth(&device.spec.token)
                .send()
                .await;
            let response = match answer {
                Ok(r) if r.status() == reqwest::StatusCode::UNAUTHORIZED => {
                    return self.signed_out(&device)
                }
                Ok(r) if r.status().is_success() => r,
                Ok(r) => {
                    self.error(format!("events: {}", r.status()));
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                Err(e) => {
                    self.error(format!("events: {}", kind_of(&e)));
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            self.record("events: connect", started.elapsed());
            self.live_now.fetch_add(1, Ordering::Relaxed);
            let mut body = response.bytes_stream();
            let mut buffer = Vec::new();
            loop {
                let chunk = tokio::select! {
                    chunk = body.next() => chunk,
                    _ = device.moved.notified() => None,
                };
                let Some(Ok(chunk)) = chunk else { break };
                buffer.extend_from_slice(&chunk);
                while let Some(end) = find(&buffer, b"\n\n") {
                    let block: Vec<u8> = buffer.drain(..end + 2).collect();
                    let Some((version, spread)) = version_of(&block) else {
                        continue;
                    };
                    if version <= known {
                        continue;
                    }
                    known = version;
                    device.newest.fetch_max(version, Ordering::Relaxed);
                    self.arrived(version);
                    let (worker, device) = (self.clone(), device.clone());
                    let kind = if first {
                        "sync: first"
                    } else {
                        "sync: on event"
                    };
                    let counts_first = first;
                    first = false;
                    tokio::spawn(async move {
                        let arrived = Instant::now();
                        // As the app does: at a random moment within the server's spread.
                        tokio::time::sleep(spread.wait(rand::random::<f64>())).await;
                        worker.sync(&device, kind).await;
                        if counts_first {
                            worker.first_syncs.fetch_add(1, Ordering::Relaxed);
                        } else {
                            worker.record(EVENT_TO_SYNCED, arrived.elapsed());
                        }
                    });
                }
            }
            self.live_now.fetch_sub(1, Ordering::Relaxed);
            if device.signed_out.load(Ordering::Relaxed) {
                return;
            }
            self.report.lock().unwrap().reconnects += 1;
        }
    }

    /// Every device syncs once per period (the period divided by the scale), spread evenly.
    async fn periodic(self: Arc<Self>) {
        let mut next = 0usize;
        loop {
            let scale = f64::from_bits(self.scale_bits.load(Ordering::Relaxed));
            let gap = self.periodic_secs / scale.max(0.001) / self.devices.len() as f64;
            tokio::time::sleep(Duration::from_secs_f64(gap)).await;
            let device = self.devices[next % self.devices.len()].clone();
            next += 1;
            if device.signed_out.load(Ordering::Relaxed) {
                continue;
            }
            let worker = self.clone();
            tokio::spawn(async move { worker.sync(&device, "sync: every 15 min").await });
        }
    }
}

#[derive(Deserialize)]
struct Page {
    cursor: String,
    has_more: bool,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The version of a `version` event block, if it is one.
fn version_of(block: &[u8]) -> Option<(i64, relay_protocol::VersionEvent)> {
    let text = std::str::from_utf8(block).ok()?;
    if !text.lines().any(|l| l == "event: version") {
        return None;
    }
    let data = text.lines().find_map(|l| l.strip_prefix("data: "))?;
    let event: relay_protocol::VersionEvent = serde_json::from_str(data).ok()?;
    Some((event.version, event))
}

fn kind_of(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_decode() {
        "decode"
    } else {
        "request"
    }
}

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

async fn say(message: &WorkerMessage) {
    let mut line = serde_json::to_string(message).expect("serialisable");
    line.push('\n');
    let mut out = tokio::io::stdout();
    let _ = out.write_all(line.as_bytes()).await;
    let _ = out.flush().await;
}

pub async fn main() -> anyhow::Result<()> {
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let config: WorkerConfig = serde_json::from_str(
        &stdin
            .next_line()
            .await?
            .ok_or_else(|| anyhow::anyhow!("no devices on stdin"))?,
    )?;
    let client = || {
        reqwest::Client::builder()
            .local_address(config.source_ip)
            .http1_only()
            .connect_timeout(Duration::from_secs(10))
    };
    let worker = Arc::new(Worker {
        devices: config
            .devices
            .iter()
            .map(|spec| {
                Arc::new(Device {
                    base: RwLock::new(spec.base.clone()),
                    spec: spec.clone(),
                    cursor: tokio::sync::Mutex::new(None),
                    moved: Notify::new(),
                    signed_out: AtomicBool::new(false),
                    newest: AtomicI64::new(i64::MIN),
                })
            })
            .collect(),
        events_http: client().build()?,
        sync_http: client()
            .pool_max_idle_per_host(SYNCS_IN_FLIGHT)
            .timeout(Duration::from_secs(30))
            .build()?,
        syncs: Semaphore::new(SYNCS_IN_FLIGHT),
        report: Mutex::default(),
        first_syncs: AtomicUsize::new(0),
        live_now: AtomicU32::new(0),
        scale_bits: AtomicU64::new(1f64.to_bits()),
        periodic_secs: config.periodic_secs,
    });

    // Start the devices: live ones at a steady pace (a fleet switching on, not one SYN flood).
    let pace = Duration::from_micros(1_000_000 / CONNECTS_PER_SEC);
    for device in &worker.devices {
        let (w, device) = (worker.clone(), device.clone());
        if device.spec.live {
            tokio::spawn(w.live(device));
            tokio::time::sleep(pace).await;
        } else {
            tokio::spawn(async move {
                w.sync(&device, "sync: first").await;
                w.first_syncs.fetch_add(1, Ordering::Relaxed);
            });
        }
    }
    while worker.first_syncs.load(Ordering::Relaxed) < worker.devices.len() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    say(&WorkerMessage::Ready {
        live: worker.live_now.load(Ordering::Relaxed),
    })
    .await;
    tokio::spawn(worker.clone().periodic());

    while let Some(line) = stdin.next_line().await? {
        match serde_json::from_str::<WorkerCommand>(&line)? {
            WorkerCommand::Scale(scale) => {
                worker.scale_bits.store(scale.to_bits(), Ordering::Relaxed)
            }
            WorkerCommand::Move {
                base,
                every,
                over_ms,
            } => {
                for device in worker
                    .devices
                    .iter()
                    .filter(|d| d.spec.live)
                    .step_by(every.max(1))
                {
                    let (device, base) = (device.clone(), base.clone());
                    let at = Duration::from_millis(over_ms).mul_f64(rand::random::<f64>());
                    tokio::spawn(async move {
                        tokio::time::sleep(at).await;
                        *device.base.write().unwrap() = base;
                        device.moved.notify_one();
                    });
                }
            }
            WorkerCommand::Report => {
                let mut report = std::mem::take(&mut *worker.report.lock().unwrap());
                report.live = worker.live_now.load(Ordering::Relaxed);
                for device in worker.devices.iter().filter(|d| d.spec.live) {
                    if !device.signed_out.load(Ordering::Relaxed) {
                        let newest = device.newest.load(Ordering::Relaxed);
                        *report.newest.entry(newest).or_default() += 1;
                    }
                }
                say(&WorkerMessage::Report(report)).await;
            }
            WorkerCommand::Stop => break,
        }
    }
    Ok(())
}
