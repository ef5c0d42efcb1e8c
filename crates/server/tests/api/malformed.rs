//! Bad input gets a clear problem response and changes nothing.

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::harness::*;
use crate::replica::*;

#[tokio::test]
async fn the_openapi_document_describes_the_wire() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = Server::start(&db).await;
    let doc: serde_json::Value = server.anonymous().get("/v1/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    let values = |name: &str| -> Vec<String> {
        schemas[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {}", schemas[name]))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(values("Role"), ["employee", "curator", "admin"]);
    for network in Network::ALL {
        assert!(values("Network").contains(&network.as_str().to_owned()));
    }
    for state in ContentState::ALL {
        assert!(values("ContentState").contains(&state.as_str().to_owned()));
    }
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            for param in operation["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    param["in"],
                    if in_path { "path" } else { "query" },
                    "{method} {path} {name}"
                );
                if in_path {
                    assert_eq!(param["required"], true, "{method} {path} {name}");
                }
            }
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key("default"), "{method} {path}");
            for (status, response) in responses {
                if !status.starts_with('2') && !status.starts_with('3') {
                    let content = response["content"].as_object().unwrap();
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(operations > 20, "{operations}");
    // The live stream is an event stream, as it is served.
    let stream = doc["paths"]["/v1/events"]["get"]["responses"]["200"]["content"]
        .as_object()
        .unwrap();
    assert_eq!(
        stream.keys().collect::<Vec<_>>(),
        ["text/event-stream"],
        "{stream:?}"
    );
}

crate::both_backends!(
    malformed_requests_get_problems_and_change_nothing,
    the_api_contract_holds_for_arrays_nul_limits_and_roles,
);

async fn malformed_requests_get_problems_and_change_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let other = server.org("other").await;
    let news = server.channel(&org, "news").await;
    let foreign = server.channel(&other, "news").await;
    let curator = server
        .person(&org, "Cora Curator", Role::Admin, "FR", "fr", "Comms")
        .await;
    let item = curator.publish(&article(&news, "Existing")).await;
    let id = item.item.id.clone();
    let valid = serde_json::to_value(article(&news, "Valid")).unwrap();
    let with = |key: &str, value: serde_json::Value| {
        let mut v = valid.clone();
        v[key] = value;
        v
    };
    let share = |key: &str, value: serde_json::Value| {
        let mut v = serde_json::json!({
            "share_id": "abc-1", "item_id": id, "network": "linkedin", "shared_at": chrono::Utc::now()
        });
        v[key] = value;
        v
    };
    let huge = "x".repeat(600 * 1024);
    let before = fingerprint(server.db()).await;

    // (what, method, path, content type, body, expected status, expected code)
    type Case<'a> = (
        &'a str,
        Method,
        String,
        &'a str,
        Vec<u8>,
        StatusCode,
        &'a str,
    );
    let json = "application/json";
    let cases: Vec<Case> = vec![
        (
            "not JSON",
            Method::POST,
            "/v1/content".into(),
            json,
            b"{title: oops".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "wrong media type",
            Method::POST,
            "/v1/content".into(),
            "text/plain",
            valid.to_string().into_bytes(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "oversized body",
            Method::POST,
            "/v1/content".into(),
            json,
            with("body_html", huge.into()).to_string().into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "unknown field",
            Method::POST,
            "/v1/content".into(),
            json,
            with("colour", "red".into()).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "missing field",
            Method::POST,
            "/v1/content".into(),
            json,
            br#"{"title":"t"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "unknown kind",
            Method::POST,
            "/v1/content".into(),
            json,
            with("kind", "hologram".into()).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "javascript url",
            Method::POST,
            "/v1/content".into(),
            json,
            with("url", "javascript:alert(1)".into())
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "data image",
            Method::POST,
            "/v1/content".into(),
            json,
            with(
                "image_url",
                "data:image/svg+xml,<svg onload=alert(1)>".into(),
            )
            .to_string()
            .into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "empty title",
            Method::POST,
            "/v1/content".into(),
            json,
            with("title", "   ".into()).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "control characters",
            Method::POST,
            "/v1/content".into(),
            json,
            with("title", "a\u{0007}b".into()).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "bad language",
            Method::POST,
            "/v1/content".into(),
            json,
            with("language", "english".into()).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "bad audience country",
            Method::POST,
            "/v1/content".into(),
            json,
            with("audience", serde_json::json!({"countries": ["FRA"]}))
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "expiry before publish",
            Method::POST,
            "/v1/content".into(),
            json,
            with("publish_at", "2030-01-02T00:00:00Z".into())
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("expires_at".into(), "2030-01-01T00:00:00Z".into());
                    serde_json::Value::Object(o)
                })
                .unwrap()
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "other org's channel",
            Method::POST,
            "/v1/content".into(),
            json,
            with("channel_id", foreign.id.clone().into())
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "edit of unknown item",
            Method::PATCH,
            "/v1/content/0000-nope".into(),
            json,
            br#"{"title":"x"}"#.to_vec(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "edit with bad url",
            Method::PATCH,
            format!("/v1/content/{id}"),
            json,
            br#"{"url":"ftp://x.example"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "edit with wrong type",
            Method::PATCH,
            format!("/v1/content/{id}"),
            json,
            br#"{"title":42}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "approve unknown",
            Method::POST,
            "/v1/content/nope/approve".into(),
            json,
            vec![],
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "malformed cursor",
            Method::GET,
            "/v1/sync?cursor=2024-01-01T00:00:00Z".into(),
            json,
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "zero limit",
            Method::GET,
            "/v1/sync?limit=0".into(),
            json,
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "huge limit",
            Method::GET,
            "/v1/sync?limit=100000".into(),
            json,
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "non-numeric limit",
            Method::GET,
            "/v1/sync?limit=many".into(),
            json,
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "unknown query parameter",
            Method::GET,
            "/v1/sync?since=yesterday".into(),
            json,
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "share of unknown item",
            Method::POST,
            "/v1/shares".into(),
            json,
            share("item_id", "nope".into()).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "share id with spaces",
            Method::POST,
            "/v1/shares".into(),
            json,
            share("share_id", "a b".into()).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "share in the future",
            Method::POST,
            "/v1/shares".into(),
            json,
            share("shared_at", "2099-01-01T00:00:00Z".into())
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "share to unknown network",
            Method::POST,
            "/v1/shares".into(),
            json,
            share("network", "myspace".into()).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "share with script url",
            Method::POST,
            "/v1/shares".into(),
            json,
            share("post_url", "javascript:x".into())
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "person with bad email",
            Method::POST,
            "/v1/people".into(),
            json,
            br#"{"name":"N","email":"not-an-email","country":"FR","language":"fr"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "person with unknown role",
            Method::POST,
            "/v1/people".into(),
            json,
            br#"{"name":"N","email":"n@x.example","country":"FR","language":"fr","role":"god"}"#
                .to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "enrolment valid too long",
            Method::POST,
            format!("/v1/people/{}/enrolments", curator.person().id),
            json,
            br#"{"valid_hours":100000}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "channel with bad slug",
            Method::POST,
            "/v1/channels".into(),
            json,
            br#"{"slug":"a b/c","names":{"en":"X"}}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "unknown route",
            Method::GET,
            "/v1/nothing-here".into(),
            json,
            vec![],
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "wrong method",
            Method::PUT,
            "/v1/sync".into(),
            json,
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (what, method, path, content_type, body, status, code) in cases {
        let answer = curator.send_raw(method, &path, content_type, body).await;
        assert_eq!(answer.status, status, "{what}: {answer:?}");
        let problem = answer.problem();
        assert_eq!(problem.code, code, "{what}");
        assert_eq!(problem.status, status.as_u16(), "{what}");
        assert!(
            problem.detail.as_deref().is_some_and(|d| !d.is_empty()),
            "{what}: a problem explains itself"
        );
    }

    // Unauthenticated and badly authenticated requests.
    let anonymous = server.anonymous();
    let bad_enrol = anonymous
        .send(
            Method::POST,
            "/v1/enrol",
            Some(&EnrolRequest {
                code: "AAAA-BBBB-CCCC-DDDD".into(),
                device_name: "x".into(),
                platform: "linux".into(),
            }),
        )
        .await;
    assert_eq!(
        (bad_enrol.status, bad_enrol.problem().code.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_code")
    );
    let bad_refresh = anonymous
        .send(
            Method::POST,
            "/v1/session/refresh",
            Some(&RefreshRequest {
                refresh_token: "rlr_garbage".into(),
            }),
        )
        .await;
    assert_eq!(
        (bad_refresh.status, bad_refresh.problem().code.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    let no_auth = anonymous.send::<()>(Method::GET, "/v1/sync", None).await;
    assert_eq!(no_auth.problem().code, "missing_token");
    let basic = server
        .http
        .get(format!("{}/v1/sync", server.base))
        .basic_auth("u", Some("p"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    let mut forged = server.anonymous();
    forged.token = Some("rla_forged".into());
    assert_eq!(
        forged
            .send::<()>(Method::GET, "/v1/sync", None)
            .await
            .problem()
            .code,
        "invalid_token"
    );

    assert_eq!(
        fingerprint(server.db()).await,
        before,
        "no malformed request changed the database"
    );
}

async fn the_api_contract_holds_for_arrays_nul_limits_and_roles(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let news = server.channel(&org, "news").await;
    let curator = server
        .person(&org, "Cora Curator", Role::Admin, "FR", "fr", "Comms")
        .await;
    let employee = server
        .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let item = curator.publish(&article(&news, "Existing")).await;
    let id = item.item.id.clone();
    let enrolment = server.enrolment(&org, employee.person().id.as_str()).await;
    let before = fingerprint(server.db()).await;
    let json = "application/json";

    // Arrays (and other non-objects) where an object belongs are never read by position.
    let arrays: Vec<(Method, String, &str)> = vec![
        (Method::POST, format!("/v1/content/{id}/retract"), "[]"),
        (
            Method::POST,
            format!("/v1/content/{id}/retract"),
            r#"["because"]"#,
        ),
        (
            Method::POST,
            "/v1/people".into(),
            r#"["N","n@x.example","FR","fr","Sales","employee"]"#,
        ),
        (
            Method::POST,
            "/v1/channels".into(),
            r#"["slug",{"en":"X"}]"#,
        ),
        (
            Method::POST,
            format!("/v1/people/{}/enrolments", employee.person().id),
            "[24]",
        ),
        (Method::POST, "/v1/content".into(), "\"title\""),
        (Method::POST, "/v1/content".into(), "null"),
        (Method::POST, "/v1/content".into(), "42"),
    ];
    for (method, path, body) in arrays {
        let answer = curator
            .send_raw(method, &path, json, body.as_bytes().to_vec())
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {answer:?}"
        );
        assert!(
            answer.problem().detail.unwrap().contains("JSON object"),
            "{path} {body}"
        );
    }
    let anonymous = server.anonymous();
    let enrol_array = anonymous
        .send_raw(
            Method::POST,
            "/v1/enrol",
            json,
            serde_json::to_vec(&serde_json::json!([enrolment.code, "laptop", "linux"])).unwrap(),
        )
        .await;
    assert_eq!(
        enrol_array.status,
        StatusCode::BAD_REQUEST,
        "{enrol_array:?}"
    );

    // NUL characters: refused on both backends, before any database sees them.
    let with_nul = serde_json::to_value(article(&news, "Title\u{0}with NUL")).unwrap();
    let nul_content = curator
        .send_raw(
            Method::POST,
            "/v1/content",
            json,
            with_nul.to_string().into_bytes(),
        )
        .await;
    assert_eq!(
        nul_content.status,
        StatusCode::BAD_REQUEST,
        "{nul_content:?}"
    );
    assert!(nul_content.problem().detail.unwrap().contains("NUL"));
    let nul_key = curator
        .send_raw(
            Method::POST,
            "/v1/channels",
            json,
            br#"{"slug":"events","names":{"en\u0000":"Events"}}"#.to_vec(),
        )
        .await;
    assert_eq!(nul_key.status, StatusCode::BAD_REQUEST, "{nul_key:?}");
    assert!(nul_key.problem().detail.unwrap().contains("NUL"));
    let nul_device = anonymous
        .send(
            Method::POST,
            "/v1/enrol",
            Some(&EnrolRequest {
                code: enrolment.code.clone(),
                device_name: "my\u{0}laptop".into(),
                platform: "linux".into(),
            }),
        )
        .await;
    assert_eq!(nul_device.status, StatusCode::BAD_REQUEST, "{nul_device:?}");
    for path in [
        "/v1/audit?subject_id=a%00b".to_owned(),
        format!("/v1/content/{id}%00"),
    ] {
        let answer = curator.send::<()>(Method::GET, &path, None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}: {answer:?}");
        assert!(answer.problem().detail.unwrap().contains("NUL"), "{path}");
    }

    // A key given twice is refused: the body is read as written, not with the last one winning.
    let twice = curator
        .send_raw(
            Method::POST,
            "/v1/content",
            json,
            serde_json::to_string(&article(&news, "A"))
                .unwrap()
                .replacen('{', r#"{"title":"B","#, 1)
                .into_bytes(),
        )
        .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST, "{twice:?}");
    assert!(
        twice.problem().detail.unwrap().contains("given twice"),
        "{twice:?}"
    );
    // A link code with a NUL (or anything no code holds) is no link, on both backends.
    for code in ["abc%00def", "%00", "a%20b", "..%2F"] {
        let answer = anonymous
            .send::<()>(Method::GET, &format!("/l/{code}"), None)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "/l/{code}: {answer:?}"
        );
    }

    // One rule for `limit` everywhere: outside its range it is refused, never clamped.
    for (path, max) in [
        ("/v1/sync", 1000),
        ("/v1/content", 500),
        ("/v1/audit", 1000),
    ] {
        for limit in [0, max + 1] {
            let answer = curator
                .send::<()>(Method::GET, &format!("{path}?limit={limit}"), None)
                .await;
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{path}?limit={limit}"
            );
            assert_eq!(
                answer.problem().detail.unwrap(),
                format!("limit must be between 1 and {max}")
            );
        }
        let ok = curator
            .send::<()>(Method::GET, &format!("{path}?limit={max}"), None)
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{path}?limit={max}");
    }

    // The role is checked before the body or the query is read: an employee learns nothing
    // about what a curator's request needs.
    let forbidden: Vec<(Method, String, &str)> = vec![
        (Method::POST, "/v1/content".into(), "{broken"),
        (Method::POST, "/v1/content".into(), "[]"),
        (
            Method::POST,
            format!("/v1/content/{id}/retract"),
            r#"{"nonsense":1}"#,
        ),
        (Method::PATCH, format!("/v1/content/{id}"), "{}"),
        (Method::POST, "/v1/people".into(), r#"{"name":1}"#),
        (Method::POST, "/v1/channels".into(), "{"),
        (Method::GET, "/v1/content?limit=0&state=bogus".into(), ""),
        (Method::GET, "/v1/audit?limit=-1".into(), ""),
    ];
    for (method, path, body) in forbidden {
        let answer = employee
            .send_raw(method, &path, json, body.as_bytes().to_vec())
            .await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{path} {body}: {answer:?}"
        );
        assert_eq!(answer.problem().code, "forbidden");
    }

    // Oversized and too many headers: problem documents too (not the HTTP library's bare 431).
    for (what, request) in [
        (
            "a 100 kB header",
            server
                .http
                .get(format!("{}/v1/me", server.base))
                .header("x-padding", "a".repeat(100 * 1024)),
        ),
        ("150 headers", {
            let mut request = server.http.get(format!("{}/v1/me", server.base));
            for n in 0..150 {
                request = request.header(format!("x-h{n}"), "1");
            }
            request
        }),
    ] {
        let answer = request.send().await.unwrap();
        assert_eq!(
            answer.status(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "{what}"
        );
        assert_eq!(
            answer.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
        let problem: Problem = answer.json().await.unwrap();
        assert_eq!(problem.code, "headers_too_large", "{what}");
    }

    // A missing query parameter is a problem document too.
    let callback = anonymous
        .send::<()>(Method::GET, "/v1/oauth/callback", None)
        .await;
    assert_eq!(callback.status, StatusCode::BAD_REQUEST);
    assert_eq!(callback.problem().code, "invalid_request");

    assert_eq!(
        fingerprint(server.db()).await,
        before,
        "no refused request changed the database"
    );
}
