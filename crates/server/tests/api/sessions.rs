//! Enrolment, token refresh and rotation, expiry, revocation and role checks.

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::harness::*;

crate::both_backends!(
    an_enrolment_code_works_once,
    refresh_rotates_tokens_and_a_replayed_refresh_token_signs_the_device_out,
    expired_access_tokens_are_refused_until_refreshed,
    revoked_and_deactivated_sessions_are_refused,
    roles_gate_every_endpoint,
);

async fn an_enrolment_code_works_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let admin = server
        .person(&org, "Ada Admin", Role::Admin, "FR", "fr", "IT")
        .await;
    let person: Person = admin
        .send_ok(
            Method::POST,
            "/v1/people",
            Some(&NewPerson {
                name: "Noé Nouveau".into(),
                email: "Noe@Acme.test".into(),
                country: "fr".into(),
                language: "FR".into(),
                department: "Sales".into(),
                role: Role::Employee,
            }),
        )
        .await;
    assert_eq!(
        (
            person.email.as_str(),
            person.country.as_str(),
            person.language.as_str()
        ),
        ("noe@acme.test", "FR", "fr")
    );
    let enrolment: Enrolment = admin
        .send_ok(
            Method::POST,
            &format!("/v1/people/{}/enrolments", person.id),
            Some(&NewEnrolment::default()),
        )
        .await;
    assert!(
        enrolment
            .link
            .starts_with("relay://enrol?server=http%3A%2F%2Frelay.test&code="),
        "{}",
        enrolment.link
    );

    // Typed sloppily: lower case, spaces instead of dashes.
    let typed = enrolment.code.to_lowercase().replace('-', " ");
    let request = EnrolRequest {
        code: typed,
        device_name: "Phone".into(),
        platform: "android".into(),
    };
    let first = server
        .anonymous()
        .send(Method::POST, "/v1/enrol", Some(&request))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    let second = server
        .anonymous()
        .send(Method::POST, "/v1/enrol", Some(&request))
        .await;
    assert_eq!(second.status, StatusCode::UNAUTHORIZED);
    assert_eq!(second.problem().code, "invalid_code");
    assert!(second.problem().detail.unwrap().contains("already used"));

    // The device appears in the person's list.
    let response: EnrolResponse = serde_json::from_value(first.body).unwrap();
    let mut device = server.anonymous();
    device.token = Some(response.session.access_token);
    let sessions: Vec<DeviceSession> = device.get("/v1/sessions").await;
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].current);
    assert_eq!(sessions[0].device_name, "Phone");
    let me: Me = device.get("/v1/me").await;
    assert_eq!(me.person.id, person.id);
    assert_eq!(me.org.slug, "acme");
}

async fn refresh_rotates_tokens_and_a_replayed_refresh_token_signs_the_device_out(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let mut device = server
        .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let old = device.session.clone().unwrap().session;
    // Used once, so the server has it cached.
    let _: Me = device.get("/v1/me").await;

    let fresh: SessionTokens = server
        .anonymous()
        .send_ok(
            Method::POST,
            "/v1/session/refresh",
            Some(&RefreshRequest {
                refresh_token: old.refresh_token.clone(),
            }),
        )
        .await;
    assert_ne!(fresh.access_token, old.access_token);
    assert_ne!(fresh.refresh_token, old.refresh_token);
    assert_eq!(fresh.device_id, old.device_id);

    // The old access token is gone, the new one works.
    let stale = device.send::<()>(Method::GET, "/v1/me", None).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    device.token = Some(fresh.access_token.clone());
    let _: Me = device.get("/v1/me").await;

    // Someone replays the rotated refresh token: the session ends, for both holders.
    let replay = server
        .anonymous()
        .send(
            Method::POST,
            "/v1/session/refresh",
            Some(&RefreshRequest {
                refresh_token: old.refresh_token,
            }),
        )
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.problem().code, "session_revoked");
    let after = device.send::<()>(Method::GET, "/v1/me", None).await;
    assert_eq!(after.problem().code, "session_revoked");
    let refresh_again = server
        .anonymous()
        .send(
            Method::POST,
            "/v1/session/refresh",
            Some(&RefreshRequest {
                refresh_token: fresh.refresh_token,
            }),
        )
        .await;
    assert_eq!(refresh_again.problem().code, "session_revoked");
}

async fn expired_access_tokens_are_refused_until_refreshed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start_with(
        &db,
        Options {
            access_ttl: chrono::Duration::seconds(1),
            ..Options::default()
        },
    )
    .await;
    let org = server.org("acme").await;
    let mut device = server
        .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let _: Me = device.get("/v1/me").await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let expired = device.send::<()>(Method::GET, "/v1/sync", None).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.problem().code, "token_expired");
    let refresh_token = device
        .session
        .as_ref()
        .unwrap()
        .session
        .refresh_token
        .clone();
    let fresh: SessionTokens = device
        .send_ok(
            Method::POST,
            "/v1/session/refresh",
            Some(&RefreshRequest { refresh_token }),
        )
        .await;
    device.token = Some(fresh.access_token);
    let _: SyncPage = device.get("/v1/sync").await;
}

async fn revoked_and_deactivated_sessions_are_refused(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let admin = server
        .person(&org, "Ada Admin", Role::Admin, "FR", "fr", "IT")
        .await;
    let laptop = server
        .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let phone = server.enrol(&org, &laptop.person().id).await;
    let other = server
        .person(&org, "Oscar Other", Role::Employee, "FR", "fr", "Sales")
        .await;

    // Every device has been seen (the server remembers sessions it has checked).
    for device in [&laptop, &phone, &other] {
        let _: Me = device.get("/v1/me").await;
    }

    // People cannot revoke someone else's device...
    let denied = other
        .send::<()>(
            Method::DELETE,
            &format!("/v1/sessions/{}", laptop.device_id()),
            None,
        )
        .await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND);
    // ...but can revoke their own, from another device.
    let revoked = phone
        .send::<()>(
            Method::DELETE,
            &format!("/v1/sessions/{}", laptop.device_id()),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let refused = laptop.send::<()>(Method::GET, "/v1/sync", None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.problem().code, "session_revoked");
    let refresh_token = laptop
        .session
        .as_ref()
        .unwrap()
        .session
        .refresh_token
        .clone();
    let no_refresh = server
        .anonymous()
        .send(
            Method::POST,
            "/v1/session/refresh",
            Some(&RefreshRequest { refresh_token }),
        )
        .await;
    assert_eq!(no_refresh.problem().code, "session_revoked");
    let sessions: Vec<DeviceSession> = phone.get("/v1/sessions").await;
    assert_eq!(
        sessions.iter().filter(|s| s.revoked_at.is_some()).count(),
        1
    );

    // Deactivating a person signs out every device of theirs.
    admin
        .send_ok::<_, Person>(
            Method::PATCH,
            &format!("/v1/people/{}", laptop.person().id),
            Some(&PersonUpdate {
                active: Some(false),
                ..Default::default()
            }),
        )
        .await;
    let refused = phone.send::<()>(Method::GET, "/v1/me", None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let _: Me = other.get("/v1/me").await;

    // An admin may revoke anyone's device in the organisation; the audit log says who.
    let revoked = admin
        .send::<()>(
            Method::DELETE,
            &format!("/v1/sessions/{}", other.device_id()),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let audit: Vec<AuditEntry> = admin
        .get(&format!("/v1/audit?subject_id={}", other.device_id()))
        .await;
    assert!(audit.iter().any(|a| a.action == "session.revoke"
        && a.actor_id.as_deref() == Some(admin.person().id.as_str())));
}

async fn roles_gate_every_endpoint(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let news = server.channel(&org, "news").await;
    let admin = server
        .person(&org, "Ada Admin", Role::Admin, "FR", "fr", "IT")
        .await;
    let curator = server
        .person(&org, "Cora Curator", Role::Curator, "FR", "fr", "Comms")
        .await;
    let employee = server
        .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let draft = curator.create_content(&article(&news, "Draft")).await;
    let id = draft.item.id.clone();
    let person_id = employee.person().id.clone();
    let new_person =
        serde_json::json!({"name": "X", "email": "x@acme.test", "country": "FR", "language": "fr"});
    let new_item = serde_json::to_value(article(&news, "Another")).unwrap();

    // (method, path, body, lowest role allowed)
    let table: Vec<(Method, String, Option<serde_json::Value>, Role)> = vec![
        (Method::GET, "/v1/sync".into(), None, Role::Employee),
        (Method::GET, "/v1/channels".into(), None, Role::Employee),
        (Method::GET, "/v1/shares".into(), None, Role::Employee),
        (Method::GET, "/v1/content".into(), None, Role::Curator),
        (
            Method::POST,
            "/v1/content".into(),
            Some(new_item),
            Role::Curator,
        ),
        (
            Method::GET,
            format!("/v1/content/{id}"),
            None,
            Role::Curator,
        ),
        (
            Method::PATCH,
            format!("/v1/content/{id}"),
            Some(serde_json::json!({"summary": "s"})),
            Role::Curator,
        ),
        (
            Method::POST,
            "/v1/channels".into(),
            Some(serde_json::json!({"slug": "x", "names": {"en": "X"}})),
            Role::Curator,
        ),
        (Method::GET, "/v1/audit".into(), None, Role::Curator),
        (Method::GET, "/v1/people".into(), None, Role::Admin),
        (
            Method::POST,
            "/v1/people".into(),
            Some(new_person),
            Role::Admin,
        ),
        (
            Method::PATCH,
            format!("/v1/people/{person_id}"),
            Some(serde_json::json!({"department": "Sales"})),
            Role::Admin,
        ),
        (
            Method::POST,
            format!("/v1/people/{person_id}/enrolments"),
            Some(serde_json::json!({})),
            Role::Admin,
        ),
        (
            Method::GET,
            "/v1/sessions?all=true".into(),
            None,
            Role::Admin,
        ),
    ];
    for (method, path, body, needed) in table {
        for (client, role) in [
            (&employee, Role::Employee),
            (&curator, Role::Curator),
            (&admin, Role::Admin),
        ] {
            // Unique names per attempt, so that a second success is not a conflict.
            let body = body.clone().map(|mut b| {
                if let Some(slug) = b.get("slug").and_then(|v| v.as_str()).map(str::to_owned) {
                    b["slug"] = format!("{slug}-{role}").into();
                }
                if b.get("email").is_some() {
                    b["email"] = format!("{role}@acme.test").into();
                }
                b
            });
            let answer = client.send(method.clone(), &path, body.as_ref()).await;
            if role.includes(needed) {
                assert!(
                    answer.status.is_success(),
                    "{role} {method} {path}: {answer:?}"
                );
            } else {
                assert_eq!(
                    answer.status,
                    StatusCode::FORBIDDEN,
                    "{role} {method} {path}: {answer:?}"
                );
                assert_eq!(answer.problem().code, "forbidden");
            }
        }
        // And nobody without a session.
        let answer = server
            .anonymous()
            .send(method.clone(), &path, body.as_ref())
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {path}"
        );
    }
    // Approval last (it changes state): employees cannot, curators can.
    let denied = employee
        .send::<()>(Method::POST, &format!("/v1/content/{id}/approve"), None)
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    curator.approve(&id).await;
}
