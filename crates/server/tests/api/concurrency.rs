//! Concurrent curators, one of them slow to commit, while devices sync page by page: no device
//! misses or duplicates a change.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use relay_protocol::*;
use relay_server::db::{now_ms, Backend};
use relay_server::sync::version::FeedTx;
use reqwest::Method;

use crate::harness::*;
use crate::replica::*;

crate::both_backends!(readers_never_miss_a_late_commit);

async fn readers_never_miss_a_late_commit(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let news = server.channel(&org, "news").await;
    let mut curators = Vec::new();
    for i in 0..4 {
        curators.push(
            server
                .person(
                    &org,
                    &format!("Curator {i}"),
                    Role::Curator,
                    "FR",
                    "fr",
                    "Comms",
                )
                .await,
        );
    }
    let mut readers = Vec::new();
    for i in 0..3 {
        readers.push(
            server
                .person(
                    &org,
                    &format!("Reader {i}"),
                    Role::Employee,
                    "FR",
                    "fr",
                    "Sales",
                )
                .await,
        );
    }
    // Items the slow writer will touch.
    let mut targets = Vec::new();
    for i in 0..3 {
        targets.push(
            curators[0]
                .publish(&article(&news, &format!("Target {i}")))
                .await
                .item
                .id,
        );
    }

    let writing = Arc::new(AtomicBool::new(true));
    let reader_tasks: Vec<_> = readers
        .iter()
        .cloned()
        .map(|reader| {
            let writing = writing.clone();
            tokio::spawn(async move {
                let mut replica = Replica::default();
                while writing.load(Ordering::SeqCst) {
                    replica.sync(&reader, 3).await;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                replica.sync(&reader, 3).await;
                replica
            })
        })
        .collect();

    for (round, target) in targets.iter().enumerate() {
        // The slow writer takes the next version, stamps an item, and sits on it uncommitted
        // while the other curators' writes pile up behind it and readers keep syncing.
        let state = server.state().clone();
        let org_id = org.id.clone();
        let target = target.clone();
        let slow = tokio::spawn(async move {
            let mut ftx = FeedTx::begin(&state.db, &org_id).await.unwrap();
            sqlx::query("UPDATE items SET title = $1, updated_at = $2, version = $3 WHERE id = $4")
                .bind(format!("Target {round} (slow edit)"))
                .bind(now_ms())
                .bind(ftx.version)
                .bind(&target)
                .execute(&mut *ftx.tx)
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(400)).await;
            ftx.commit(&state.events).await.unwrap()
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let fast: Vec<_> = curators
            .iter()
            .cloned()
            .enumerate()
            .map(|(c, curator)| {
                let news = news.clone();
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    for op in 0..4 {
                        let title = format!("R{round} C{c} #{op}");
                        let item = curator.publish(&article(&news, &title)).await;
                        mine.push(item.item.id.clone());
                        match op % 3 {
                            1 => {
                                let path = format!("/v1/content/{}", mine[0]);
                                let patch = ContentUpdate {
                                    summary: Some(format!("edited in op {op}")),
                                    ..Default::default()
                                };
                                curator
                                    .send_ok::<_, CuratedContent>(
                                        Method::PATCH,
                                        &path,
                                        Some(&patch),
                                    )
                                    .await;
                            }
                            2 => {
                                let path = format!("/v1/content/{}/retract", mine.remove(1));
                                curator
                                    .send_ok::<_, CuratedContent>(
                                        Method::POST,
                                        &path,
                                        Some(&RetractRequest::default()),
                                    )
                                    .await;
                            }
                            _ => {}
                        }
                    }
                })
            })
            .collect();
        for task in fast {
            task.await.unwrap();
        }
        slow.await.unwrap();
    }
    writing.store(false, Ordering::SeqCst);

    // The truth, straight from the database.
    let truth: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, version FROM items WHERE org_id = $1 AND live = 1 ORDER BY id")
            .bind(&org.id)
            .fetch_all(&server.db().read)
            .await
            .unwrap();
    assert!(truth.len() > 30, "the writers wrote: {}", truth.len());
    for (n, task) in reader_tasks.into_iter().enumerate() {
        let replica = task.await.unwrap();
        assert_eq!(replica.resets, 0, "reader {n} was told to reset");
        let mine: Vec<(String, i64)> = replica
            .items
            .values()
            .map(|i| (i.id.clone(), i.version))
            .collect();
        assert_eq!(
            mine, truth,
            "reader {n} ended up with exactly the live items, at their latest revision"
        );
        // Each change was delivered once, in feed order: nothing repeated, nothing out of order.
        let order: Vec<(i64, &str)> = replica
            .seen
            .iter()
            .map(|(id, v)| (*v, id.as_str()))
            .collect();
        let bad: Vec<_> = order.windows(2).filter(|w| w[0] >= w[1]).collect();
        assert!(
            bad.is_empty(),
            "reader {n} got a change twice or out of order: {bad:?}"
        );
        for round in 0..3 {
            let slow_title = format!("Target {round} (slow edit)");
            assert!(
                replica.titles().contains(&slow_title),
                "reader {n} missed the late commit of round {round}"
            );
        }
    }
}
