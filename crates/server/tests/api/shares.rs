//! Share records are idempotent per (device, share id), and a post is recorded once.

use chrono::Utc;
use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::harness::*;

crate::both_backends!(a_repeated_share_record_is_the_same_record);

async fn a_repeated_share_record_is_the_same_record(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let news = server.channel(&org, "news").await;
    let curator = server
        .person(&org, "Cora Curator", Role::Curator, "FR", "fr", "Comms")
        .await;
    let laptop = server
        .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let phone = server.enrol(&org, &laptop.person().id).await;
    let first = curator.publish(&article(&news, "Shareable")).await;
    let second = curator.publish(&article(&news, "Also shareable")).await;

    let record = NewShareRecord {
        share_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        item_id: first.item.id.clone(),
        network: Network::Bluesky,
        shared_at: Utc::now(),
        post_url: Some("https://bsky.app/profile/eve.test/post/3k".into()),
        proof: ShareProof::Verified,
        post_id: Some("at://did:plc:eve/app.bsky.feed.post/3k".into()),
        account_host: None,
        link_code: None,
        followers: None,
    };
    let created = laptop.send(Method::POST, "/v1/shares", Some(&record)).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let created: ShareRecord = serde_json::from_value(created.body).unwrap();
    assert_eq!(created.person_id, laptop.person().id);
    assert_eq!(created.device_id, laptop.device_id());

    // The answer was lost; the device retries (even concurrently): still one record.
    let retries = futures::future::join_all(
        (0..5).map(|_| laptop.send(Method::POST, "/v1/shares", Some(&record))),
    )
    .await;
    for retry in retries {
        assert_eq!(retry.status, StatusCode::OK, "{retry:?}");
        let again: ShareRecord = serde_json::from_value(retry.body).unwrap();
        assert_eq!(again, created, "a repeat answers the very record");
    }
    // A first record sent several times at once (a retry racing the original): one is
    // created, every other answer is that same record.
    let raced = NewShareRecord {
        share_id: "raced-1".into(),
        post_id: Some("at://did:plc:eve/app.bsky.feed.post/3r".into()),
        post_url: None,
        ..record.clone()
    };
    let answers = futures::future::join_all(
        (0..6).map(|_| phone.send(Method::POST, "/v1/shares", Some(&raced))),
    )
    .await;
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::CREATED || *s == StatusCode::OK));
    let records: Vec<ShareRecord> = answers
        .into_iter()
        .map(|a| serde_json::from_value(a.body).unwrap())
        .collect();
    assert!(records.iter().all(|r| *r == records[0]), "{records:?}");
    // The same share id from another device is another share...
    let elsewhere = NewShareRecord {
        post_id: Some("at://did:plc:eve/app.bsky.feed.post/3p".into()),
        post_url: None,
        ..record.clone()
    };
    let other_device = phone
        .send(Method::POST, "/v1/shares", Some(&elsewhere))
        .await;
    assert_eq!(other_device.status, StatusCode::CREATED);
    // ... but a post counts once: not again under another share id, nor from another person.
    let twice = NewShareRecord {
        share_id: "twice-1".into(),
        ..record.clone()
    };
    let answer = laptop.send(Method::POST, "/v1/shares", Some(&twice)).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{answer:?}");
    let borrower = server
        .person(&org, "Bo Borrower", Role::Employee, "FR", "fr", "Sales")
        .await;
    let answer = borrower
        .send(Method::POST, "/v1/shares", Some(&record))
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{answer:?}");
    // Reusing a share id for a different item is a client bug, refused.
    let mut clash = record.clone();
    clash.item_id = second.item.id.clone();
    let clash = laptop.send(Method::POST, "/v1/shares", Some(&clash)).await;
    assert_eq!(clash.status, StatusCode::CONFLICT);

    let mine: Vec<ShareRecord> = laptop.get("/v1/shares").await;
    assert_eq!(mine.len(), 3);
    assert!(
        mine.contains(&created),
        "the list shows what the record answered"
    );
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shares")
        .fetch_one(&server.db().read)
        .await
        .unwrap();
    assert_eq!(count, 3);

    // A share made just before a retraction is still recorded when it arrives late.
    curator
        .send_ok::<_, CuratedContent>(
            Method::POST,
            &format!("/v1/content/{}/retract", second.item.id),
            Some(&RetractRequest::default()),
        )
        .await;
    let late = NewShareRecord {
        share_id: "late-1".into(),
        item_id: second.item.id.clone(),
        post_id: Some("at://did:plc:eve/app.bsky.feed.post/3l".into()),
        post_url: None,
        ..record.clone()
    };
    let answer = laptop.send(Method::POST, "/v1/shares", Some(&late)).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let answer: ShareRecord = serde_json::from_value(answer.body).unwrap();
    assert_eq!(answer.status, ShareStatus::Pending);
    // One made after it scores nothing, and the item gets no new tracked link.
    let after = NewShareRecord {
        share_id: "after-1".into(),
        item_id: second.item.id.clone(),
        network: Network::X,
        shared_at: Utc::now(),
        post_url: None,
        post_id: Some("1789".into()),
        ..record
    };
    let after: ShareRecord = laptop
        .send_ok(Method::POST, "/v1/shares", Some(&after))
        .await;
    assert_eq!(
        (after.status, after.points, after.unscored.as_deref()),
        (ShareStatus::Rejected, 0, Some("retracted"))
    );
    let link = laptop
        .send(
            Method::POST,
            "/v1/links",
            Some(&NewLink {
                item_id: second.item.id.clone(),
                network: Network::X,
            }),
        )
        .await;
    assert_eq!(link.status, StatusCode::CONFLICT, "{link:?}");
}
