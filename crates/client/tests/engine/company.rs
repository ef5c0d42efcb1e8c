//! Company sign-in with a real OpenID Connect provider (`oidc-provider`): the device runs the
//! code flow with PKCE in the browser, the server validates the ID token (JWKS, issuer,
//! audience, expiry, nonce) and opens a session, creating the person on first sign-in where
//! allowed.

use std::time::Duration;

use relay_client::oauth::{Authorization, Endpoints};
use relay_server::auth::oidc::OidcConfig;
use serde_json::{json, Value};

use crate::harness::*;
use crate::oidc::{browse, Browser, Oidc};

fn config(oidc: &Oidc, create_people: bool) -> OidcConfig {
    OidcConfig {
        issuer: oidc.issuer.clone(),
        client_id: "relay-desktop".into(),
        org_slug: "contoso".into(),
        create_people,
        console_client_id: None,
        default_country: "US".into(),
        default_language: "en".into(),
    }
}

/// Signs a new engine in as `who` (the provider's login hint) through the browser.
async fn sign_in(
    server: &TestServer,
    who: &str,
) -> (
    relay_client::Engine,
    tempfile::TempDir,
    Result<relay_client::Status, String>,
) {
    let (engine, dir, _secrets) = engine();
    let browser = Browser::default();
    let result = engine
        .sign_in_with_company(
            &server.url(),
            "laptop",
            browser.opener(&format!("&login_hint={who}")),
            Duration::from_secs(20),
        )
        .await
        .map_err(|e| e.to_string());
    browser.landed().await;
    (engine, dir, result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn employees_sign_in_with_the_company_provider() {
    let Some(oidc) = Oidc::start() else { return };
    let server = TestServer::start_with_oidc(config(&oidc, true)).await;
    let (org, _code) = server.demo().await;

    // First sign-in: Ann is created from the ID token's claims, and her device syncs.
    let (engine, _dir, status) = sign_in(&server, "ann").await;
    let status = status.unwrap();
    assert!(status.signed_in);
    assert_eq!(status.person.as_deref(), Some("Ann Lee"));
    assert_eq!(status.organisation.as_deref(), Some("Contoso"));
    let person = server.person_id(&org, "ann.lee@contoso.example").await;
    let me = relay_server::people::get(&server.state().db, &org.id, &person)
        .await
        .unwrap();
    assert_eq!((me.language.as_str(), me.country.as_str()), ("fr", "FR"));
    let report = engine.sync(&mut |_| {}).await.unwrap();
    assert!(report.upserted > 0);

    // Second device: the same person, not a second one.
    let (_engine2, _dir2, again) = sign_in(&server, "ann").await;
    again.unwrap();
    assert_eq!(server.people_with_email("ann.lee@contoso.example").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_checks_the_id_token_and_who_may_come_in() {
    let Some(oidc) = Oidc::start() else { return };
    let server = TestServer::start_with_oidc(config(&oidc, false)).await;
    server.demo().await;

    // Without creation allowed, someone the organisation does not know is refused, in words.
    let (_engine, _dir, refused) = sign_in(&server, "bob").await;
    let refused = refused.unwrap_err();
    assert!(refused.contains("has no Relay account"), "{refused}");

    // A code exchanged with another nonce than the one sent to the provider is refused; so
    // is the same code again.
    let provider: Value = reqwest::get(format!("{}/v1/auth/oidc", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let endpoints = Endpoints {
        authorize_url: provider["authorization_endpoint"].as_str().unwrap().into(),
        token_url: provider["authorization_endpoint"].as_str().unwrap().into(),
        revoke_url: None,
        client_id: "relay-desktop".into(),
        client_secret: None,
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        extra: vec![
            ("nonce".into(), "n".repeat(24)),
            ("login_hint".into(), "ann".into()),
        ],
    };
    let auth = Authorization::start(&endpoints).await.unwrap();
    let page = auth.url.clone();
    let browser = tokio::spawn(async move { browse(&page).await });
    let callback = auth.callback(Duration::from_secs(20)).await.unwrap();
    browser.await.unwrap();
    let attempt = |nonce: &str| {
        json!({
            "code": callback.code,
            "code_verifier": callback.code_verifier,
            "redirect_uri": callback.redirect_uri,
            "nonce": nonce,
            "device_name": "laptop",
            "platform": "linux",
        })
    };
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{}/v1/auth/oidc", server.url()))
        .json(&attempt(&"x".repeat(24)))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    let problem: Value = answer.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("nonce"),
        "{problem}"
    );
    let replay = http
        .post(format!("{}/v1/auth/oidc", server.url()))
        .json(&attempt(&"n".repeat(24)))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401, "a used code opens nothing");
}
