//! A Mastodon account connected from the Accounts screen through the browser (the test
//! desktop's browser approves at once), against a local stub of Mastodon's documented API
//! (named so: no Mastodon server can be installed here); a share counted against the server's
//! own limit and posted once; access revoked on the server's site, so the next share waits
//! while the account asks for a reconnect, then goes out once it is reconnected; a disconnect
//! that revokes the token at the server.

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
    desktop.compose("mastodon", &"é".repeat(600)).await;
    let count = d.wait_for("[data-testid=count-mastodon]").await;
    let counted = d.text(&count).await;
    assert!(counted.ends_with("/ 1000"), "{counted}");
    d.type_into("[data-testid=text-mastodon]", "Bonne lecture #Relay")
        .await;
    desktop.send_and_see_posted().await;
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

    // Access revoked on the server's site: the next share waits (not lost) and the account
    // asks for a reconnect, which signs in again on the same server and sends the share.
    stub.revoke_all();
    desktop.compose("mastodon", "Après la reconnexion").await;
    desktop.send().await;
    d.click_css("[data-testid=nav-accounts]").await;
    d.wait_until(
        "the account asks for a reconnect",
        "return !!document.querySelector('[data-testid=reconnect-mastodon]')",
        json!([]),
    )
    .await;
    assert_eq!(stub.statuses().len(), 1, "nothing sent meanwhile");
    d.screenshot("mastodon-reconnect").await;
    d.click_css("[data-testid=reconnect-mastodon]").await;
    d.wait_until(
        "the account is connected again",
        "const r = document.querySelector('[data-testid=account-row-mastodon]'); return r && !r.querySelector('[data-testid=reconnect-mastodon]') && r.textContent.includes('Connected')",
        json!([]),
    )
    .await;
    let deadline = std::time::Instant::now() + crate::webdriver::PATIENCE;
    while stub.statuses().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the waiting share never went out"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(stub.statuses().len(), 2);
    assert!(stub.statuses()[1]["content"]
        .as_str()
        .unwrap()
        .starts_with("<p>Après la reconnexion"));
    assert_eq!(desktop.browsed().len(), 2, "signed in again in the browser");

    // Disconnect (confirmed): the token is revoked at the server and the account is gone.
    let tokens = stub.issued_tokens();
    assert_eq!(tokens.len(), 2);
    assert!(stub.token_active(&tokens[1]));
    d.click_css("[data-testid=nav-accounts]").await;
    d.click_css("[data-testid=disconnect]").await;
    d.click_css("[data-testid=disconnect-confirm]").await;
    d.wait_until(
        "the account is gone",
        "return !document.querySelector('[data-testid=account-row-mastodon]')",
        json!([]),
    )
    .await;
    assert!(!stub.token_active(&tokens[1]), "revoked at the server");
    d.screenshot("mastodon-disconnected").await;
}
