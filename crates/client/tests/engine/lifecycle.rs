//! Enrol, first sync, incremental sync, retraction, reset and revocation, as a device lives them.

use std::sync::{Arc, Mutex};

use relay_client::notify::{Notification, Notifier};
use relay_client::store::{FeedQuery, NewShare, ShareState};
use relay_client::ClientError;
use relay_protocol::PersonUpdate;

use crate::harness::*;

#[derive(Default)]
struct Recorded(Mutex<Vec<Notification>>);

impl Notifier for Recorded {
    fn notify(&self, n: &Notification) {
        self.0.lock().unwrap().push(n.clone());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_follows_the_feed_through_its_life() {
    let server = TestServer::start().await;
    let (org, code) = server.demo().await;
    let (engine, _dir, _secrets) = engine();
    let notes = Arc::new(Recorded::default());
    let engine = engine.with_notifier(notes.clone());

    // Not enrolled yet: a clear error.
    assert!(matches!(
        engine.sync(&mut |_| {}).await,
        Err(ClientError::NotEnrolled)
    ));
    let bad = engine
        .enrol(&server.url(), "AAAA-BBBB-CCCC-DDDD", "laptop")
        .await;
    assert!(matches!(bad, Err(ClientError::Invalid(_))), "{bad:?}");

    let status = engine
        .enrol(&server.url(), &code, "Alex's laptop")
        .await
        .unwrap();
    assert_eq!(status.person.as_deref(), Some("Alex Martin"));
    assert!(status.signed_in);

    // First sync, with progress.
    let mut seen = Vec::new();
    let report = engine.sync(&mut |p| seen.push(p)).await.unwrap();
    assert!(report.first_sync);
    assert_eq!(report.upserted, 30);
    assert_eq!(engine.store().item_count().unwrap(), 30);
    let last = seen.last().unwrap();
    assert_eq!(Some(last.done), last.total, "progress ends full: {seen:?}");
    assert!(
        notes.0.lock().unwrap().is_empty(),
        "no notification for the first sync"
    );
    assert_eq!(engine.store().channels().unwrap().len(), 5);

    // Nothing new.
    let again = engine.sync(&mut |_| {}).await.unwrap();
    assert_eq!((again.upserted, again.deleted), (0, 0));

    // A curator approves one more: it arrives, searchable without its accents, announced once.
    let id = server
        .publish(
            &org,
            "Résumé des résultats annuels",
            "<p>Les <b>données</b> de l'année</p>",
        )
        .await;
    let report = engine.sync(&mut |_| {}).await.unwrap();
    assert_eq!(report.new_items, 1);
    let found = engine.store().search("resume resultats", 10).unwrap();
    assert_eq!(found.first().map(|f| f.item.id.as_str()), Some(id.as_str()));
    assert_eq!(
        engine.store().search("donnees", 10).unwrap().len(),
        1,
        "the body is indexed too"
    );
    {
        let notes = notes.0.lock().unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].item_id, id);
    }
    let newest = engine
        .store()
        .feed(&FeedQuery {
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(newest[0].item.id, id, "newest first");

    // A share of it is queued (its network unreachable), then the curators retract the item.
    // (Port 9, discard: nothing answers there.)
    let account = connect_account(&engine, "http://127.0.0.1:9", "secret-token");
    let share = engine
        .store()
        .enqueue(&NewShare {
            link: Default::default(),
            item_id: id.clone(),
            account_id: account,
            text: "Great year!".into(),
            scheduled_at: None,
        })
        .unwrap();
    let dispatched = engine.dispatch().await.unwrap();
    assert_eq!(dispatched.failed, 1);
    assert_eq!(
        engine.store().share(&share.id).unwrap().unwrap().state,
        ShareState::Failed
    );
    server.retract(&org, &id, "Figures under review").await;
    let report = engine.sync(&mut |_| {}).await.unwrap();
    assert_eq!((report.deleted, report.cancelled_shares), (1, 1));
    assert!(engine.store().item(&id).unwrap().is_none());
    let cancelled = engine.store().share(&share.id).unwrap().unwrap();
    assert_eq!(cancelled.state, ShareState::Cancelled);
    assert!(cancelled.reason.unwrap().contains("Figures under review"));

    // Alex moves department: the server answers reset; the cache is rebuilt, the outbox kept.
    let alex = server.person_id(&org, "alex.martin@contoso.example").await;
    relay_server::people::update(
        &server.state().db,
        &server.state().sessions,
        &org.id,
        None,
        &alex,
        PersonUpdate {
            department: Some("Sales".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let report = engine.sync(&mut |_| {}).await.unwrap();
    assert!(report.reset);
    assert_eq!(engine.store().item_count().unwrap(), 30);
    assert_eq!(engine.store().shares(None).unwrap().len(), 1);
    assert!(notes.0.lock().unwrap().len() == 1, "a reset is not news");

    // The device is revoked: it signs out cleanly, keeps the outbox, drops the content.
    let device = engine.status().unwrap().device_id.unwrap();
    assert!(
        relay_server::auth::store::revoke(server.state(), &org.id, &device, None, None)
            .await
            .unwrap()
    );
    let refused = engine.sync(&mut |_| {}).await;
    assert!(
        matches!(refused, Err(ClientError::SignedOut(_))),
        "{refused:?}"
    );
    let status = engine.status().unwrap();
    assert!(!status.signed_in);
    assert!(status.signed_out_reason.is_some());
    assert_eq!(status.items, 0);
    assert_eq!(
        engine.store().shares(None).unwrap().len(),
        1,
        "the outbox survives sign-out"
    );
    assert!(matches!(
        engine.sync(&mut |_| {}).await,
        Err(ClientError::NotEnrolled)
    ));
}
