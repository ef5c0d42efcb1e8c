//! Mastodon against a local stub of its documented API (named so: no Mastodon server can be
//! installed here): the per-device app registration and PKCE sign-in, a status posted once
//! despite a crash mid-send (found among the account's statuses; else the idempotency key
//! within its hour; else the person decides), the instance's own character limit, and a
//! disconnect that revokes.

use std::time::Duration;

use relay_client::secrets::SecretStore;
use relay_client::social::account_secret;
use relay_client::store::{NewShare, ShareState};

use crate::harness::*;
use crate::mastodon_stub::MastodonStub;
use crate::oidc::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_connects_posts_once_and_disconnects() {
    let server = TestServer::start().await;
    let (stub, instance) = MastodonStub::start(100).await;
    let (engine, dir, secrets) = synced_device(&server).await;

    let browser = Browser::default();
    let account = engine
        .connect_mastodon(&instance, browser.opener(""), Duration::from_secs(20))
        .await
        .unwrap();
    let landed = browser.landed().await.unwrap();
    assert!(landed.starts_with("http://127.0.0.1:"), "{landed}");
    assert!(
        account.handle.starts_with("@ann@127.0.0.1"),
        "{}",
        account.handle
    );
    // The composer counts against this server's own limit, kept with the account.
    assert_eq!(account.char_limit, Some(100));
    assert_eq!(
        engine
            .store()
            .account(&account.id)
            .unwrap()
            .unwrap()
            .char_limit,
        Some(100)
    );
    // The device tells the server it has a Mastodon account (the kind, not the handle), once.
    assert!(engine.report_accounts().await.unwrap());
    assert!(
        !engine.report_accounts().await.unwrap(),
        "unchanged: not said again"
    );
    let device = engine.status().unwrap().device_id.unwrap();
    let networks: String = sqlx::query_scalar("SELECT networks FROM sessions WHERE device_id = $1")
        .bind(&device)
        .fetch_one(&server.state().db.read)
        .await
        .unwrap();
    assert_eq!(networks, "mastodon");

    let item = newest_item(&engine);
    let share = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: item.clone(),
            account_id: account.id.clone(),
            text: "Bonne lecture".into(),
            scheduled_at: None,
        })
        .unwrap();
    assert_eq!(engine.dispatch().await.unwrap().posted, 1);
    let statuses = stub.statuses();
    assert_eq!(statuses.len(), 1);
    // Its reach: the account's followers as the server itself read them with the status, once
    // it confirmed it on the account's own server (the device's figure is kept apart).
    server.confirmed().await;
    let (status, reach, reported): (String, Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT status, followers, reported_followers FROM shares WHERE share_id = $1",
    )
    .bind(&share.id)
    .fetch_one(&server.state().db.read)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), reach, reported),
        ("confirmed", Some(321), Some(321))
    );
    // The status carries the person's tracked link, which leads to the item.
    let tracked = engine
        .store()
        .share(&share.id)
        .unwrap()
        .unwrap()
        .link_url
        .expect("the tracked link");
    assert!(
        tracked.starts_with(&format!("{}/l/", server.url())),
        "{tracked}"
    );
    let content = statuses[0]["content"].as_str().unwrap();
    assert!(
        content.starts_with("<p>Bonne lecture") && content.contains(&tracked),
        "{content}"
    );
    let db = rusqlite::Connection::open(dir.path().join("relay.db")).unwrap();

    // A crash mid-send, long after (Mastodon no longer knows the key): the status is found
    // among the account's own, by its words, and nothing is sent again.
    stub.forget_keys();
    db.execute(
        "UPDATE outbox SET state = 'sending', post_id = NULL WHERE id = ?1",
        [&share.id],
    )
    .unwrap();
    let report = engine.dispatch().await.unwrap();
    assert_eq!((report.reconciled, report.posted), (1, 0), "{report:?}");
    assert_eq!(stub.statuses().len(), 1, "never posted twice");
    let found = engine.store().share(&share.id).unwrap().unwrap();
    assert_eq!(found.post_id.as_deref(), statuses[0]["id"].as_str());

    // On a server that hides timelines from anonymous readers, within the hour: sent again
    // with the same key, and Mastodon answers the status it already made.
    stub.close_timelines(true);
    let statuses_before = stub.statuses().len();
    // A new share goes out, then the app dies before noting it.
    let again = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: item.clone(),
            account_id: account.id.clone(),
            text: "Encore une lecture".into(),
            scheduled_at: None,
        })
        .unwrap();
    engine.dispatch().await.unwrap();
    assert_eq!(stub.statuses().len(), statuses_before + 1);
    db.execute(
        "UPDATE outbox SET state = 'sending', post_id = NULL WHERE id = ?1",
        [&again.id],
    )
    .unwrap();
    let report = engine.dispatch().await.unwrap();
    assert_eq!((report.reconciled, report.posted), (1, 1), "{report:?}");
    assert_eq!(
        stub.statuses().len(),
        statuses_before + 1,
        "never posted twice"
    );

    // Hidden timelines and an hour gone (the share is old): Relay cannot tell, so the person
    // decides rather than risk a second post.
    db.execute(
        "UPDATE outbox SET state = 'sending', post_id = NULL, created_at = created_at - 7200000 WHERE id = ?1",
        [&again.id],
    )
    .unwrap();
    stub.forget_keys();
    let report = engine.dispatch().await.unwrap();
    assert_eq!(report.posted, 0, "{report:?}");
    let stopped = engine.store().share(&again.id).unwrap().unwrap();
    assert_eq!(stopped.state, ShareState::Failed);
    assert!(stopped.reason.unwrap().contains("look at your profile"));
    assert_eq!(
        stub.statuses().len(),
        statuses_before + 1,
        "never posted twice"
    );
    stub.close_timelines(false);

    // Over this instance's own limit (100): refused with the reason, before sending.
    let long = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: item,
            account_id: account.id.clone(),
            text: "x".repeat(90),
            scheduled_at: None,
        })
        .unwrap();
    engine.dispatch().await.unwrap();
    let long = engine.store().share(&long.id).unwrap().unwrap();
    assert_eq!(long.state, ShareState::Failed);
    assert!(long.reason.unwrap().contains("takes 100"));

    // No token in the database; disconnecting revokes it and forgets it.
    drop(db);
    let file = std::fs::read(dir.path().join("relay.db")).unwrap();
    let tokens = stub.issued_tokens();
    assert_eq!(tokens.len(), 1);
    assert!(!file
        .windows(tokens[0].len())
        .any(|w| w == tokens[0].as_bytes()));
    assert!(stub.token_active(&tokens[0]));
    engine.disconnect(&account.id).await.unwrap();
    assert!(!stub.token_active(&tokens[0]), "revoked at the instance");
    assert!(secrets.get(&account_secret(&account.id)).unwrap().is_none());
}
