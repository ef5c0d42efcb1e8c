//! Share-then-delete does not pay: the device re-checks its verified posts before the month
//! closes and withdraws the records of deleted ones, whose points go. Against the real Bluesky
//! PDS, and the local stubs of Mastodon's and X's documented APIs (named so: neither can run
//! here).

use std::time::Duration;

use relay_client::store::{LinkChoice, NewShare};
use relay_client::Engine;

use crate::harness::*;
use crate::mastodon_stub::MastodonStub;
use crate::oidc::{browse, Browser};
use crate::pds::Pds;
use crate::x_stub::XStub;

/// Shares the two newest items through `account`; answers the two share ids.
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
                link: LinkChoice::Original,
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
    let server = TestServer::start().await;
    let (engine, _dir, _secrets) = synced_device(&server).await;
    let ann = pds.create_account("ann.test", "main-password-1").await;
    let app_password = pds.app_password(&ann, "relay").await;
    let account = engine
        .connect_bluesky(&pds.url, "ann.test", &app_password)
        .await
        .unwrap();
    let (first, second) = share_two(&engine, &account.id, "Worth a read").await;
    assert_eq!(points(&engine).await, 20);
    let nothing = engine.recheck_posts().await.unwrap();
    assert_eq!((nothing.checked, nothing.withdrawn), (2, 0), "both stand");

    let post_id = engine
        .store()
        .share(&first)
        .unwrap()
        .unwrap()
        .post_id
        .unwrap();
    let rkey = post_id.rsplit('/').next().unwrap();
    pds.delete_post(&ann, rkey).await;
    deleted_post_loses_its_points(&engine, &first, &second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_deleted_on_mastodon_or_x_loses_its_points() {
    // Mastodon.
    let server = TestServer::start().await;
    let (stub, instance) = MastodonStub::start(500).await;
    let (engine, _dir, _secrets) = synced_device(&server).await;
    let browser = Browser::default();
    let account = engine
        .connect_mastodon(&instance, browser.opener(""), Duration::from_secs(20))
        .await
        .unwrap();
    browser.landed().await.unwrap();
    let (first, second) = share_two(&engine, &account.id, "Bonne lecture").await;
    let status = engine
        .store()
        .share(&first)
        .unwrap()
        .unwrap()
        .post_id
        .unwrap();
    stub.delete_status(&status);
    deleted_post_loses_its_points(&engine, &first, &second).await;

    // X, on another device of another person.
    let server = TestServer::start().await;
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
