//! X against a local stub of its documented API (named so: no X server can run here): the
//! PKCE connection over a loopback redirect, posting once despite a resend, rate limits that
//! wait for the reset, refresh before expiry with rotation, and a revoked access that waits for
//! a reconnect.

use std::sync::atomic::Ordering;
use std::time::Duration;

use relay_client::secrets::SecretStore;
use relay_client::social::account_secret;
use relay_client::social::x::XConfig;
use relay_client::store::{AccountStatus, NewShare, ShareState};

use crate::harness::*;
use crate::oidc::browse;
use crate::x_stub::XStub;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_connects_with_pkce_and_posts_once() {
    let server = TestServer::start().await;
    let (stub, url) = XStub::start().await;
    let (engine, dir, secrets) = synced_device(&server).await;
    let engine = engine.with_x(XConfig::at(&url, &url, "relay-test-client"));

    // Connect: the browser goes to X's authorization page and back to the loopback.
    let auth = engine.connect_x_start().await.unwrap();
    assert!(auth.url.contains("code_challenge_method=S256"));
    assert!(auth.url.contains("offline.access"));
    // X accepts only registered callbacks: the browser returns through the server's forwarder.
    assert!(auth.url.contains(
        &url::form_urlencoded::byte_serialize(
            format!("{}/v1/oauth/callback", server.url()).as_bytes()
        )
        .collect::<String>()
    ));
    let page = auth.url.clone();
    let browser = tokio::spawn(async move { browse(&page).await });
    let account = engine
        .connect_x_finish(auth, Duration::from_secs(20))
        .await
        .unwrap();
    browser.await.unwrap();
    assert_eq!(account.handle, "@ann_contoso");

    let item = newest_item(&engine);
    let share = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: item.clone(),
            account_id: account.id.clone(),
            text: "Worth a read".into(),
            scheduled_at: None,
        })
        .unwrap();
    let report = engine.dispatch().await.unwrap();
    assert_eq!(report.posted, 1, "{report:?}");
    let posted = engine.store().share(&share.id).unwrap().unwrap();
    assert_eq!(stub.tweets().len(), 1);
    let tracked = posted.link_url.as_deref().expect("the tracked link");
    assert!(
        tracked.starts_with(&format!("{}/l/", server.url())),
        "{tracked}"
    );
    assert_eq!(
        stub.tweets()[0],
        format!("Worth a read {tracked}"),
        "the person's tracked link added"
    );
    assert!(posted
        .post_url
        .as_deref()
        .unwrap()
        .starts_with("https://x.com/ann_contoso/status/"));
    // The follower count X gives, kept on the device and told to the server: the device's word,
    // kept apart from reach (the server cannot read X's profiles).
    assert_eq!(posted.followers, Some(1234));
    let (reach, reported): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT followers, reported_followers FROM shares WHERE share_id = $1")
            .bind(&share.id)
            .fetch_one(&server.state().db.read)
            .await
            .unwrap();
    assert_eq!((reach, reported), (None, Some(1234)));

    // Sent again as if the app had not noted the post: X calls it a duplicate, and the
    // earlier post (its link shortened by X) is recognised as this share's.
    let db = rusqlite::Connection::open(dir.path().join("relay.db")).unwrap();
    db.execute(
        "UPDATE outbox SET state = 'queued', post_id = NULL, next_attempt_at = NULL WHERE id = ?1",
        [&share.id],
    )
    .unwrap();
    let report = engine.dispatch().await.unwrap();
    assert_eq!(report.posted, 1, "{report:?}");
    assert_eq!(stub.tweets().len(), 1, "never posted twice");
    assert_eq!(
        engine.store().share(&share.id).unwrap().unwrap().post_id,
        posted.post_id
    );

    // Rate limited: the share waits for X's reset time, not failed.
    stub.rate_limited.store(true, Ordering::SeqCst);
    let limited = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: item.clone(),
            account_id: account.id.clone(),
            text: "Second thoughts".into(),
            scheduled_at: None,
        })
        .unwrap();
    let report = engine.dispatch().await.unwrap();
    assert_eq!(report.waiting, 1, "{report:?}");
    let waiting = engine.store().share(&limited.id).unwrap().unwrap();
    assert_eq!(waiting.state, ShareState::Queued);
    let wait = waiting.next_attempt_at.unwrap() - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::seconds(500) && wait <= chrono::Duration::seconds(601),
        "waits for the reset: {wait}"
    );
    stub.rate_limited.store(false, Ordering::SeqCst);

    // The access token is about to expire: refreshed first, and the rotated pair is kept.
    let key = account_secret(&account.id);
    let before = secrets.get(&key).unwrap().unwrap();
    let mut secret: serde_json::Value = serde_json::from_str(&before).unwrap();
    secret["tokens"]["expires_at"] = serde_json::json!(chrono::Utc::now());
    secrets.set(&key, &secret.to_string()).unwrap();
    db.execute(
        "UPDATE outbox SET next_attempt_at = NULL WHERE id = ?1",
        [&limited.id],
    )
    .unwrap();
    let report = engine.dispatch().await.unwrap();
    assert_eq!(report.posted, 1, "{report:?}");
    assert_eq!(stub.refreshes.load(Ordering::SeqCst), 1);
    let after: serde_json::Value =
        serde_json::from_str(&secrets.get(&key).unwrap().unwrap()).unwrap();
    assert_ne!(
        after["tokens"]["refresh_token"],
        secret["tokens"]["refresh_token"]
    );

    // The person revokes Relay on X: the account needs reconnecting, the share waits.
    stub.revoke_all();
    let held = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: item,
            account_id: account.id.clone(),
            text: "Third".into(),
            scheduled_at: None,
        })
        .unwrap();
    let report = engine.dispatch().await.unwrap();
    assert_eq!(report.waiting, 1, "{report:?}");
    assert_eq!(
        engine.store().account(&account.id).unwrap().unwrap().status,
        AccountStatus::Reconnect
    );
    assert_eq!(
        engine.store().share(&held.id).unwrap().unwrap().state,
        ShareState::Queued
    );

    // No token X issued is in the database file.
    drop(db);
    let mut file = std::fs::read(dir.path().join("relay.db")).unwrap();
    file.extend(std::fs::read(dir.path().join("relay.db-wal")).unwrap_or_default());
    let issued = stub.issued_tokens();
    assert!(issued.len() >= 4, "tokens were issued and rotated");
    for token in issued {
        assert!(
            !file.windows(token.len()).any(|w| w == token.as_bytes()),
            "a token is in the database"
        );
    }
}
