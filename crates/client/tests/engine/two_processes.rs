//! Two processes on one data folder: the desktop app and the `relay` command line (several of
//! them) syncing, sharing and refreshing the session at the same moment. None fails with
//! "database is locked", none signs the device out, and every share is posted once.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use relay_client::store::{FeedQuery, ShareState};
use relay_client::Engine;
use relay_server::auth::store::TokenLifetimes;

use crate::harness::*;

/// Runs `relay ARGS` in `copies` processes at once; answers their (success, stdout, stderr).
async fn at_once(dir: &Path, args: &[&str], copies: usize) -> Vec<(bool, String, String)> {
    let runs = (0..copies).map(|_| {
        let dir = dir.to_owned();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            relay(&dir, &args, None)
        })
    });
    futures::future::join_all(runs)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

fn assert_all_ok(what: &str, runs: &[(bool, String, String)]) {
    for (ok, out, err) in runs {
        let last_lines: Vec<&str> = err.lines().rev().take(15).collect();
        assert!(ok, "{what}: {out}\n{}", last_lines.join("\n"));
        assert!(!err.contains("database is locked"), "{what}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_and_the_command_line_sync_share_and_refresh_on_one_data_folder() {
    if !keychain_available() {
        return;
    }
    // Access tokens that expire within the test, so every process wants to refresh at once.
    let server = TestServer::start_with(TokenLifetimes {
        access: chrono::Duration::seconds(3),
        ..Default::default()
    })
    .await;
    let (org, code) = server.demo().await;
    for i in 0..300 {
        server
            .publish(&org, &format!("Shared folder story {i}"), "<p>Filler.</p>")
            .await;
    }
    let device = crate::sweep::tempdir();
    let dir = device.path().to_owned();
    let (ok, out, err) = relay(&dir, &["enrol", &server.url(), &code], None);
    assert!(ok, "{out}{err}");
    // The app: the engine on the same folder and the same keychain entries.
    let app = Engine::open_with_keychain(&dir).unwrap();

    for round in 0..3 {
        // Past the access token's life: each process finds it expired.
        tokio::time::sleep(Duration::from_millis(3300)).await;
        let page = if round == 0 { "3" } else { "50" };
        let args = ["sync", "--page-size", page];
        let mut progress = |_| {};
        let (clis, app_sync) = tokio::join!(at_once(&dir, &args, 3), app.sync(&mut progress));
        assert_all_ok(&format!("round {round}: relay sync"), &clis);
        app_sync.unwrap_or_else(|e| panic!("round {round}: the app's sync: {e}"));
    }
    let status = app.status().unwrap();
    assert!(status.signed_in, "{status:?}");
    assert_eq!(status.items, 300 + demo_items(&app));

    // Shares queued by two command lines at once, then sent by three dispatchers and the app
    // at once, with the token expiring in between.
    let (stub, stub_url) = StubNetwork::start("shared-token").await;
    stub.delay_ms.store(30, Ordering::SeqCst);
    let (ok, out, err) = relay(
        &dir,
        &[
            "account",
            "add-test",
            "--network",
            "mastodon",
            "--url",
            &stub_url,
            "--handle",
            "alex",
        ],
        Some("shared-token"),
    );
    assert!(ok, "{out}{err}");
    let items = app
        .store()
        .feed(&FeedQuery {
            limit: 12,
            ..Default::default()
        })
        .unwrap();
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let queueing = items.chunks(6).map(|chunk| {
        let dir = dir.clone();
        let ids: Vec<String> = chunk.iter().map(|f| f.item.id.clone()).collect();
        let past = past.clone();
        tokio::task::spawn_blocking(move || {
            ids.iter()
                .map(|id| {
                    relay(
                        &dir,
                        &["share", id, "--network", "mastodon", "--at", &past],
                        None,
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    for runs in futures::future::join_all(queueing).await {
        assert_all_ok("relay share", &runs.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(3300)).await;
    for _ in 0..5 {
        let (clis, app_dispatch) = tokio::join!(at_once(&dir, &["dispatch"], 3), app.dispatch());
        assert_all_ok("relay dispatch", &clis);
        app_dispatch.unwrap();
        let shares = app.store().shares(None).unwrap();
        if shares
            .iter()
            .all(|s| s.state == ShareState::Posted && s.recorded_at.is_some())
        {
            break;
        }
    }
    let shares = app.store().shares(None).unwrap();
    assert_eq!(shares.len(), 12, "no share lost");
    assert!(
        shares
            .iter()
            .all(|s| s.state == ShareState::Posted && s.recorded_at.is_some()),
        "{shares:#?}"
    );
    assert_eq!(stub.created.load(Ordering::SeqCst), 12, "each posted once");
    assert_eq!(server.share_records().await.len(), 12);
    assert!(app.status().unwrap().signed_in, "still signed in");
}

/// The demo organisation's own stories the device holds besides the bulk ones.
fn demo_items(app: &Engine) -> u64 {
    app.store()
        .feed(&FeedQuery {
            limit: 500,
            ..Default::default()
        })
        .unwrap()
        .iter()
        .filter(|f| !f.item.title.starts_with("Shared folder story"))
        .count() as u64
}
