//! The `relay-server` binary as an operator uses it: demo, then serve, then a device.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::harness::*;
use crate::replica::*;

#[tokio::test]
async fn demo_then_serve_gives_a_device_its_first_sync() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("relay.db").display());
    let bin = env!("CARGO_BIN_EXE_relay-server");

    let demo = Command::new(bin)
        .args(["--database-url", &url, "demo"])
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let out = String::from_utf8(demo.stdout).unwrap();
    let code = out
        .lines()
        .find_map(|l| l.strip_prefix("enrolment code: "))
        .unwrap_or_else(|| panic!("no code printed: {out}"))
        .to_owned();

    let listed = Command::new(bin)
        .args([
            "--database-url",
            &url,
            "content",
            "list",
            "--state",
            "draft",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("annual kick-off"));

    let (_server, base) = serve(&url, &[]);

    let device = Client::anonymous_at(&base).enrol(code, "cli test").await;
    let mut replica = Replica::default();
    replica.sync(&device, 500).await;
    assert_eq!(replica.items.len(), 30);
    let cursor = replica.cursor.clone();
    let empty = device.sync_page(cursor.as_deref(), 500).await;
    assert!(empty.changes.is_empty());

    // A curator's command-line approval reaches the running server's devices: they are told,
    // then they sync.
    let mut events = crate::events::EventStream::open(&device).await;
    let head = events
        .next_version(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let added = Command::new(bin)
        .args([
            "--database-url",
            &url,
            "content",
            "add",
            "--channel",
            "products",
            "--title",
            "Added from the CLI",
            "--url",
            "https://news.contoso.example/en/cli",
            "--language",
            "en",
            "--approve",
        ])
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    // (Adding and approving are two commits: the first event may be the draft's.)
    while !replica.titles().contains(&"Added from the CLI".to_owned()) {
        let told = events
            .next_version(std::time::Duration::from_secs(10))
            .await
            .expect("an event for the CLI's change");
        assert!(told > head);
        replica.sync(&device, 500).await;
    }

    // The demo pictures are served.
    let image = replica
        .items
        .values()
        .find_map(|i| i.image_url.clone())
        .unwrap();
    assert!(
        image.starts_with("http://127.0.0.1:8080/demo-media/"),
        "{image}"
    );
    let path = image.trim_start_matches("http://127.0.0.1:8080");
    let svg = reqwest::get(format!("{}{}", device.base, path))
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_live_streams_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("relay.db").display());
    let bin = env!("CARGO_BIN_EXE_relay-server");
    let mut child = Command::new(bin)
        .args([
            "--database-url",
            &url,
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
        ])
        .env("RELAY_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let code = stdout
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("enrolment code: ").map(str::to_owned))
        .expect("the demo's code");
    // Keep reading, as a supervisor would: the server prints the rest of the enrolment after it.
    std::thread::spawn(move || stdout.for_each(drop));
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = stderr
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("relay-server listening on ")
                .map(str::to_owned)
        })
        .expect("the server says where it listens");
    let device = Client::anonymous_at(&base)
        .enrol(code, "sigterm test")
        .await;
    let mut events = crate::events::EventStream::open(&device).await;
    events
        .next_version(std::time::Duration::from_secs(5))
        .await
        .expect("the current version");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(
        events.ends_within(std::time::Duration::from_secs(5)).await,
        "the live stream ends when the server stops"
    );
    let exit = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    })
    .await
    .unwrap()
    .expect("the server exits after SIGTERM");
    assert!(exit.success(), "{exit:?}");
    let log: Vec<String> = stderr.map_while(Result::ok).collect();
    assert!(log.iter().any(|l| l.contains("stopped")), "{log:?}");
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "nothing listens any more"
    );
}

/// Sources from the command line: added, refused on a private address until the operator
/// allows it, polled, listed with their health. (Multi-threaded: the feed server answers while
/// the test waits for the command.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("relay.db").display());
    let bin = env!("CARGO_BIN_EXE_relay-server");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .args(["--database-url", &url])
            .args(args)
            .env_remove("RELAY_SOURCES_ALLOW_PRIVATE")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(run(&["demo"]).0);
    let feeds = crate::feeds::FeedServer::start().await;
    let feed = feeds.url("blog.rss");
    let (ok, out, err) = run(&[
        "source",
        "add",
        "--kind",
        "feed",
        "--address",
        &feed,
        "--channel",
        "products",
    ]);
    assert!(ok, "{err}");
    let id = out
        .split_whitespace()
        .last()
        .unwrap()
        .trim_matches(|c| c == '(' || c == ')')
        .to_owned();
    let (ok, _, err) = run(&["source", "poll", &id]);
    assert!(!ok && err.contains("refused"), "{err}");
    let (ok, out, err) = run(&["--sources-allow-private", "source", "poll", &id]);
    assert!(ok, "{err}");
    assert!(out.contains("1 new"), "{out}");
    let (ok, out, _) = run(&["source", "list"]);
    assert!(
        ok && out.contains("entries 1") && out.contains(&feed),
        "{out}"
    );
    let (_, drafts, _) = run(&["content", "list", "--state", "draft"]);
    assert!(
        drafts.contains("Privacy-Preserving Compromised Credential Checking"),
        "{drafts}"
    );
}

/// An operator makes a VAPID key pair with the binary, serves with its private half, and
/// devices are offered Web Push with the matching public half (a key the server cannot read is
/// refused at start, not at the first push).
#[tokio::test]
async fn vapid_keys_made_by_the_binary_turn_web_push_on() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("relay.db").display());
    let bin = env!("CARGO_BIN_EXE_relay-server");

    let keys = Command::new(bin).arg("vapid-keys").output().unwrap();
    assert!(keys.status.success());
    let out = String::from_utf8(keys.stdout).unwrap();
    let private = out
        .lines()
        .find_map(|l| l.strip_prefix("RELAY_VAPID_PRIVATE_KEY="))
        .unwrap_or_else(|| panic!("no private key printed: {out}"))
        .to_owned();
    let public = out
        .lines()
        .find_map(|l| {
            l.split(": ")
                .nth(1)
                .filter(|_| l.starts_with("# public key"))
        })
        .unwrap_or_else(|| panic!("no public key printed: {out}"))
        .to_owned();
    assert!(!dir.path().join("relay.db").exists(), "no database needed");

    let bad = Command::new(bin)
        .args(["--database-url", &url, "serve", "--bind", "127.0.0.1:0"])
        .env("RELAY_VAPID_PRIVATE_KEY", "not-a-key")
        .env("RELAY_VAPID_SUBJECT", "mailto:ops@contoso.example")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(said.contains("VAPID private key"), "{said}");
    assert!(!said.contains("not-a-key"), "the key is not echoed: {said}");

    let demo = Command::new(bin)
        .args(["--database-url", &url, "demo"])
        .output()
        .unwrap();
    let code = String::from_utf8(demo.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("enrolment code: ").map(str::to_owned))
        .expect("a code");
    let (server, base) = serve(
        &url,
        &[
            ("RELAY_VAPID_PRIVATE_KEY", &private),
            ("RELAY_VAPID_SUBJECT", "mailto:ops@contoso.example"),
        ],
    );
    let device = Client::anonymous_at(&base).enrol(code, "phone").await;
    let config: relay_protocol::PushConfig = device.get("/v1/push/config").await;
    drop(server);
    assert_eq!(config.kinds, vec![relay_protocol::PushKind::WebPush]);
    assert_eq!(config.vapid_public_key.as_deref(), Some(public.as_str()));
}

/// The command line beside other writers (a running server, another command): each run waits
/// its turn for the SQLite file and never loses its work to "database is locked".
#[tokio::test]
async fn commands_wait_for_other_writers_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("relay.db").display());
    let bin = env!("CARGO_BIN_EXE_relay-server");
    let demo = Command::new(bin)
        .args(["--database-url", &url, "demo"])
        .output()
        .unwrap();
    assert!(demo.status.success());
    // A server running too, its background tasks writing.
    let _server = serve(&url, &[]);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let url = url.clone();
            std::thread::spawn(move || {
                (0..12)
                    .map(|n| {
                        let title = format!("Concurrent {w}-{n}");
                        let out = Command::new(bin)
                            .args([
                                "--database-url",
                                &url,
                                "content",
                                "add",
                                "--channel",
                                "corporate-news",
                                "--title",
                                &title,
                                "--url",
                                &format!("https://example.com/{w}/{n}"),
                                "--language",
                                "en",
                            ])
                            .output()
                            .unwrap();
                        (
                            title,
                            out.status.success(),
                            String::from_utf8_lossy(&out.stderr).into_owned(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut titles = Vec::new();
    for writer in writers {
        for (title, ok, err) in writer.join().unwrap() {
            assert!(ok, "{title}: {err}");
            titles.push(title);
        }
    }
    let listed = Command::new(bin)
        .args([
            "--database-url",
            &url,
            "content",
            "list",
            "--state",
            "draft",
            "--limit",
            "500",
        ])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    for title in &titles {
        assert!(listed.contains(title.as_str()), "{title} lost");
    }
}

/// `relay-server serve` on `url` with `env`, and where it listens; the server is stopped when
/// the guard is dropped, the test passing or failing.
fn serve(url: &str, env: &[(&str, &str)]) -> (Killed, String) {
    serve_with(&["--database-url", url], env)
}

/// `relay-server ARGS serve` on a free port, with `env`.
pub fn serve_with(args: &[&str], env: &[(&str, &str)]) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay-server"))
        .args(args)
        .args(["serve", "--bind", "127.0.0.1:0"])
        // What the test gives is all the server takes (the suite's DATABASE_URL is not it).
        .env_remove("DATABASE_URL")
        .env_remove("RELAY_CONFIG")
        .env("RELAY_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Killed(child);
    let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
    let base = lines
        .find_map(|l| {
            l.strip_prefix("relay-server listening on ")
                .map(str::to_owned)
        })
        .expect("the server says where it listens");
    // Read on to the end: a server whose standard error is closed fails as it logs.
    std::thread::spawn(move || lines.for_each(drop));
    (server, base)
}

/// A child process killed when the test ends, passing or failing (a server left running would
/// hold the test's output open).
pub struct Killed(pub std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
