//! Crash safety: the engine process (`relay`) is killed with SIGKILL at many points during sync
//! and during dispatch, then restarted. The cache ends up equal to the server's feed, no share
//! is lost and none is posted twice.

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use rand::Rng;
use relay_client::store::{FeedQuery, ShareState, Store};

use crate::harness::*;

/// Every cached item with its revision, sorted by id.
fn all_items(store: &Store) -> Vec<(String, i64)> {
    let conn_items = store
        .feed(&FeedQuery {
            limit: 500,
            ..Default::default()
        })
        .unwrap();
    let mut out: Vec<(String, i64)> = Vec::new();
    let mut page = conn_items;
    while let Some(last) = page
        .last()
        .map(|f| (f.item.published_at.timestamp_millis(), f.item.id.clone()))
    {
        out.extend(page.iter().map(|f| (f.item.id.clone(), f.item.version)));
        page = store
            .feed(&FeedQuery {
                limit: 500,
                after: Some(last),
                ..Default::default()
            })
            .unwrap();
    }
    out.sort();
    out
}

/// Where a cursor stands in the feed: `(version, last id within it)`. Test knowledge of the
/// server's cursor format (`c1.EPOCH.VERSION[.QUIET.ID]`); devices treat cursors as opaque.
fn position(cursor: &str) -> (i64, Option<String>) {
    let parts: Vec<&str> = cursor.split('.').collect();
    (
        parts[2].parse().unwrap(),
        parts.get(4).map(|s| (*s).to_owned()),
    )
}

/// Starts `relay ARGS`, lets it run for a random moment, kills it with SIGKILL.
fn run_and_kill(dir: &std::path::Path, args: &[&str], max_ms: u64) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let wait = rand::thread_rng().gen_range(0..max_ms);
    std::thread::sleep(Duration::from_millis(wait));
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
    !finished
}

fn integrity(dir: &std::path::Path) -> Store {
    let store = Store::open(&dir.join("relay.db")).expect("the database opens after a kill");
    store.quick_check().expect("the database is intact");
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_sync_and_mid_dispatch_loses_nothing_and_repeats_nothing() {
    if !keychain_available() {
        return;
    }
    let server = TestServer::start().await;
    let (org, code) = server.demo().await;
    // Enough content for several pages.
    for i in 0..1200 {
        server
            .publish(
                &org,
                &format!("Bulk story {i}"),
                "<p>Filler for paging.</p>",
            )
            .await;
    }
    let device = crate::sweep::tempdir();
    let dir = device.path();
    let (ok, out, err) = relay(dir, &["enrol", &server.url(), &code], None);
    assert!(ok, "{out}{err}");

    // The truth: a fresh device's full sync (nothing changes on the server meanwhile).
    let (fresh, _fresh_dir, _secrets) = engine();
    let alex = server.person_id(&org, "alex.martin@contoso.example").await;
    let enrolment = {
        let mut tx = server.state().db.begin().await.unwrap();
        let e = relay_server::auth::store::create_enrolment(
            &mut tx,
            &org.id,
            &alex,
            None,
            "http://relay.test",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        e
    };
    fresh
        .enrol(&server.url(), &enrolment.code, "truth")
        .await
        .unwrap();
    fresh.sync(&mut |_| {}).await.unwrap();
    let truth = all_items(fresh.store());
    assert_eq!(truth.len(), 1230);

    // Sync in small pages, killed over and over until a run completes. After every kill the
    // cache holds exactly the feed up to its stored cursor: whole pages, never half of one.
    let mut killed = 0;
    for round in 0u64.. {
        assert!(round < 200, "sync never completed");
        // One item per page: the sync takes well over a second even on an idle machine, so
        // kills land mid-sync (with five a fast run finished inside the kill window).
        let interrupted = run_and_kill(dir, &["sync", "--page-size", "1"], 250 + round * 20);
        let store = integrity(dir);
        let cached = all_items(&store);
        let expected: Vec<(String, i64)> = match store.cursor().unwrap() {
            None => vec![],
            Some(cursor) => {
                let (version, after_id) = position(&cursor);
                truth
                    .iter()
                    .filter(|(id, v)| {
                        *v < version || (*v == version && after_id.as_ref().is_none_or(|a| id <= a))
                    })
                    .cloned()
                    .collect()
            }
        };
        assert_eq!(
            cached, expected,
            "after kill {round} the cache matches its cursor"
        );
        // Mid-sync means after the first page and before the last: a kill before the process
        // applied anything, or after it had everything, proves nothing.
        let applied_some = store.cursor().unwrap().is_some() && !cached.is_empty();
        if interrupted && applied_some && cached.len() < truth.len() {
            killed += 1;
        }
        if !interrupted {
            break;
        }
    }
    assert!(killed >= 3, "the kills landed mid-sync ({killed})");
    let store = integrity(dir);
    assert_eq!(
        all_items(&store),
        truth,
        "the finished cache is the server's feed"
    );

    // Dispatch, killed over and over.
    let (stub, stub_url) = StubNetwork::start("crash-token").await;
    stub.delay_ms.store(40, Ordering::SeqCst);
    let (ok, out, err) = relay(
        dir,
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
        Some("crash-token"),
    );
    assert!(ok, "{out}{err}");
    let items = store
        .feed(&FeedQuery {
            limit: 25,
            ..Default::default()
        })
        .unwrap();
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    for f in &items {
        // --at in the past: queued now, sent by the next dispatch (not by the share command).
        let (ok, out, err) = relay(
            dir,
            &["share", &f.item.id, "--network", "mastodon", "--at", &past],
            None,
        );
        assert!(ok, "{out}{err}");
    }
    assert_eq!(store.shares(Some(ShareState::Queued)).unwrap().len(), 25);
    let mut killed = 0;
    for _ in 0..40 {
        if store.shares(Some(ShareState::Posted)).unwrap().len() == 25
            && store.unrecorded().unwrap().is_empty()
        {
            break;
        }
        if run_and_kill(dir, &["dispatch"], 400) {
            killed += 1;
        }
        integrity(dir);
    }
    let (ok, out, err) = relay(dir, &["dispatch"], None);
    assert!(ok, "{out}{err}");
    assert!(killed >= 3, "the kills landed mid-dispatch ({killed})");
    let shares = store.shares(None).unwrap();
    assert_eq!(shares.len(), 25, "no share lost");
    assert!(
        shares
            .iter()
            .all(|s| s.state == ShareState::Posted && s.recorded_at.is_some()),
        "{shares:#?}"
    );
    assert_eq!(
        stub.created.load(Ordering::SeqCst),
        25,
        "one post per share, never two"
    );
    assert_eq!(stub.post_count(), 25);
    assert_eq!(
        server.share_records().await.len(),
        25,
        "one record per share on the server"
    );
}
