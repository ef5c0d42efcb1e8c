//! Tenant isolation: a person of one organisation never reaches another's anything, whatever
//! identifier they guess.

use chrono::Utc;
use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::harness::*;
use crate::replica::*;

crate::both_backends!(organisations_are_sealed_from_each_other);

async fn organisations_are_sealed_from_each_other(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let a = server.org("alpha").await;
    let b = server.org("bravo").await;
    let a_news = server.channel(&a, "news").await;
    let b_news = server.channel(&b, "news").await;
    let a_admin = server
        .person(&a, "Ann Alpha", Role::Admin, "FR", "fr", "IT")
        .await;
    let b_admin = server
        .person(&b, "Bob Bravo", Role::Admin, "FR", "fr", "IT")
        .await;
    let b_employee = server
        .person(&b, "Bea Bravo", Role::Employee, "FR", "fr", "Sales")
        .await;

    let b_live = b_admin
        .publish(&article(&b_news, "Bravo secret plan"))
        .await;
    let b_draft = b_admin
        .create_content(&article(&b_news, "Bravo draft"))
        .await;
    a_admin.publish(&article(&a_news, "Alpha news")).await;
    let b_before = fingerprint(server.db()).await;

    // Everything that names one of B's objects answers "not found" to A (never "forbidden",
    // which would confirm the id exists).
    let b_item = &b_live.item.id;
    let b_person = &b_employee.person().id;
    let probes: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, format!("/v1/content/{b_item}"), None),
        (
            Method::GET,
            format!("/v1/content/{}", b_draft.item.id),
            None,
        ),
        (
            Method::PATCH,
            format!("/v1/content/{b_item}"),
            Some(serde_json::json!({"title": "pwned"})),
        ),
        (
            Method::POST,
            format!("/v1/content/{}/approve", b_draft.item.id),
            None,
        ),
        (
            Method::POST,
            format!("/v1/content/{b_item}/retract"),
            Some(serde_json::json!({"reason": "x"})),
        ),
        (Method::GET, format!("/v1/people/{b_person}"), None),
        (
            Method::PATCH,
            format!("/v1/people/{b_person}"),
            Some(serde_json::json!({"role": "admin"})),
        ),
        (
            Method::POST,
            format!("/v1/people/{b_person}/enrolments"),
            Some(serde_json::json!({})),
        ),
        (
            Method::DELETE,
            format!("/v1/sessions/{}", b_employee.device_id()),
            None,
        ),
    ];
    for (method, path, body) in probes {
        let answer = a_admin.send(method.clone(), &path, body.as_ref()).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {answer:?}"
        );
    }
    // Filing content under B's channel, or recording a share of B's item, is refused.
    let foreign_channel = a_admin
        .send(
            Method::POST,
            "/v1/content",
            Some(&article(&b_news, "Sneaky")),
        )
        .await;
    assert_eq!(foreign_channel.status, StatusCode::BAD_REQUEST);
    let share = NewShareRecord {
        share_id: "s-1".into(),
        item_id: b_item.clone(),
        network: Network::Linkedin,
        shared_at: Utc::now(),
        post_url: None,
        proof: ShareProof::Declared,
        post_id: None,
        account_host: None,
        link_code: None,
        followers: None,
    };
    let foreign_share = a_admin.send(Method::POST, "/v1/shares", Some(&share)).await;
    assert_eq!(foreign_share.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        fingerprint(server.db()).await,
        b_before,
        "A's probes changed nothing"
    );

    // Lists and the feed show only A's own.
    let mut replica = Replica::default();
    replica.sync(&a_admin, 100).await;
    assert_eq!(replica.titles(), vec!["Alpha news"]);
    let content: Vec<CuratedContent> = a_admin.get("/v1/content").await;
    assert_eq!(content.len(), 1);
    let people: Vec<Person> = a_admin.get("/v1/people").await;
    assert_eq!(people.len(), 1);
    let sessions: Vec<DeviceSession> = a_admin.get("/v1/sessions?all=true").await;
    assert!(sessions.iter().all(|s| s.person_id == a_admin.person().id));
    let channels: Vec<Channel> = a_admin.get("/v1/channels").await;
    assert_eq!(
        channels.iter().map(|c| &c.id).collect::<Vec<_>>(),
        vec![&a_news.id]
    );
    let audit: Vec<AuditEntry> = a_admin.get("/v1/audit?limit=1000").await;
    assert!(!audit
        .iter()
        .any(|e| e.subject_id == *b_item || e.subject_id == *b_person));

    // A cursor made in B is useless in A: it resets to A's own feed, never B's.
    let mut b_replica = Replica::default();
    b_replica.sync(&b_employee, 100).await;
    let page = a_admin.sync_page(b_replica.cursor.as_deref(), 100).await;
    let titles: Vec<String> = page
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Upsert { item } => Some(item.title.clone()),
            _ => None,
        })
        .collect();
    assert!(!titles.iter().any(|t| t.starts_with("Bravo")), "{titles:?}");
}
