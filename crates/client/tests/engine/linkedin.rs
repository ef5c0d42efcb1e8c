//! LinkedIn against a local stub of its documented API (named so: no LinkedIn server can run
//! here): sign-in in the browser, redirected through the real relay-server's registered
//! callback to the device's loopback, with the code exchanged by the server (which holds the
//! client secret), a post with the version headers, an interruption that stops rather
//! than risks a second post, and the 60-day expiry asking for a reconnect.

use std::time::Duration;

use relay_client::secrets::SecretStore;
use relay_client::social::account_secret;
use relay_client::social::linkedin::LinkedInApi;
use relay_client::store::{AccountStatus, NewShare, ShareState};

use crate::harness::*;
use crate::linkedin_stub::LinkedInStub;
use crate::oidc::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linkedin_signs_in_through_the_server_and_posts() {
    let (stub, base) = LinkedInStub::start().await;
    let mut server = TestServer::start_with_linkedin(LinkedInStub::config(&base)).await;
    // The callback registered with LinkedIn is this server's own page (restarted with it).
    let callback = format!("{}/v1/oauth/callback", server.url());
    server.linkedin.as_mut().unwrap().redirect_url = Some(callback);
    server.down().await;
    server.up().await;
    let (engine, dir, secrets) = synced_device(&server).await;
    let engine = engine.with_linkedin(LinkedInApi {
        base: base.clone(),
        version: "202510".into(),
    });

    let browser = Browser::default();
    let account = engine
        .connect_linkedin(browser.opener(""), Duration::from_secs(20))
        .await
        .unwrap();
    browser.landed().await.unwrap();
    assert_eq!(account.handle, "Ann Lee");

    let share = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: newest_item(&engine),
            account_id: account.id.clone(),
            text: "Fière de l'équipe (vraiment) #Contoso".into(),
            scheduled_at: None,
        })
        .unwrap();
    assert_eq!(engine.dispatch().await.unwrap().posted, 1);
    let posts = stub.posts();
    assert_eq!(posts.len(), 1);
    let (headers, body) = &posts[0];
    assert_eq!(headers["linkedin-version"], "202510");
    assert_eq!(body["author"], "urn:li:person:782bbtaQ");
    // Little text: reserved characters escaped, the hashtag left a hashtag.
    assert_eq!(
        body["commentary"],
        "Fière de l'équipe \\(vraiment\\) #Contoso"
    );
    assert_eq!(body["visibility"], "PUBLIC");
    let posted = engine.store().share(&share.id).unwrap().unwrap();
    // The article is the person's tracked link, which leads to the item.
    let tracked = posted.link_url.as_deref().expect("the tracked link");
    assert!(
        tracked.starts_with(&format!("{}/l/", server.url())),
        "{tracked}"
    );
    assert_eq!(body["content"]["article"]["source"], tracked);
    assert_eq!(
        posted.post_id.as_deref(),
        Some("urn:li:share:7000000000000000000")
    );

    // Interrupted mid-send: LinkedIn cannot say whether it went out, so the share stops with
    // a reason and a Retry instead of risking a second post.
    let db = rusqlite::Connection::open(dir.path().join("relay.db")).unwrap();
    db.execute(
        "UPDATE outbox SET state = 'sending', post_id = NULL WHERE id = ?1",
        [&share.id],
    )
    .unwrap();
    engine.dispatch().await.unwrap();
    let stopped = engine.store().share(&share.id).unwrap().unwrap();
    assert_eq!(stopped.state, ShareState::Failed);
    assert!(stopped.reason.unwrap().contains("check your LinkedIn feed"));
    assert_eq!(stub.posts().len(), 1, "not posted twice");

    // Sixty days later the sign-in has expired: the account asks to be reconnected.
    let key = account_secret(&account.id);
    let mut secret: serde_json::Value =
        serde_json::from_str(&secrets.get(&key).unwrap().unwrap()).unwrap();
    secret["expires_at"] = serde_json::json!(chrono::Utc::now() - chrono::Duration::days(1));
    secrets.set(&key, &secret.to_string()).unwrap();
    let later = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: newest_item(&engine),
            account_id: account.id.clone(),
            text: "Encore".into(),
            scheduled_at: None,
        })
        .unwrap();
    assert_eq!(engine.dispatch().await.unwrap().waiting, 1);
    assert_eq!(
        engine.store().account(&account.id).unwrap().unwrap().status,
        AccountStatus::Reconnect
    );
    assert_eq!(
        engine.store().share(&later.id).unwrap().unwrap().state,
        ShareState::Queued
    );

    // The token is on the device's keychain only: not in its database, not in the server's.
    drop(db);
    let token = stub.tokens()[0].clone();
    for file in [
        dir.path().join("relay.db"),
        server.dir.path().join("server.db"),
        server.dir.path().join("server.db-wal"),
    ] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token is in {}",
            file.display()
        );
    }
}
