//! A Mastodon account connected from the Accounts screen through the browser (the test
//! desktop's browser approves at once), against a local stub of Mastodon's documented API
//! (named so: no Mastodon server can be installed here); a share counted against the server's
//! own limit and posted once; a disconnect that revokes the token at the server.

use serde_json::json;

use crate::desktop::{Desktop, Options};
use crate::engine::TestServer;
use crate::mastodon_stub::MastodonStub;

#[tokio::test(flavor = "multi_thread")]
async fn connect_mastodon_in_the_browser_share_and_disconnect() {
    if !crate::webview_available() {
        return;
    }
    let server = TestServer::start().await;
    let (_org, code) = server.demo().await;
    let (stub, instance) = MastodonStub::start(1000).await;
    let desktop = Desktop::enrolled(&server.url(), &code, Options::default()).await;
    let d = &desktop.driver;

    d.click_css("[data-testid=nav-accounts]").await;
    d.type_into("[data-testid=mastodon-instance]", &instance)
        .await;
    d.click_css("[data-testid=connect-mastodon]").await;
    let row = d.wait_for("[data-testid=account-row-mastodon]").await;
    let shown = d.text(&row).await;
    assert!(
        shown.contains("@ann@127.0.0.1") && shown.contains("Connected"),
        "{shown}"
    );
    let browsed = desktop.browsed();
    assert_eq!(browsed.len(), 1, "{browsed:?}");
    assert!(
        browsed[0].starts_with(&format!("{instance}/oauth/authorize?")),
        "{browsed:?}"
    );
    d.screenshot("mastodon-connected").await;

    // The composer counts against this server's own limit (1,000), not Mastodon's default.
    d.click_css("[data-testid=nav-feed]").await;
    d.click_css("[data-testid=card]").await;
    d.click_css("[data-testid=share]").await;
    d.wait_until(
        "the Mastodon account is chosen",
        "return document.querySelector('[data-testid=account-mastodon]')?.checked",
        json!([]),
    )
    .await;
    d.type_into("[data-testid=text-mastodon]", &"é".repeat(600))
        .await;
    let count = d.wait_for("[data-testid=count-mastodon]").await;
    let counted = d.text(&count).await;
    assert!(counted.ends_with("/ 1000"), "{counted}");
    d.type_into("[data-testid=text-mastodon]", "Bonne lecture #Relay")
        .await;
    d.click_css("[data-testid=share-submit]").await;
    d.wait_for("[data-testid=share-queued]").await;
    d.click_css("[data-testid=nav-queue]").await;
    d.wait_until(
        "the share is posted",
        "const r = document.querySelector('[data-testid=share-row]'); return r && r.dataset.status === 'posted'",
        json!([]),
    )
    .await;
    let statuses = stub.statuses();
    assert_eq!(statuses.len(), 1, "posted once");
    assert!(
        statuses[0]["content"]
            .as_str()
            .unwrap()
            .starts_with("<p>Bonne lecture"),
        "{}",
        statuses[0]["content"]
    );

    // Disconnect (confirmed): the token is revoked at the server and the account is gone.
    let tokens = stub.issued_tokens();
    assert_eq!(tokens.len(), 1);
    assert!(stub.token_active(&tokens[0]));
    d.click_css("[data-testid=nav-accounts]").await;
    d.click_css("[data-testid=disconnect]").await;
    d.click_css("[data-testid=disconnect-confirm]").await;
    d.wait_until(
        "the account is gone",
        "return !document.querySelector('[data-testid=account-row-mastodon]')",
        json!([]),
    )
    .await;
    assert!(!stub.token_active(&tokens[0]), "revoked at the server");
    d.screenshot("mastodon-disconnected").await;
}
