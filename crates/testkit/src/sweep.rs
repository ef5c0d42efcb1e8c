//! The whole-suite secret sweep. With `RELAY_SWEEP_DIR` set (scripts/test.sh sets it), tests
//! keep what they wrote there (device databases, server databases, logs) and note every secret
//! they handled: each value put in a keychain, each password and token a peer issued. After
//! the suite, scripts/sweep.sh searches every kept file for every noted secret. Shared with the
//! end-to-end and server tests.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Once};

/// Where this run keeps what tests wrote, when a sweep follows the suite.
pub fn dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("RELAY_SWEEP_DIR")?);
    std::fs::create_dir_all(&dir).expect("create the sweep folder");
    Some(dir)
}

/// A temporary folder: under the sweep folder and kept for the sweep when there is one.
pub fn tempdir() -> tempfile::TempDir {
    match dir() {
        Some(root) => {
            let mut dir = tempfile::Builder::new()
                .prefix("test-")
                .tempdir_in(root)
                .unwrap();
            dir.disable_cleanup(true);
            dir
        }
        None => tempfile::tempdir().unwrap(),
    }
}

/// Notes a secret for the sweep: no kept file may hold it.
pub fn note(secret: &str) {
    let Some(dir) = dir() else { return };
    if secret.is_empty() || secret.contains('\n') {
        return;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("secrets.txt"))
        .unwrap();
    // One write per line: appends from parallel tests do not interleave.
    file.write_all(format!("{secret}\n").as_bytes()).unwrap();
}

/// Notes a keychain value: the value itself, or for a saved sign-in (JSON) its tokens,
/// passwords and client secrets (its handle, PDS and the like are not secret).
pub fn note_keychain_value(value: &str) {
    fn walk(key: &str, value: &serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                let key = key.to_ascii_lowercase();
                if ["jwt", "token", "secret", "password"]
                    .iter()
                    .any(|k| key.contains(k))
                {
                    note(s);
                }
            }
            serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| walk(k, v)),
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(key, v)),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(json @ serde_json::Value::Object(_)) => walk("", &json),
        _ => note(value),
    }
}

/// Logs of this test process (the engine's and the in-process server's) at trace level, into
/// the sweep folder.
pub fn log_to_sweep() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let Some(dir) = dir() else { return };
        let path = dir.join(format!("process-{}.log", std::process::id()));
        let file = std::fs::File::create(path).unwrap();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,relay_client=trace,relay_server=trace,relay=trace,relay_app=trace,tower_http=trace",
            ))
            .with_ansi(false)
            .with_writer(Arc::new(file))
            .try_init();
    });
}

/// Notes a skipped test in `RELAY_SKIPPED_LOG` (scripts/test.sh lists them all at the end: cargo
/// hides a passing test's stderr).
pub fn note_skipped(reason: &str) {
    use std::io::Write;
    let Ok(path) = std::env::var("RELAY_SKIPPED_LOG") else {
        return;
    };
    let test = std::thread::current()
        .name()
        .unwrap_or("(unnamed test)")
        .to_owned();
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{test}: {reason}");
    }
}
