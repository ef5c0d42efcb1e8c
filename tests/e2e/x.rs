//! An X account connected from the Accounts screen through the browser, against a local stub of
//! X's documented API (named so: no X server can run here). X accepts only registered callback
//! URLs, so the sign-in comes back through the company server's forwarder
//! (`/v1/oauth/callback`) to the app's loopback port; then a share posted once from the UI.

use crate::desktop::{Desktop, Options};
use crate::engine::TestServer;
use crate::x_stub::XStub;

#[tokio::test(flavor = "multi_thread")]
async fn connect_x_through_the_server_callback_and_share() {
    if !crate::webview_available() {
        return;
    }
    let server = TestServer::start().await;
    let (_org, code) = server.demo().await;
    let (stub, x) = XStub::start().await;
    let options = Options {
        env: vec![
            ("RELAY_X_CLIENT_ID", "relay-test-client".to_owned()),
            ("RELAY_X_API", x.clone()),
            ("RELAY_X_WEB", x.clone()),
        ],
        ..Default::default()
    };
    let desktop = Desktop::enrolled(&server.url(), &code, options).await;
    let d = &desktop.driver;

    d.click_css("[data-testid=nav-accounts]").await;
    d.click_css("[data-testid=connect-x]").await;
    let row = d.wait_for("[data-testid=account-row-x]").await;
    let shown = d.text(&row).await;
    assert!(
        shown.contains("ann_contoso") && shown.contains("Connected"),
        "{shown}"
    );
    let browsed = desktop.browsed();
    assert_eq!(browsed.len(), 1, "{browsed:?}");
    let page = url::Url::parse(&browsed[0]).unwrap();
    assert!(browsed[0].starts_with(&format!("{x}/i/oauth2/authorize?")));
    let redirect = page
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned());
    assert_eq!(
        redirect,
        Some(format!("{}/v1/oauth/callback", server.url())),
        "the registered callback, on the company server"
    );
    d.screenshot("x-connected").await;

    desktop.compose("x", "À lire : notre nouvelle région").await;
    desktop.send_and_see_posted().await;
    let tweets = stub.tweets();
    assert_eq!(tweets.len(), 1, "posted once");
    // With the person's tracked link on the company server.
    assert!(
        tweets[0].starts_with(&format!(
            "À lire : notre nouvelle région {}/l/",
            server.url()
        )),
        "{}",
        tweets[0]
    );
}
