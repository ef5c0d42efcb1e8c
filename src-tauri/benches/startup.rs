//! Startup benchmark of the desktop app against a bare Tauri window built the same way (release
//! profile, same Tauri): binary size, time from launch to the first painted feed with 10,000
//! cached items (the median of `RELAY_BENCH_ROUNDS` turns, default 5, after one unmeasured
//! launch of each), and memory after idling in the tray. Run by `scripts/bench-app.sh` (which gives
//! it a display and a keychain); `RELAY_BENCH_IDLE_SECS` sets the idle time (default 600).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use relay_client::Engine;

const ITEMS: usize = 10_000;

fn release_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release")
}

/// Every process of the tree under `root` (the app and its WebKit helpers).
fn tree(root: u32) -> Vec<u32> {
    let mut all = vec![root];
    let mut i = 0;
    while i < all.len() {
        let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", all[i]))
            .unwrap_or_default();
        all.extend(
            children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
        i += 1;
    }
    all
}

/// `(rss, pss)` in KiB summed over the tree.
fn memory(root: u32) -> (u64, u64) {
    let mut rss = 0;
    let mut pss = 0;
    for pid in tree(root) {
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        for line in rollup.lines() {
            let kib = |l: &str| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            if line.starts_with("Rss:") {
                rss += kib(line);
            } else if line.starts_with("Pss:") {
                pss += kib(line);
            }
        }
    }
    (rss, pss)
}

struct Figures {
    size: u64,
    stripped: u64,
    idle_rss: u64,
    idle_pss: u64,
}

fn stripped_size(binary: &Path) -> u64 {
    let out = std::env::temp_dir().join(format!("stripped-{}", std::process::id()));
    let ok = Command::new("strip")
        .arg("-o")
        .arg(&out)
        .arg(binary)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let size = if ok {
        std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0)
    } else {
        0
    };
    let _ = std::fs::remove_file(out);
    size
}

struct Launched {
    child: std::process::Child,
    paint_ms: u128,
}

/// Launches `binary` (with `env` added), waits for its first paint, then hides its window (into
/// the tray).
fn launch(binary: &Path, data_dir: &Path, env: &[(&str, &str)]) -> Launched {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .envs(env.iter().copied())
        .env("RELAY_DATA_DIR", data_dir)
        .env("RELAY_BENCH", "1")
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the app");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("first paint after") {
                let _ = tx.send(Instant::now());
            }
            // The app's steps on its start path (see `bench_mark`), when asked for.
            if verbose() && (line.starts_with("startup: ") || line.contains("first paint after")) {
                eprintln!("  {line}");
            }
        }
    });
    let painted = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the window never painted");
    let paint_ms = (painted - started).as_millis();
    // Into the tray: the window is unmapped, as when it is closed.
    let _ = Command::new("xdotool")
        .args([
            "search",
            "--sync",
            "--onlyvisible",
            "--pid",
            &child.id().to_string(),
            "windowunmap",
            "%@",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    Launched { child, paint_ms }
}

/// `RELAY_BENCH_STEPS=1` prints each launch's start steps.
fn verbose() -> bool {
    std::env::var_os("RELAY_BENCH_STEPS").is_some()
}

fn close(mut launched: Launched) -> u128 {
    let _ = launched.child.kill();
    let _ = launched.child.wait();
    launched.paint_ms
}

fn median(mut values: Vec<u128>) -> u128 {
    values.sort_unstable();
    values[values.len() / 2]
}

fn finish(binary: &Path, mut launched: Launched) -> Figures {
    let (idle_rss, idle_pss) = memory(launched.child.id());
    let _ = launched.child.kill();
    let _ = launched.child.wait();
    Figures {
        size: std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0),
        stripped: stripped_size(binary),
        idle_rss,
        idle_pss,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rounds: usize = std::env::var("RELAY_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    let idle = Duration::from_secs(
        std::env::var("RELAY_BENCH_IDLE_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(600),
    );
    let app = release_dir().join("relay-app");
    let bare = release_dir().join("relay-bare-window");
    assert!(
        app.exists() && bare.exists(),
        "build both first: cargo build --release -p relay-app -p relay-bare-window"
    );

    // A device with 10,000 items cached, synced from a real server.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("device");
    runtime.block_on(async {
        let db = relay_server::Db::connect(&format!(
            "sqlite:{}",
            scratch.path().join("server.db").display()
        ))
        .await
        .unwrap();
        let config = relay_server::Config::unlimited("http://127.0.0.1");
        let state = relay_server::AppState::new(db, config);
        let org = relay_server::demo::bulk_org(&state, "bench", ITEMS)
            .await
            .unwrap();
        let enrolment = relay_server::demo::enrolled_employee(
            &state,
            &org.id,
            "Bench Reader",
            "reader@bench.example",
        )
        .await
        .unwrap();
        let server = relay_server::serve::start(
            state,
            "127.0.0.1:0".parse().unwrap(),
            Duration::from_secs(1),
        )
        .await
        .unwrap();
        std::fs::create_dir_all(&data_dir).unwrap();
        let engine = Engine::open_with_keychain(&data_dir).unwrap();
        engine
            .enrol(&server.base_url(), &enrolment.code, "bench")
            .await
            .unwrap();
        let report = engine.sync(&mut |_| {}).await.unwrap();
        assert!(report.upserted >= ITEMS, "synced {}", report.upserted);
        // The server stops here: the app starts offline, from its cache, as after a reboot.
        server.stop().await;
    });

    // Each app once first, unmeasured: later launches find what every launch after the first
    // finds (fonts, shaders and WebKit's caches warm), whichever app happened to run first.
    let cpu = relay_app::rendering::cpu_rendering_wanted();
    let same_rendering: &[(&str, &str)] = &[(relay_app::rendering::CPU_RENDERING, "1")];
    close(launch(&app, &data_dir, &[]));
    close(launch(&bare, &data_dir, &[]));
    // Then in turns, so that neither gains from the machine's moods; medians.
    let mut app_ms = Vec::new();
    let mut bare_ms = Vec::new();
    let mut bare_same_ms = Vec::new();
    for round in 1..=rounds {
        app_ms.push(close(launch(&app, &data_dir, &[])));
        bare_ms.push(close(launch(&bare, &data_dir, &[])));
        if cpu {
            bare_same_ms.push(close(launch(&bare, &data_dir, same_rendering)));
        }
        eprintln!(
            "round {round}: relay-app {} ms, bare window {} ms{}",
            app_ms.last().unwrap(),
            bare_ms.last().unwrap(),
            bare_same_ms
                .last()
                .map(|ms| format!(
                    ", bare window painting on the CPU as relay-app does here {ms} ms"
                ))
                .unwrap_or_default()
        );
    }
    // Both side by side in the tray for the memory figure.
    let launched_app = launch(&app, &data_dir, &[]);
    let launched_bare = launch(&bare, &data_dir, &[]);
    eprintln!("both painted; idling {} s...", idle.as_secs());
    std::thread::sleep(idle);
    let a = finish(&app, launched_app);
    let b = finish(&bare, launched_bare);
    let (app_paint, bare_paint) = (median(app_ms), median(bare_ms));
    let mib = |b: u64| b as f64 / 1_048_576.0;
    println!("| what | relay-app | bare Tauri window | ratio |");
    println!("|---|---|---|---|");
    println!("| release binary | {:.1} MiB ({:.1} MiB stripped) | {:.1} MiB ({:.1} MiB stripped) | {:.2} |", mib(a.size), mib(a.stripped), mib(b.size), mib(b.stripped), a.size as f64 / b.size as f64);
    let renderer = if cpu {
        "relay-app paints on the CPU here (no GPU)"
    } else {
        "both paint on the GPU"
    };
    println!(
        "| launch to first paint, median of {rounds} ({ITEMS} cached items for relay-app; {renderer}) | {app_paint} ms | {bare_paint} ms | {:.2} (goal <= 1.3) |",
        app_paint as f64 / bare_paint.max(1) as f64
    );
    if cpu {
        let same = median(bare_same_ms);
        println!(
            "| the same, the bare window also painting on the CPU | {app_paint} ms | {same} ms | {:.2} |",
            app_paint as f64 / same.max(1) as f64
        );
    }
    println!("| memory after {} s idle, window hidden (RSS / PSS, all processes) | {:.0} / {:.0} MiB | {:.0} / {:.0} MiB | {:.2} (PSS) |", idle.as_secs(), a.idle_rss as f64 / 1024.0, a.idle_pss as f64 / 1024.0, b.idle_rss as f64 / 1024.0, b.idle_pss as f64 / 1024.0, a.idle_pss as f64 / b.idle_pss.max(1) as f64);
}
