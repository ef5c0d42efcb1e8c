//! Bluesky on a real PDS (`@atproto/dev-env`): connecting with an app password, posts with
//! facets and a link card, no duplicate on a resend, an ended session waiting for a
//! reconnect, and a disconnect that revokes.

use relay_client::secrets::SecretStore;
use relay_client::social::account_secret;
use relay_client::store::{AccountStatus, NewShare, ShareState};
use serde_json::Value;

use crate::harness::*;
use crate::pds::{serve_png, Pds, RED_PNG};

const TEXT: &str =
    "Écoutez l'équipe 🎧 : https://news.contoso.example/fr/été?x=1. #Énergie 👩🏽‍💻 #Relay";

/// The text a facet points at.
fn faceted<'a>(text: &'a str, facet: &Value) -> &'a str {
    let start = facet["index"]["byteStart"].as_u64().unwrap() as usize;
    let end = facet["index"]["byteEnd"].as_u64().unwrap() as usize;
    text.get(start..end).expect("offsets on char boundaries")
}

/// The app died after a share's post went out but before it noted so. Found "sending", the
/// share is reconciled; queued again outright (its post went out unnoticed), its record key
/// collides. Either way it must not be posted again.
async fn resend_after_crashes(engine: &relay_client::Engine, db: &rusqlite::Connection, id: &str) {
    db.execute(
        "UPDATE outbox SET state = 'sending', post_id = NULL WHERE id = ?1",
        [id],
    )
    .unwrap();
    let report = engine.dispatch().await.unwrap();
    assert_eq!(report.reconciled, 1, "{report:?}");
    db.execute(
        "UPDATE outbox SET state = 'queued', post_id = NULL, next_attempt_at = NULL WHERE id = ?1",
        [id],
    )
    .unwrap();
    let report = engine.dispatch().await.unwrap();
    assert_eq!(report.posted, 1, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_to_a_real_pds_once_with_facets_and_a_link_card() {
    let Some(pds) = Pds::start() else { return };
    let server = TestServer::start_reading(&pds.plc).await;
    let (org, code) = server.demo().await;
    let picture = serve_png().await;
    let item_id = server
        .publish_with(&org, "L'énergie de demain", "<p>Corps</p>", |new| {
            new.summary = "Ce que l'équipe prépare".into();
            new.url = "https://news.contoso.example/fr/energie".into();
            new.language = "fr".into();
            new.image_url = Some(picture.clone());
        })
        .await;
    let (engine, dir, secrets) = engine();
    engine.enrol(&server.url(), &code, "laptop").await.unwrap();
    engine.sync(&mut |_| {}).await.unwrap();

    let ann = pds.create_account("ann.test", "main-password-1").await;
    let app_password = pds.app_password(&ann, "relay").await;

    // A wrong password is refused with words for the person, and nothing is kept.
    let err = engine
        .connect_bluesky(&pds.url, "ann.test", "wrong-password")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("did not accept"), "{err}");
    assert!(engine.store().accounts().unwrap().is_empty());

    let account = engine
        .connect_bluesky(&pds.url, "@ann.test", &app_password)
        .await
        .unwrap();
    assert_eq!(account.handle, "ann.test");
    assert_eq!(account.base_url.as_deref(), Some(pds.url.as_str()));
    assert_eq!(account.status, AccountStatus::Connected);

    let share = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: item_id.clone(),
            account_id: account.id.clone(),
            text: TEXT.into(),
            scheduled_at: None,
        })
        .unwrap();
    let report = engine.dispatch().await.unwrap();
    assert_eq!((report.posted, report.failed), (1, 0), "{report:?}");
    // This PDS has no AppView to give the follower count: the reach stays unknown, not guessed
    // (the count itself is tested against a stub of getProfile in the engine's unit tests).
    let followers = engine.store().share(&share.id).unwrap().unwrap().followers;
    assert_eq!(followers, None);

    let posts = pds.posts(&ann.did).await;
    assert_eq!(posts.len(), 1);
    let post = &posts[0]["value"];
    assert_eq!(post["text"], TEXT);
    assert_eq!(post["langs"], serde_json::json!(["fr"]));
    let facets = post["facets"].as_array().unwrap();
    let marked: Vec<(&str, &str)> = facets
        .iter()
        .map(|f| {
            let feature = &f["features"][0];
            let value = feature["uri"].as_str().or(feature["tag"].as_str()).unwrap();
            (faceted(TEXT, f), value)
        })
        .collect();
    assert_eq!(
        marked,
        vec![
            (
                "https://news.contoso.example/fr/été?x=1",
                "https://news.contoso.example/fr/été?x=1"
            ),
            ("#Énergie", "Énergie"),
            ("#Relay", "Relay"),
        ]
    );
    let external = &post["embed"]["external"];
    assert_eq!(post["embed"]["$type"], "app.bsky.embed.external");
    assert_eq!(external["title"], "L'énergie de demain");
    assert_eq!(external["description"], "Ce que l'équipe prépare");
    assert_eq!(external["thumb"]["mimeType"], "image/png");
    let cid = external["thumb"]["ref"]["$link"].as_str().unwrap();
    assert_eq!(pds.blob(&ann.did, cid).await, RED_PNG);

    let posted = engine.store().share(&share.id).unwrap().unwrap();
    assert_eq!(posted.state, ShareState::Posted);
    assert_eq!(posted.post_id.as_deref(), posts[0]["uri"].as_str());
    // The card links to the person's tracked link, which leads to the item.
    let tracked = posted.link_url.clone().expect("the tracked link");
    assert!(
        tracked.starts_with(&format!("{}/l/", server.url())),
        "{tracked}"
    );
    assert_eq!(external["uri"], tracked.as_str());
    // Recorded as verified, with the post's bsky.app address: pending until the server has read
    // the post on the PDS itself (its link card carries the person's link), then 10 points.
    assert_eq!(posted.points, Some(0));
    server.confirmed().await;
    let (status, points): (String, i64) =
        sqlx::query_as("SELECT status, points FROM shares WHERE share_id = $1")
            .bind(&share.id)
            .fetch_one(&server.state().db.read)
            .await
            .unwrap();
    assert_eq!((status.as_str(), points), ("confirmed", 10));
    assert_eq!(
        server.share_records().await.len(),
        1,
        "recorded on the server"
    );

    let db = rusqlite::Connection::open(dir.path().join("relay.db")).unwrap();
    resend_after_crashes(&engine, &db, &share.id).await;
    assert_eq!(pds.posts(&ann.did).await.len(), 1, "never posted twice");
    let again = engine.store().share(&share.id).unwrap().unwrap();
    assert_eq!(again.post_id, posted.post_id);

    // Another post already holds the next share's first record key (record keys are only
    // unlikely to collide, not certain not to): that share goes to its next key, and a resend
    // finds it there rather than posting again or taking the other post for its own.
    let next = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: item_id.clone(),
            account_id: account.id.clone(),
            text: "La suite #Relay".into(),
            scheduled_at: None,
        })
        .unwrap();
    let taken = relay_client::social::tid::for_share(&next.id, 0);
    pds.create_post(&ann, &taken, "Un autre message").await;
    let report = engine.dispatch().await.unwrap();
    assert_eq!((report.posted, report.failed), (1, 0), "{report:?}");
    let next_posted = engine.store().share(&next.id).unwrap().unwrap();
    let uri = next_posted.post_id.clone().unwrap();
    assert!(!uri.ends_with(&taken), "{uri}");
    assert_eq!(pds.posts(&ann.did).await.len(), 3);
    resend_after_crashes(&engine, &db, &next.id).await;
    assert_eq!(pds.posts(&ann.did).await.len(), 3, "never posted twice");
    let next_again = engine.store().share(&next.id).unwrap().unwrap();
    assert_eq!(next_again.post_id.as_deref(), Some(uri.as_str()));

    // Too long for Bluesky (301 graphemes): refused with the reason, no retry by itself.
    let long = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: item_id.clone(),
            account_id: account.id.clone(),
            text: "é".repeat(301),
            scheduled_at: None,
        })
        .unwrap();
    engine.dispatch().await.unwrap();
    let long = engine.store().share(&long.id).unwrap().unwrap();
    assert_eq!(long.state, ShareState::Failed);
    assert!(!long.retryable);
    assert!(long.reason.unwrap().contains("300"));

    // Secrets stay in the keychain: the database file has neither the app password nor the
    // session's tokens.
    let session: Value =
        serde_json::from_str(&secrets.get(&account_secret(&account.id)).unwrap().unwrap()).unwrap();
    let refresh = session["refresh_jwt"].as_str().unwrap().to_owned();
    drop(db);
    let file = std::fs::read(dir.path().join("relay.db")).unwrap();
    for secret in [
        app_password.as_str(),
        &refresh,
        session["access_jwt"].as_str().unwrap(),
    ] {
        assert!(
            !file.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "a secret is in the database file"
        );
    }

    // Disconnecting revokes the session at the PDS and forgets it here.
    engine.disconnect(&account.id).await.unwrap();
    assert!(
        !pds.refresh_works(&refresh).await,
        "the session was revoked"
    );
    assert!(secrets.get(&account_secret(&account.id)).unwrap().is_none());
    assert!(engine.store().accounts().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_session_waits_for_a_reconnect_then_posts() {
    let Some(pds) = Pds::start() else { return };
    let server = TestServer::start().await;
    let (engine, _dir, secrets) = synced_device(&server).await;
    let bob = pds.create_account("bob.test", "main-password-2").await;
    let password = pds.app_password(&bob, "relay").await;
    let account = engine
        .connect_bluesky(&pds.url, "bob.test", &password)
        .await
        .unwrap();

    // The session ends at Bluesky (revoked elsewhere; an expired access token with it).
    let key = account_secret(&account.id);
    let mut session: Value = serde_json::from_str(&secrets.get(&key).unwrap().unwrap()).unwrap();
    let refresh = session["refresh_jwt"].as_str().unwrap().to_owned();
    reqwest::Client::new()
        .post(format!("{}/xrpc/com.atproto.server.deleteSession", pds.url))
        .bearer_auth(&refresh)
        .send()
        .await
        .unwrap();
    session["access_jwt"] = "expired.eyJleHAiOjF9.x".into();
    secrets.set(&key, &session.to_string()).unwrap();

    let share = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: newest_item(&engine),
            account_id: account.id.clone(),
            text: "Bonjour #Relay".into(),
            scheduled_at: None,
        })
        .unwrap();
    let report = engine.dispatch().await.unwrap();
    assert_eq!((report.posted, report.waiting), (0, 1), "{report:?}");
    let account_now = engine.store().account(&account.id).unwrap().unwrap();
    assert_eq!(account_now.status, AccountStatus::Reconnect);
    let waiting = engine.store().share(&share.id).unwrap().unwrap();
    assert_eq!(waiting.state, ShareState::Queued, "waiting, not lost");
    assert!(waiting.reason.unwrap().contains("reconnect"));
    // Still waiting on the next round, without asking the network again.
    engine.dispatch().await.unwrap();
    assert!(pds.posts(&bob.did).await.is_empty());

    // The person reconnects: the same account, connected again, and the share goes.
    let again = engine
        .connect_bluesky(&pds.url, "bob.test", &password)
        .await
        .unwrap();
    assert_eq!(again.id, account.id);
    assert_eq!(again.status, AccountStatus::Connected);
    let report = engine.dispatch().await.unwrap();
    assert_eq!(report.posted, 1, "{report:?}");
    assert_eq!(pds.posts(&bob.did).await.len(), 1);
}
