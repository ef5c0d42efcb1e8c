//! Offline: reading, searching and queueing work without the server or the network; when they
//! return, queued shares go out and are recorded exactly once.

use std::sync::atomic::Ordering;

use relay_client::store::{FeedQuery, NewShare, ShareState};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_work_goes_out_once_when_everything_returns() {
    let mut server = TestServer::start().await;
    let (engine, _dir, _secrets) = synced_device(&server).await;
    let (stub, stub_url) = StubNetwork::start("tok-123").await;
    let account = connect_account(&engine, &stub_url, "tok-123");

    // Everything goes away.
    server.down().await;
    stub.down.store(true, Ordering::SeqCst);

    let feed = engine
        .store()
        .feed(&FeedQuery {
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(feed.len(), 30);
    assert_eq!(engine.store().search("paperless", 5).unwrap().len(), 1);
    let items: Vec<String> = feed.iter().take(3).map(|f| f.item.id.clone()).collect();
    let mut shares = Vec::new();
    for id in &items {
        let share = engine
            .store()
            .enqueue(&NewShare {
                link: Default::default(),
                item_id: id.clone(),
                account_id: account.clone(),
                text: format!("Sharing {id}"),
                scheduled_at: None,
            })
            .unwrap();
        shares.push(share.id);
    }
    assert!(engine.sync(&mut |_| {}).await.unwrap_err().is_transient());
    let report = engine.dispatch().await.unwrap();
    assert_eq!(report.posted, 0);
    for id in &shares {
        let share = engine.store().share(id).unwrap().unwrap();
        assert_eq!(
            share.state,
            ShareState::Failed,
            "failed for now, retrying by itself"
        );
        assert!(share.retryable && share.next_attempt_at.is_some());
    }

    // The network returns (not the server yet): posts go out, records wait.
    stub.down.store(false, Ordering::SeqCst);
    for id in &shares {
        engine.store().retry_share(id).unwrap();
    }
    let report = engine.dispatch().await.unwrap();
    assert_eq!((report.posted, report.recorded), (3, 0));
    assert_eq!(stub.post_count(), 3);

    // The server returns: each share is recorded once, however often the device asks.
    server.up().await;
    let report = engine.dispatch().await.unwrap();
    assert_eq!(report.recorded, 3);
    let again = engine.dispatch().await.unwrap();
    assert_eq!((again.posted, again.recorded), (0, 0));
    let records = server.share_records().await;
    assert_eq!(records.len(), 3);
    let mut expected = shares.clone();
    expected.sort();
    assert_eq!(
        records.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(stub.created.load(Ordering::SeqCst), 3, "no post twice");
    for id in &shares {
        let share = engine.store().share(id).unwrap().unwrap();
        assert_eq!(share.state, ShareState::Posted);
        assert!(share.recorded_at.is_some());
        assert!(share.post_url.unwrap().starts_with("https://social.test/"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_shares_wait_for_their_time_and_bad_tokens_wait_for_reconnection() {
    let server = TestServer::start().await;
    let (engine, _dir, _secrets) = synced_device(&server).await;
    let (stub, stub_url) = StubNetwork::start("good").await;
    let account = connect_account(&engine, &stub_url, "expired");
    let item = newest_item(&engine);

    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    let scheduled = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: item.clone(),
            account_id: account.clone(),
            text: "Later".into(),
            scheduled_at: Some(later),
        })
        .unwrap();
    let now = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: item,
            account_id: account.clone(),
            text: "Now".into(),
            scheduled_at: None,
        })
        .unwrap();
    let report = engine.dispatch().await.unwrap();
    assert_eq!(
        report.waiting, 1,
        "the expired token holds the share, it does not fail it"
    );
    let held = engine.store().share(&now.id).unwrap().unwrap();
    assert_eq!(held.state, ShareState::Queued);
    assert!(held.reason.unwrap().contains("reconnected"));
    assert_eq!(
        engine.store().account(&account).unwrap().unwrap().status,
        relay_client::store::AccountStatus::Reconnect
    );
    assert_eq!(
        engine.store().share(&scheduled.id).unwrap().unwrap().state,
        ShareState::Queued
    );
    assert_eq!(stub.post_count(), 0);

    // Edits before sending are allowed; empty text is not.
    assert!(engine
        .store()
        .edit_share(&now.id, Some("  "), None)
        .is_err());
    engine
        .store()
        .edit_share(&now.id, Some("Now, in my words"), Some(None))
        .unwrap();
    let cancelled = engine
        .store()
        .cancel_share(&scheduled.id, "cancelled by you")
        .unwrap();
    assert_eq!(cancelled.state, ShareState::Cancelled);
    assert!(
        engine.store().retry_share(&scheduled.id).is_err(),
        "a cancelled share stays cancelled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_access_tokens_are_refreshed_and_rotated() {
    let lifetimes = relay_server::auth::store::TokenLifetimes {
        access: chrono::Duration::seconds(1),
        ..Default::default()
    };
    let server = TestServer::start_with(lifetimes).await;
    let (org, code) = server.demo().await;
    let (engine, _dir, secrets) = engine();
    engine.enrol(&server.url(), &code, "laptop").await.unwrap();
    let session = |s: &crate::harness::NotingStore| {
        use relay_client::secrets::SecretStore;
        s.get(relay_client::api::SESSION_SECRET).unwrap().unwrap()
    };
    let first = session(&secrets);
    for round in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        server
            .publish(&org, &format!("Round {round}"), "<p>x</p>")
            .await;
        let report = engine.sync(&mut |_| {}).await.unwrap();
        assert!(report.upserted >= 1, "round {round}");
    }
    assert_ne!(session(&secrets), first, "the tokens were rotated");
    assert!(engine.status().unwrap().signed_in);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_dispatcher_at_a_time_per_data_folder() {
    let server = TestServer::start().await;
    let (engine, dir, _secrets) = synced_device(&server).await;
    let (stub, stub_url) = StubNetwork::start("tok").await;
    let account = connect_account(&engine, &stub_url, "tok");
    let item = newest_item(&engine);
    let share = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: item,
            account_id: account,
            text: "Once".into(),
            scheduled_at: None,
        })
        .unwrap();

    // Another process (the app, say) is dispatching from the same folder.
    let other = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.path().join("dispatch.lock"))
        .unwrap();
    other.lock().unwrap();
    let report = engine.dispatch().await.unwrap();
    assert!(report.busy);
    assert_eq!(
        engine.store().share(&share.id).unwrap().unwrap().state,
        ShareState::Queued
    );
    assert_eq!(stub.post_count(), 0);

    // It finishes; this one goes ahead.
    other.unlock().unwrap();
    let report = engine.dispatch().await.unwrap();
    assert!(!report.busy);
    assert_eq!(report.posted, 1);
    assert_eq!(stub.post_count(), 1);
}
