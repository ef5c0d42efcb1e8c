//! Live mode: the engine follows the server's events, syncs when told, notifies once per new
//! batch, and reconnects after the server goes away and comes back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use relay_client::notify::{Notification, Notifier};

use crate::harness::*;

#[derive(Default)]
struct Recorded(Mutex<Vec<Notification>>);

impl Notifier for Recorded {
    fn notify(&self, n: &Notification) {
        self.0.lock().unwrap().push(n.clone());
    }
}

async fn wait_for(notes: &Recorded, count: usize) -> Vec<Notification> {
    for _ in 0..300 {
        let current = notes.0.lock().unwrap().clone();
        if current.len() >= count {
            return current;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no notification {count} after 15 s: {:?}",
        notes.0.lock().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_mode_follows_events_across_a_server_restart() {
    let mut server = TestServer::start().await;
    let (org, code) = server.demo().await;
    let (engine, _dir, _secrets) = engine();
    let notes = Arc::new(Recorded::default());
    let engine = engine.with_notifier(notes.clone());
    engine.enrol(&server.url(), &code, "laptop").await.unwrap();
    let watcher = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.watch(&mut |_| {}).await })
    };
    // The first sync happens at once, silently.
    for _ in 0..200 {
        if engine.store().item_count().unwrap() == 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(engine.store().item_count().unwrap(), 30);

    let first = server.publish(&org, "Live one", "<p>Now</p>").await;
    let notes_now = wait_for(&notes, 1).await;
    assert_eq!(notes_now[0].item_id, first);
    assert_eq!(notes_now[0].count, 1);
    assert!(engine.store().item(&first).unwrap().is_some());

    // The server goes away and comes back; the engine reconnects by itself.
    server.down().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.up().await;
    let second = server
        .publish(&org, "Live two", "<p>After the restart</p>")
        .await;
    let notes_now = wait_for(&notes, 2).await;
    assert_eq!(notes_now[1].item_id, second);
    assert_eq!(notes_now.len(), 2, "exactly one notification per approval");
    assert!(!watcher.is_finished());
    watcher.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_cached_within_a_budget_and_served_offline() {
    let mut server = TestServer::start().await;
    server.demo().await;
    let dir = crate::sweep::tempdir();
    let store = relay_client::store::Store::open(&dir.path().join("relay.db")).unwrap();
    let urls: Vec<String> = [
        "womens-day-video",
        "charity-contest",
        "nasa-mixed-reality",
        "data-protection",
    ]
    .iter()
    .map(|s| format!("{}/demo-media/{s}.svg", server.url()))
    .collect();
    let mut sizes = Vec::new();
    for url in &urls {
        sizes.push(
            reqwest::get(url)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .len() as u64,
        );
    }
    // Room for the first, third and fourth: the second must go when the fourth arrives.
    let budget = sizes[0] + sizes[2] + sizes[3];
    let cache = relay_client::images::ImageCache::new(
        dir.path().join("images"),
        store,
        reqwest::Client::new(),
        budget,
    );
    for url in &urls[..3] {
        let path = cache.fetch(url).await.unwrap();
        assert!(std::fs::read_to_string(path).unwrap().starts_with("<svg"));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Touch the first so the second is the least recently used, then go over budget.
    assert!(cache.get(&urls[0]).unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(5)).await;
    cache.fetch(&urls[3]).await.unwrap();
    assert!(cache.size().unwrap() <= budget);
    assert!(
        cache.get(&urls[1]).unwrap().is_none(),
        "the least recently used went first"
    );
    // Offline, cached images are still there.
    server.down().await;
    assert!(cache.get(&urls[0]).unwrap().is_some());
    assert!(cache.get(&urls[3]).unwrap().is_some());
    assert!(cache.fetch(&urls[1]).await.is_err());
}
