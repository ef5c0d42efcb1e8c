//! A LinkedIn account connected from the Accounts screen through the browser, against a local
//! stub of LinkedIn's documented API (named so: no LinkedIn server can run here). LinkedIn
//! needs a client secret, so the company server brokers the code exchange, and its callback is
//! the server's registered page, which forwards the browser to the app's loopback port; then a
//! share posted once from the UI as the member.

use crate::desktop::{Desktop, Options};
use crate::engine::TestServer;
use crate::linkedin_stub::LinkedInStub;

#[tokio::test(flavor = "multi_thread")]
async fn connect_linkedin_through_the_server_and_share() {
    if !crate::webview_available() {
        return;
    }
    let (stub, base) = LinkedInStub::start().await;
    let mut server = TestServer::start_with_linkedin(LinkedInStub::config(&base)).await;
    // The callback registered with LinkedIn is this server's own page (restarted with it).
    let callback = format!("{}/v1/oauth/callback", server.url());
    server.linkedin.as_mut().unwrap().redirect_url = Some(callback.clone());
    server.down().await;
    server.up().await;
    let (_org, code) = server.demo().await;
    let options = Options {
        env: vec![("RELAY_LINKEDIN_API", base.clone())],
        ..Default::default()
    };
    let desktop = Desktop::enrolled(&server.url(), &code, options).await;
    let d = &desktop.driver;

    d.click_css("[data-testid=nav-accounts]").await;
    d.click_css("[data-testid=connect-linkedin]").await;
    let row = d.wait_for("[data-testid=account-row-linkedin]").await;
    let shown = d.text(&row).await;
    assert!(
        shown.contains("Ann Lee") && shown.contains("Connected"),
        "{shown}"
    );
    let browsed = desktop.browsed();
    assert_eq!(browsed.len(), 1, "{browsed:?}");
    assert!(browsed[0].starts_with(&format!("{base}/oauth/v2/authorization?")));
    let page = url::Url::parse(&browsed[0]).unwrap();
    assert!(
        page.query_pairs()
            .any(|(k, v)| k == "redirect_uri" && v == callback.as_str()),
        "the registered callback, on the company server: {browsed:?}"
    );
    d.screenshot("linkedin-connected").await;

    desktop
        .compose(
            "linkedin",
            "Notre nouvelle région cloud (Paris) est ouverte",
        )
        .await;
    desktop.send_and_see_posted().await;
    let posts = stub.posts();
    assert_eq!(posts.len(), 1, "posted once");
    let (_, body) = &posts[0];
    assert_eq!(body["author"], "urn:li:person:782bbtaQ");
    assert!(
        body["commentary"]
            .as_str()
            .unwrap()
            .starts_with("Notre nouvelle région cloud \\(Paris\\) est ouverte"),
        "little-text escaped: {}",
        body["commentary"]
    );
}
