//! A curator approves a new item: the app shows exactly one desktop notification (a real dunst
//! on the test's D-Bus), and clicking it opens the item.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::desktop::{Desktop, Options};
use crate::engine::TestServer;

fn notifications(desktop: &Desktop) -> Vec<serde_json::Value> {
    // dunstctl history: every notification shown (and closed) in this session.
    let history = desktop
        .run("dunstctl", &["history"])
        .and_then(|h| serde_json::from_str::<serde_json::Value>(&h).ok());
    let mut all: Vec<serde_json::Value> = history
        .as_ref()
        .and_then(|h| h["data"][0].as_array().cloned())
        .unwrap_or_default();
    let displayed: usize = desktop
        .run("dunstctl", &["count", "displayed"])
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(0);
    all.extend((0..displayed).map(|_| json!({"displayed": true})));
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_item_notifies_once_and_opens() {
    if !crate::webview_available() {
        return;
    }
    let server = TestServer::start().await;
    let (org, code) = server.demo().await;
    let desktop = Desktop::enrolled(&server.url(), &code, Options::default()).await;
    let d = &desktop.driver;
    d.wait_for("[data-testid=card]").await;
    d.wait_for("[data-testid=online]").await;
    // The first sync is the whole feed, not news: no notification for it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        desktop
            .run("dunstctl", &["count", "displayed"])
            .map(|c| c.trim().to_owned()),
        Some("0".into())
    );

    let title = "Our new office in Lyon opens on Monday";
    let id = server
        .publish(&org, title, "<p>Two floors by the Rhône.</p>")
        .await;

    let deadline = Instant::now() + crate::webdriver::PATIENCE;
    while desktop
        .run("dunstctl", &["count", "displayed"])
        .map(|c| c.trim() != "1")
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "no notification arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Exactly one, even after the dust settles.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(notifications(&desktop).len(), 1);
    d.screenshot("notification-feed").await;

    // The person clicks it: the item opens.
    d.click_css("[data-testid=nav-settings]").await;
    desktop
        .run("dunstctl", &["action", "0"])
        .expect("dunstctl action");
    let shown = d.wait_for("[data-testid=item-title]").await;
    assert_eq!(d.text(&shown).await, title);
    let current = d
        .execute(
            "return document.querySelector('[data-testid=item-body]').innerText",
            json!([]),
        )
        .await;
    assert!(
        current.as_str().unwrap().contains("Rhône"),
        "{current} for {id}"
    );
    d.screenshot("notification-opened").await;
    d.close().await;
}
