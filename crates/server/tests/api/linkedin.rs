//! LinkedIn's brokered code exchange, through the real `relay-server` binary logging at trace
//! level, against a local stub of LinkedIn's token endpoint (no LinkedIn server can run here).
//! The token reaches the device; the server's database and its logs never hold it (nor the
//! client secret).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::extract::Form;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use relay_protocol::*;
use reqwest::Method;
use serde_json::json;

use crate::harness::*;

const SECRET: &str = "relay-linkedin-client-secret-7f3a";
const CALLBACK: &str = "https://relay.contoso.example/v1/oauth/callback";

/// LinkedIn's `POST /oauth/v2/accessToken` as documented: form-encoded, the client secret
/// required, a 60-day access token.
async fn linkedin_stub(issued: Arc<Mutex<Vec<String>>>) -> String {
    let app = axum::Router::new().route(
        "/oauth/v2/accessToken",
        axum::routing::post(move |Form(f): Form<std::collections::HashMap<String, String>>| {
            let issued = issued.clone();
            async move {
                if f.get("client_secret").map(String::as_str) != Some(SECRET)
                    || f.get("grant_type").map(String::as_str) != Some("authorization_code")
                {
                    return (
                        StatusCode::UNAUTHORIZED,
                        axum::Json(json!({"error": "invalid_client", "error_description": "Client authentication failed"})),
                    )
                        .into_response();
                }
                if f.get("code").map(String::as_str) != Some("good-code") {
                    return (
                        StatusCode::BAD_REQUEST,
                        axum::Json(json!({"error": "invalid_request", "error_description": "Unable to retrieve access token: authorization code not found"})),
                    )
                        .into_response();
                }
                let token = format!("AQV{}", uuid::Uuid::new_v4().simple());
                issued.lock().unwrap().push(token.clone());
                crate::sweep::note(&token);
                axum::Json(json!({"access_token": token, "expires_in": 5_184_000, "scope": "openid,profile,w_member_social"}))
                    .into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/oauth/v2/accessToken")
}

#[tokio::test]
async fn the_server_passes_linkedin_tokens_through_without_keeping_them() {
    // Kept for the whole-suite secret sweep too (its trace log, its database).
    let dir = crate::sweep::tempdir();
    crate::sweep::note(SECRET);
    let db_path = dir.path().join("relay.db");
    let url = format!("sqlite:{}", db_path.display());
    let bin = env!("CARGO_BIN_EXE_relay-server");
    let issued = Arc::new(Mutex::new(Vec::new()));
    let token_url = linkedin_stub(issued.clone()).await;

    let demo = Command::new(bin)
        .args(["--database-url", &url, "demo"])
        .output()
        .unwrap();
    let out = String::from_utf8(demo.stdout).unwrap();
    let code = out
        .lines()
        .find_map(|l| l.strip_prefix("enrolment code: "))
        .unwrap()
        .to_owned();

    let mut child = Command::new(bin)
        .args(["--database-url", &url, "serve", "--bind", "127.0.0.1:0"])
        .env("RELAY_LOG", "trace")
        .env("RELAY_LINKEDIN_CLIENT_ID", "relay-li")
        .env("RELAY_LINKEDIN_CLIENT_SECRET", SECRET)
        .env("RELAY_LINKEDIN_TOKEN_URL", &token_url)
        .env("RELAY_LINKEDIN_REDIRECT_URL", CALLBACK)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Every log line, kept; the first says where the server listens.
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let log = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(base) = line.strip_prefix("relay-server listening on ") {
                    let _ = tx.send(base.to_owned());
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
    }
    let base = rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
    let device = Client::anonymous_at(&base)
        .enrol(code, "linkedin test")
        .await;
    let session_token = device.token.clone().unwrap();
    crate::sweep::note(&session_token);

    let app: LinkedInApp = device.get("/v1/linkedin").await;
    assert_eq!(app.client_id, "relay-li");
    assert!(app.scopes.contains(&"w_member_social".to_owned()));
    assert_eq!(app.redirect_uri, CALLBACK);

    // LinkedIn's redirect to the registered callback is forwarded to the device's loopback
    // port (from `state`), query and all; never anywhere else.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let forwarded = no_redirects
        .get(format!(
            "{}/v1/oauth/callback?code=c1&state=50123.xyz",
            device.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forwarded.status(), 303);
    assert_eq!(
        forwarded.headers()["location"],
        "http://127.0.0.1:50123/callback?code=c1&state=50123.xyz"
    );
    let forged = no_redirects
        .get(format!(
            "{}/v1/oauth/callback?code=c1&state=evil.example",
            device.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);

    // A good code: LinkedIn's token comes back to the device, uncached.
    let exchange = |code: &str, redirect: &str| LinkedInCode {
        code: code.into(),
        redirect_uri: redirect.into(),
        code_verifier: None,
    };
    let answer = device
        .send(
            Method::POST,
            "/v1/linkedin/token",
            Some(&exchange("good-code", CALLBACK)),
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.cache_control.as_deref(), Some("no-store"));
    let tokens: LinkedInTokens = serde_json::from_value(answer.body).unwrap();
    assert_eq!(
        issued.lock().unwrap().clone(),
        vec![tokens.access_token.clone()]
    );
    assert_eq!(tokens.expires_in, 5_184_000);

    // A bad code: LinkedIn's reason, in words. A redirect elsewhere than the device: refused.
    let refused = device
        .send(
            Method::POST,
            "/v1/linkedin/token",
            Some(&exchange("stale-code", CALLBACK)),
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused
        .problem()
        .detail
        .unwrap()
        .contains("authorization code not found"));
    let elsewhere = device
        .send(
            Method::POST,
            "/v1/linkedin/token",
            Some(&exchange("good-code", "http://127.0.0.1:49152/callback")),
        )
        .await;
    assert_eq!(elsewhere.status, 400);
    // Without a device session: no exchange.
    let anonymous = Client {
        token: None,
        ..device.clone()
    };
    let answer = anonymous
        .send(
            Method::POST,
            "/v1/linkedin/token",
            Some(&exchange("good-code", CALLBACK)),
        )
        .await;
    assert_eq!(answer.status, 401);
    assert_eq!(issued.lock().unwrap().len(), 1);

    let _ = child.kill();
    let _ = child.wait();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = log.lock().unwrap().clone();
    std::fs::write(dir.path().join("server.log"), &log).unwrap();
    assert!(
        log.contains("LinkedIn sign-in brokered"),
        "trace logs were captured"
    );
    let mut database = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db_path.clone().into_os_string();
        path.push(suffix);
        database.extend(std::fs::read(path).unwrap_or_default());
    }
    for secret in [tokens.access_token.as_str(), SECRET, "good-code"] {
        assert!(!log.contains(secret), "a secret is in the server's log");
        assert!(
            !database
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "a secret is in the server's database"
        );
    }
}
