//! A share queued with the server and the social network both unreachable is posted, once, and
//! recorded on the server once they return. Nothing the person wrote is lost.

use std::sync::atomic::Ordering;

use serde_json::json;

use crate::desktop::{Desktop, Options};
use crate::engine::{StubNetwork, TestServer};

#[tokio::test(flavor = "multi_thread")]
async fn share_queued_offline_is_posted_once_when_back() {
    if !crate::webview_available() {
        return;
    }
    let mut server = TestServer::start().await;
    let (_org, code) = server.demo().await;
    let (network, network_url) = StubNetwork::start("e2e-token").await;
    let desktop = Desktop::enrolled(&server.url(), &code, Options::default()).await;
    desktop.connect_test_account("mastodon", &network_url, "e2e-token");
    let d = &desktop.driver;
    d.wait_for("[data-testid=card]").await;
    d.wait_for("[data-testid=online]").await;

    // Both go away.
    server.down().await;
    network.down.store(true, Ordering::SeqCst);
    d.click_css("[data-testid=sync-now]").await;
    d.wait_for("[data-testid=offline]").await;

    // The person reads and shares anyway, in their own words.
    d.click_css("[data-testid=card]").await;
    d.click_css("[data-testid=share]").await;
    // The only account is chosen already.
    d.wait_until(
        "the account is chosen",
        "return document.querySelector('[data-testid=account-mastodon]').checked",
        json!([]),
    )
    .await;
    let text = "Proud of this one. Worth a read! #Contoso";
    d.type_into("[data-testid=text-mastodon]", text).await;
    let count = d.wait_for("[data-testid=count-mastodon]").await;
    // 41 characters, a space and the link counted as 23.
    assert_eq!(d.text(&count).await, "65 / 500");
    d.screenshot("offline-composer").await;
    d.click_css("[data-testid=share-submit]").await;
    d.wait_for("[data-testid=share-queued]").await;

    // The queue shows it waiting, offline.
    d.click_css("[data-testid=nav-queue]").await;
    d.wait_for("[data-testid=share-row]").await;
    d.wait_until(
        "the share waits",
        "const s = document.querySelector('[data-testid=share-row]').dataset.status; return s === 'queued' || s === 'failed'",
        json!([]),
    )
    .await;
    let shown = d.texts(".share-text").await;
    assert_eq!(shown, vec![text.to_owned()]);
    d.screenshot("offline-queue").await;
    assert_eq!(network.post_count(), 0);

    // They come back; "Sync now" sends at once.
    server.up().await;
    network.down.store(false, Ordering::SeqCst);
    d.click_css("[data-testid=sync-now]").await;
    d.wait_until(
        "the share is posted",
        "return document.querySelector('[data-testid=share-row]').dataset.status === 'posted'",
        json!([]),
    )
    .await;
    d.wait_for("[data-testid=online]").await;
    assert_eq!(network.post_count(), 1, "posted exactly once");
    assert_eq!(network.created.load(Ordering::SeqCst), 1);
    let posted: Vec<String> = network
        .posts
        .lock()
        .unwrap()
        .values()
        .map(|p| p["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(posted, vec![text.to_owned()]);

    // And recorded on the server, once.
    let deadline = std::time::Instant::now() + crate::webdriver::PATIENCE;
    while server.share_records().await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the share was never recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(server.share_records().await.len(), 1);
    d.screenshot("offline-posted").await;
    d.close().await;
}
