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

    let mut child = Command::new(bin)
        .args(["--database-url", &url, "serve", "--bind", "127.0.0.1:0"])
        .env("RELAY_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let base = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("relay-server listening on ")
                .map(str::to_owned)
        })
        .expect("the server says where it listens");

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

    child.kill().ok();
    child.wait().ok();
}
