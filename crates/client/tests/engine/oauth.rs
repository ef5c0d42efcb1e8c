//! OAuth for native apps (RFC 8252) against a real OpenID Connect provider (`oidc-provider`):
//! the loopback redirect, `state` and PKCE, the code exchange, rotating refresh tokens and
//! revocation.

use std::time::Duration;

use relay_client::oauth::{self, Authorization, OAuthError};

use crate::oidc::{browse, Oidc};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_code_with_pkce_over_a_loopback_redirect_then_refresh() {
    let Some(oidc) = Oidc::start() else { return };
    let endpoints = oidc.endpoints().await;

    let auth = Authorization::start(&endpoints).await.unwrap();
    let url = reqwest::Url::parse(&auth.url).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert!(param("code_challenge").is_some_and(|c| c.len() >= 43));
    assert!(param("state").is_some_and(|s| s.len() >= 16));
    let redirect = param("redirect_uri").unwrap();
    assert!(redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"));
    assert_ne!(redirect, "http://127.0.0.1:0/callback", "an ephemeral port");

    // A forged redirect (another state) comes first; it is ignored and the real one completes.
    let forged_url = format!("{redirect}?code=stolen&state=forged");
    let page = auth.url.clone();
    let browser = tokio::spawn(async move {
        let forged = reqwest::get(forged_url)
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        (forged, browse(&page).await)
    });
    let tokens = auth.finish(Duration::from_secs(30)).await.unwrap();
    let (forged, landed) = browser.await.unwrap();
    assert!(forged.contains("Sign-in failed"), "{forged}");
    assert!(landed.starts_with(&redirect), "{landed}");

    let me = oidc
        .userinfo(&tokens.access_token)
        .await
        .expect("a working access token");
    assert_eq!(me["sub"], "ann");
    assert_eq!(me["email"], "ann.lee@contoso.example");
    let first_refresh = tokens.refresh_token.clone().expect("offline access");
    assert!(tokens.expires_at.is_some());
    assert!(
        !format!("{tokens:?}").contains(&tokens.access_token),
        "no token in debug output"
    );

    // Refresh: a new access token, and the refresh token rotates.
    let renewed = oauth::refresh(&endpoints, &first_refresh).await.unwrap();
    assert_ne!(renewed.access_token, tokens.access_token);
    let second_refresh = renewed.refresh_token.clone().unwrap();
    assert_ne!(second_refresh, first_refresh);
    assert!(oidc.userinfo(&renewed.access_token).await.is_some());

    // Revoking the refresh token ends it: refreshing again is refused, in words.
    oauth::revoke(&endpoints, &second_refresh, "refresh_token")
        .await
        .unwrap();
    match oauth::refresh(&endpoints, &second_refresh).await {
        Err(OAuthError::Refused(reason)) => {
            assert!(!reason.contains(&second_refresh), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_without_its_verifier_is_refused() {
    let Some(oidc) = Oidc::start() else { return };
    let endpoints = oidc.endpoints().await;
    let auth = Authorization::start(&endpoints).await.unwrap();
    let browser = tokio::spawn(browse_later(auth.url.clone()));
    let mut callback = auth.callback(Duration::from_secs(30)).await.unwrap();
    browser.await.unwrap();
    // Someone who caught the code but not the verifier cannot use it.
    callback.code_verifier = "x".repeat(64);
    let err = oauth::exchange(&endpoints, &callback).await.unwrap_err();
    assert!(matches!(err, OAuthError::Refused(_)), "{err:?}");
}

/// The browser opens the page a moment after the app starts listening.
async fn browse_later(url: String) -> String {
    tokio::time::sleep(Duration::from_millis(50)).await;
    browse(&url).await
}
