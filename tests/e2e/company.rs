//! Company sign-in from the sign-in screen, with a real OpenID Connect provider
//! (`oidc-provider`): the provider's page opens in the browser, comes back to the app's
//! loopback port, the server validates the ID token and creates the person from its claims,
//! and the app lands on the feed, synced.

use relay_server::auth::oidc::OidcConfig;

use crate::desktop::{Desktop, Options};
use crate::engine::TestServer;
use crate::oidc::Oidc;

#[tokio::test(flavor = "multi_thread")]
async fn an_employee_signs_in_with_the_company_account() {
    if !crate::webview_available() {
        return;
    }
    let Some(oidc) = Oidc::start() else { return };
    let server = TestServer::start_with_oidc(OidcConfig {
        issuer: oidc.issuer.clone(),
        client_id: "relay-desktop".into(),
        org_slug: "contoso".into(),
        create_people: true,
        console_client_id: None,
        default_country: "US".into(),
        default_language: "en".into(),
    })
    .await;
    // The organisation the provider signs people in to (its enrolment code is not used).
    server.demo().await;
    let desktop = Desktop::start(Options {
        env: vec![("E2E_LOGIN_HINT", "ann".to_owned())],
        ..Default::default()
    })
    .await;
    let d = &desktop.driver;

    d.type_into("[data-testid=enrol-server]", &server.url())
        .await;
    d.click_css("[data-testid=company-sign-in]").await;
    d.wait_for("[data-testid=card]").await;
    let browsed = desktop.browsed();
    assert_eq!(browsed.len(), 1, "{browsed:?}");
    assert!(browsed[0].starts_with(&oidc.issuer), "{browsed:?}");
    assert!(browsed[0].contains("code_challenge_method=S256"));
    d.screenshot("company-signed-in").await;

    // Ann was created from the ID token's claims, once.
    assert_eq!(server.people_with_email("ann.lee@contoso.example").await, 1);
}
