//! The server instances: the release `relay-server` binary in processes of their own, so that
//! their memory and CPU time are read from `/proc` apart from the simulation's.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub struct Instance {
    child: Child,
    pub base: String,
    /// The highest resident set seen since the last [`Instance::take_peak`], in KiB.
    peak_kib: Arc<AtomicU64>,
}

/// The `relay-server` built next to this binary (`cargo build --release -p relay-server`).
fn server_binary() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let bin = me.with_file_name("relay-server");
    anyhow::ensure!(
        bin.exists(),
        "{} is missing: build it with `cargo build --release -p relay-server` (scripts/load.sh does)",
        bin.display()
    );
    Ok(bin)
}

impl Instance {
    pub fn start(database_url: &str) -> anyhow::Result<Instance> {
        let mut child = Command::new(server_binary()?)
            .args([
                "--database-url",
                database_url,
                "serve",
                "--bind",
                "127.0.0.1:0",
            ])
            .env("RELAY_LOG", "warn")
            .env("RELAY_SOURCES_ALLOW_PRIVATE", "true")
            .env("RELAY_ATTEMPTS_PER_ADDRESS", "1000000")
            .env("RELAY_ATTEMPTS_PER_ORG", "1000000")
            .stderr(Stdio::piped())
            .spawn()?;
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let base = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                l.strip_prefix("relay-server listening on ")
                    .map(str::to_owned)
            })
            .ok_or_else(|| anyhow::anyhow!("relay-server did not start"))?;
        // Keep reading, so a full pipe never blocks the server; say what it warns about.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                eprintln!("  server: {line}");
            }
        });
        let peak_kib = Arc::new(AtomicU64::new(0));
        let pid = child.id();
        let sampled = peak_kib.clone();
        std::thread::spawn(move || loop {
            match status_kib(pid, "VmRSS:") {
                Some(kib) => sampled.fetch_max(kib, Ordering::Relaxed),
                None => return,
            };
            std::thread::sleep(Duration::from_millis(50));
        });
        Ok(Instance {
            child,
            base,
            peak_kib,
        })
    }

    /// The resident set now, in MiB.
    pub fn rss_mib(&self) -> f64 {
        status_kib(self.child.id(), "VmRSS:").unwrap_or(0) as f64 / 1024.0
    }

    /// The highest resident set since the last call, in MiB.
    pub fn take_peak_mib(&self) -> f64 {
        let peak = self.peak_kib.swap(0, Ordering::Relaxed);
        peak.max(status_kib(self.child.id(), "VmRSS:").unwrap_or(0)) as f64 / 1024.0
    }

    /// CPU time used so far (user and system), in seconds.
    pub fn cpu_secs(&self) -> f64 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())) else {
            return 0.0;
        };
        // The fields after the command's closing parenthesis: utime and stime are 14 and 15.
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // Fields counted from 3 (state) here: utime is field 14, at index 11.
        (ticks(11) + ticks(12)) / clock_ticks()
    }

    /// Open file descriptors (its connections, mostly).
    pub fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn clock_ticks() -> f64 {
    // sysconf(_SC_CLK_TCK) is 100 on every Linux this runs on.
    100.0
}
