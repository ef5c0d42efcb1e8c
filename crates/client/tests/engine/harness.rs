//! Test harness: engines on temporary folders, the relay CLI, and the peers (`peers.rs`).

use std::sync::Arc;

use relay_client::error::ClientError;
use relay_client::secrets::{MemoryStore, SecretStore};
use relay_client::Engine;

pub use crate::peers::*;

/// An engine on a temp folder (kept for the secret sweep) with in-memory secrets.
pub fn engine() -> (Engine, tempfile::TempDir, NotingStore) {
    crate::sweep::log_to_sweep();
    let dir = crate::sweep::tempdir();
    let secrets = NotingStore::default();
    let engine = Engine::open(dir.path(), Arc::new(secrets.clone())).unwrap();
    (engine, dir, secrets)
}

/// A keychain in memory that notes every value put in it for the secret sweep.
#[derive(Clone, Default)]
pub struct NotingStore(MemoryStore);

impl SecretStore for NotingStore {
    fn get(&self, key: &str) -> Result<Option<String>, ClientError> {
        self.0.get(key)
    }

    fn set(&self, key: &str, value: &str) -> Result<(), ClientError> {
        crate::sweep::note_keychain_value(value);
        self.0.set(key, value)
    }

    fn delete(&self, key: &str) -> Result<(), ClientError> {
        self.0.delete(key)
    }
}

/// Connects a test-network account with `token`; returns its id.
pub fn connect_account(engine: &Engine, url: &str, token: &str) -> String {
    connect_account_on(engine, relay_protocol::Network::Mastodon, url, token)
}

/// [`connect_account`] as an account of `network`.
pub fn connect_account_on(
    engine: &Engine,
    network: relay_protocol::Network,
    url: &str,
    token: &str,
) -> String {
    let account = engine
        .store()
        .add_account(
            network,
            relay_client::social::Provider::Test,
            "me@social.test",
            Some(url),
        )
        .unwrap();
    engine
        .secrets()
        .set(&relay_client::social::account_secret(&account.id), token)
        .unwrap();
    account.id
}

/// Whether a Secret Service answers on the session bus (scripts/test.sh starts one). When none
/// does, says so loudly; under `CI=true` that is a failure.
pub fn keychain_available() -> bool {
    let store = relay_client::secrets::KeyringStore::new("relay-test-probe");
    let ok = std::env::var("DBUS_SESSION_BUS_ADDRESS").is_ok()
        && store.set("probe", "1").is_ok()
        && store.get("probe").ok().flatten().as_deref() == Some("1");
    let _ = store.delete("probe");
    if !ok {
        let msg = "no Secret Service on the session bus: keychain test SKIPPED (run it through scripts/test.sh)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg} (a failure under CI=true)");
        }
        eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
        crate::sweep::note_skipped(msg);
    }
    ok
}

/// Runs the `relay` binary on `data_dir`; returns (success, stdout, stderr).
pub fn relay(
    data_dir: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String, String) {
    relay_with(data_dir, args, stdin, &[])
}

/// [`relay`] with more environment variables.
pub fn relay_with(
    data_dir: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, String)],
) -> (bool, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RELAY_LOG", "trace")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run relay");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The demo employee's device, enrolled and synced (in-memory secrets).
pub async fn synced_device(server: &TestServer) -> (Engine, tempfile::TempDir, NotingStore) {
    let (_org, code) = server.demo().await;
    let (engine, dir, secrets) = engine();
    engine.enrol(&server.url(), &code, "laptop").await.unwrap();
    engine.sync(&mut |_| {}).await.unwrap();
    (engine, dir, secrets)
}

/// The id of the newest item in the device's feed.
pub fn newest_item(engine: &Engine) -> String {
    let feed = engine
        .store()
        .feed(&relay_client::store::FeedQuery {
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    feed[0].item.id.clone()
}
