//! Share-then-delete does not pay. The server reads the Bluesky and Mastodon posts it confirmed
//! again before the month closes and withdraws the deleted ones; for X, which the server cannot
//! read, the device re-checks its attested posts and withdraws the records of deleted ones.
//! Either way their points go. Against the real Bluesky PDS, and the local stubs of Mastodon's
//! and X's documented APIs (named so: neither can run here).

use std::time::Duration;

use relay_client::store::{LinkChoice, NewShare};
use relay_client::Engine;

use crate::harness::*;
use crate::mastodon_stub::MastodonStub;
use crate::oidc::{browse, Browser};
use crate::pds::Pds;
use crate::x_stub::XStub;

/// Shares the two newest items through `account` with the person's tracked links; answers the
/// two share ids.
async fn share_two(engine: &Engine, account: &str, words: &str) -> (String, String) {
    let feed = engine
        .store()
        .feed(&relay_client::store::FeedQuery {
            limit: 2,
            ..Default::default()
        })
        .unwrap();
    let mut ids = Vec::new();
    for (n, item) in feed.iter().enumerate() {
        let share = engine
            .store()
            .enqueue(&NewShare {
                link: LinkChoice::Tracked,
                item_id: item.item.id.clone(),
                account_id: account.to_owned(),
                text: format!("{words} {n}"),
                scheduled_at: None,
            })
            .unwrap();
        ids.push(share.id);
    }
    let report = engine.dispatch().await.unwrap();
    assert_eq!((report.posted, report.recorded), (2, 2), "{report:?}");
    (ids[0].clone(), ids[1].clone())
}

async fn points(engine: &Engine) -> i64 {
    engine
        .programme()
        .await
        .unwrap()
        .programme
        .unwrap()
        .summary
        .me
        .points
}

/// Waits until the person's points are `expected` (the server's readings run every second
/// here), or fails after 15 s.
async fn points_become(engine: &Engine, expected: i64) {
    for _ in 0..150 {
        if points(engine).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(points(engine).await, expected);
}

/// Deletes the first post with `delete`, re-checks, and sees its points go.
async fn deleted_post_loses_its_points(engine: &Engine, first: &str, second: &str) {
    let report = engine.recheck_posts().await.unwrap();
    assert_eq!((report.checked, report.withdrawn), (2, 1), "{report:?}");
    assert_eq!(points(engine).await, 10);
    let withdrawn = engine.store().share(first).unwrap().unwrap();
    assert_eq!(withdrawn.points, Some(0));
    assert!(withdrawn.refused.unwrap().contains("deleted"));
    assert_eq!(
        engine.store().share(second).unwrap().unwrap().points,
        Some(10),
        "the standing post keeps its points"
    );
    // Withdrawn records are not checked again.
    let again = engine.recheck_posts().await.unwrap();
    assert_eq!((again.checked, again.withdrawn), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_deleted_on_bluesky_loses_its_points() {
    let Some(pds) = Pds::start() else { return };
    let server = TestServer::start_reading(&pds.plc).await;
    let (engine, _dir, _secrets) = synced_device(&server).await;
    let ann = pds.create_account("ann.test", "main-password-1").await;
    let app_password = pds.app_password(&ann, "relay").await;
    let account = engine
        .connect_bluesky(&pds.url, "ann.test", &app_password)
        .await
        .unwrap();
    let (first, _second) = share_two(&engine, &account.id, "Worth a read").await;
    // Pending until the server has read both posts on the PDS.
    server.confirmed().await;
    points_become(&engine, 20).await;
    // Nothing for the device to re-check: the server reads Bluesky itself.
    let nothing = engine.recheck_posts().await.unwrap();
    assert_eq!((nothing.checked, nothing.withdrawn), (0, 0));

    let post_id = engine
        .store()
        .share(&first)
        .unwrap()
        .unwrap()
        .post_id
        .unwrap();
    let rkey = post_id.rsplit('/').next().unwrap();
    pds.delete_post(&ann, rkey).await;
    points_become(&engine, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_deleted_on_mastodon_or_x_loses_its_points() {
    // Mastodon: the server reads the statuses on the account's own server.
    let server = TestServer::start().await;
    let (stub, instance) = MastodonStub::start(500).await;
    let (engine, _dir, _secrets) = synced_device(&server).await;
    let browser = Browser::default();
    let account = engine
        .connect_mastodon(&instance, browser.opener(""), Duration::from_secs(20))
        .await
        .unwrap();
    browser.landed().await.unwrap();
    let (first, _second) = share_two(&engine, &account.id, "Bonne lecture").await;
    server.confirmed().await;
    points_become(&engine, 20).await;
    let status = engine
        .store()
        .share(&first)
        .unwrap()
        .unwrap()
        .post_id
        .unwrap();
    stub.delete_status(&status);
    points_become(&engine, 10).await;

    // X, on another device of another person: attested, re-checked by the device (the
    // organisation trusts attested shares here, so they earn 10).
    let server = TestServer::start().await;
    let (org, _) = server.demo().await;
    crate::draws::trust_attested(&server, &org).await;
    let (x, url) = XStub::start().await;
    let (engine, _dir, _secrets) = synced_device(&server).await;
    let engine = engine.with_x(relay_client::social::x::XConfig::at(
        &url,
        &url,
        "relay-test-client",
    ));
    let auth = engine.connect_x_start().await.unwrap();
    let page = auth.url.clone();
    let opened = tokio::spawn(async move { browse(&page).await });
    let account = engine
        .connect_x_finish(auth, Duration::from_secs(20))
        .await
        .unwrap();
    opened.await.unwrap();
    let (first, second) = share_two(&engine, &account.id, "Worth a read").await;
    let tweet = engine
        .store()
        .share(&first)
        .unwrap()
        .unwrap()
        .post_id
        .unwrap();
    x.delete_tweet(&tweet);
    deleted_post_loses_its_points(&engine, &first, &second).await;
}
