//! Enrolment, token refresh and rotation, expiry, revocation and role checks.

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::harness::*;

crate::both_backends!(
    an_enrolment_code_works_once,
    refresh_rotates_tokens_and_a_replayed_refresh_token_signs_the_device_out,
    every_rotated_refresh_token_is_recognised_and_its_reuse_revokes,
    concurrent_refreshes_of_one_token_get_one_pair,
    a_reuse_after_the_grace_window_revokes,
    enrolment_and_refresh_attempts_are_limited,
    the_company_providers_discovery_is_cached_as_it_allows,
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

    // The same token again at once (another process of the device, or a lost answer): the
    // same pair, and the session lives on.
    let again = refresh_with(&server, &old.refresh_token).await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    let again: SessionTokens = serde_json::from_value(again.body).unwrap();
    assert_eq!(again, fresh);
    let _: Me = device.get("/v1/me").await;

    // Once the device has moved on, the old token is a thief's copy: the session ends, for
    // both holders.
    let newer: SessionTokens =
        serde_json::from_value(refresh_with(&server, &fresh.refresh_token).await.body).unwrap();
    device.token = Some(newer.access_token.clone());
    let _: Me = device.get("/v1/me").await;
    let replay = refresh_with(&server, &old.refresh_token).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.problem().code, "session_revoked");
    let after = device.send::<()>(Method::GET, "/v1/me", None).await;
    assert_eq!(after.problem().code, "session_revoked");
    let refresh_again = refresh_with(&server, &newer.refresh_token).await;
    assert_eq!(refresh_again.problem().code, "session_revoked");
}

async fn refresh_with(server: &Server, refresh_token: &str) -> Answer {
    server
        .anonymous()
        .send(
            Method::POST,
            "/v1/session/refresh",
            Some(&RefreshRequest {
                refresh_token: refresh_token.to_owned(),
            }),
        )
        .await
}

/// Rotates the session `n` times; answers every refresh token it was issued, oldest first.
async fn rotate(server: &Server, first: &str, n: usize) -> Vec<SessionTokens> {
    let mut issued: Vec<SessionTokens> = Vec::new();
    let mut current = first.to_owned();
    for _ in 0..n {
        let answer = refresh_with(server, &current).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        let tokens: SessionTokens = serde_json::from_value(answer.body).unwrap();
        current = tokens.refresh_token.clone();
        issued.push(tokens);
    }
    issued
}

async fn every_rotated_refresh_token_is_recognised_and_its_reuse_revokes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    for generations_back in [2, 3, 6] {
        let mut device = server
            .person(
                &org,
                &format!("Eve Employee{generations_back}"),
                Role::Employee,
                "FR",
                "fr",
                "Sales",
            )
            .await;
        let first = device.session.clone().unwrap().session;
        let issued = rotate(&server, &first.refresh_token, 6).await;
        let current = issued.last().unwrap();
        device.token = Some(current.access_token.clone());
        let _: Me = device.get("/v1/me").await;

        // A token rotated out several rotations ago: not "unknown", but this session's.
        let stolen = if generations_back == 6 {
            first.refresh_token.clone()
        } else {
            issued[issued.len() - 1 - generations_back]
                .refresh_token
                .clone()
        };
        let replay = refresh_with(&server, &stolen).await;
        assert_eq!(
            replay.problem().code,
            "session_revoked",
            "{generations_back} generations back: {replay:?}"
        );
        let after = device.send::<()>(Method::GET, "/v1/me", None).await;
        assert_eq!(after.problem().code, "session_revoked");
        let current_refresh = refresh_with(&server, &current.refresh_token).await;
        assert_eq!(current_refresh.problem().code, "session_revoked");
    }

    // A made-up token that names a real family but was never issued is still refused, and
    // a made-up family is unknown.
    let device = server
        .person(&org, "Fred Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let real = device.session.clone().unwrap().session.refresh_token;
    let unknown = refresh_with(&server, "rlr_AAAAAAAAAAAAAAAAAAAAAA.forged").await;
    assert_eq!(unknown.problem().code, "invalid_token");
    let ok = refresh_with(&server, &real).await;
    assert_eq!(ok.status, StatusCode::OK);
}

async fn concurrent_refreshes_of_one_token_get_one_pair(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let mut device = server
        .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let old = device.session.clone().unwrap().session;
    // The tray app and the command line, and a few more, at the same moment.
    let answers =
        futures::future::join_all((0..8).map(|_| refresh_with(&server, &old.refresh_token))).await;
    let pairs: Vec<SessionTokens> = answers
        .into_iter()
        .map(|a| {
            assert_eq!(a.status, StatusCode::OK, "{a:?}");
            serde_json::from_value(a.body).unwrap()
        })
        .collect();
    assert!(pairs.iter().all(|p| p == &pairs[0]), "{pairs:?}");
    device.token = Some(pairs[0].access_token.clone());
    let _: Me = device.get("/v1/me").await;
    // The pair they share goes on rotating normally.
    let next = rotate(&server, &pairs[0].refresh_token, 1).await;
    device.token = Some(next[0].access_token.clone());
    let _: Me = device.get("/v1/me").await;
}

async fn a_reuse_after_the_grace_window_revokes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start_with(
        &db,
        Options {
            refresh_grace: chrono::Duration::milliseconds(300),
            ..Options::default()
        },
    )
    .await;
    let org = server.org("acme").await;
    let mut device = server
        .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let old = device.session.clone().unwrap().session;
    let fresh = rotate(&server, &old.refresh_token, 1).await.remove(0);
    device.token = Some(fresh.access_token.clone());
    let _: Me = device.get("/v1/me").await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let late = refresh_with(&server, &old.refresh_token).await;
    assert_eq!(late.problem().code, "session_revoked");
    let after = device.send::<()>(Method::GET, "/v1/me", None).await;
    assert_eq!(after.problem().code, "session_revoked");
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

async fn enrolment_and_refresh_attempts_are_limited(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start_with(
        &db,
        Options {
            attempts: relay_server::auth::AttemptQuota {
                per_address: 10,
                per_org: 1_000,
            },
            ..Options::default()
        },
    )
    .await;
    let org = server.org("acme").await;
    let admin = server
        .person(&org, "Ada Admin", Role::Admin, "FR", "fr", "IT")
        .await;
    let real = server.enrolment(&org, admin.person().id.as_str()).await;

    // 40 guesses at once, each of the right shape: 9 are answered (the admin's own enrolment
    // took the tenth), the rest wait.
    let guesses = (0..40).map(|n| EnrolRequest {
        code: format!("{n:0>4}-AAAA-BBBB-CCCC"),
        device_name: "guesser".into(),
        platform: "linux".into(),
    });
    let anonymous = server.anonymous();
    let answers = futures::future::join_all(guesses.map(|g| {
        let anonymous = &anonymous;
        async move { anonymous.send(Method::POST, "/v1/enrol", Some(&g)).await }
    }))
    .await;
    let refused = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    let limited: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!((refused, limited.len()), (9, 31), "{answers:?}");
    assert_eq!(limited[0].problem().code, "too_many_requests");
    let retry_after: u64 = limited[0]
        .retry_after
        .as_deref()
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");

    // The real code waits its turn too (the address is over its allowance), and still works
    // once the allowance comes back: nothing was spent.
    let request = EnrolRequest {
        code: real.code.clone(),
        device_name: "laptop".into(),
        platform: "linux".into(),
    };
    let early = anonymous
        .send(Method::POST, "/v1/enrol", Some(&request))
        .await;
    assert_eq!(early.status, StatusCode::TOO_MANY_REQUESTS);
    let refresh = anonymous
        .send(
            Method::POST,
            "/v1/session/refresh",
            Some(&RefreshRequest {
                refresh_token: "rlr_AAAAAAAAAAAAAAAAAAAAAA.guess".into(),
            }),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    let later = anonymous
        .send(Method::POST, "/v1/enrol", Some(&request))
        .await;
    assert_eq!(later.status, StatusCode::OK, "{later:?}");
}

/// A stand-in for the company's identity provider's discovery document (a stub: the real
/// provider, oidc-provider, is exercised end to end by the engine's company sign-in tests),
/// counting how often it is asked.
async fn discovery_stub(
    cache_control: &'static str,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let asked = std::sync::Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let app = {
        let asked = asked.clone();
        let issuer = issuer.clone();
        axum::Router::new().route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || {
                let asked = asked.clone();
                let issuer = issuer.clone();
                async move {
                    asked.fetch_add(1, Ordering::SeqCst);
                    (
                        [("cache-control", cache_control)],
                        axum::Json(serde_json::json!({
                            "issuer": issuer,
                            "authorization_endpoint": format!("{issuer}/auth"),
                            "token_endpoint": format!("{issuer}/token"),
                            "jwks_uri": format!("{issuer}/jwks"),
                        })),
                    )
                }
            }),
        )
    };
    tokio::spawn(async move { axum::serve(listener, app).await });
    (issuer, asked)
}

async fn the_company_providers_discovery_is_cached_as_it_allows(backend: Backend) {
    use std::sync::atomic::Ordering;
    for (cache_control, expected) in [("public, max-age=300", 1), ("no-store", 5)] {
        let (issuer, asked) = discovery_stub(cache_control).await;
        let db = TestDb::new(backend).await;
        let server = Server::start_with(
            &db,
            Options {
                oidc: Some(relay_server::auth::oidc::OidcConfig {
                    issuer: issuer.clone(),
                    client_id: "relay".into(),
                    org_slug: "acme".into(),
                    create_people: false,
                    console_client_id: None,
                    default_country: "FR".into(),
                    default_language: "fr".into(),
                }),
                ..Options::default()
            },
        )
        .await;
        for _ in 0..5 {
            let provider: OidcProvider = server.anonymous().get("/v1/auth/oidc").await;
            assert_eq!(provider.authorization_endpoint, format!("{issuer}/auth"));
        }
        assert_eq!(
            asked.load(Ordering::SeqCst),
            expected,
            "discovery fetches with Cache-Control: {cache_control}"
        );
    }
}
