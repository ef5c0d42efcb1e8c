//! A Bluesky account connected from the Accounts screen on a real PDS (`@atproto/dev-env`),
//! a share queued from the composer and posted there once; then no token anywhere it must not
//! be: the app's database and log, the server's database.

use crate::desktop::{Desktop, Options};
use crate::engine::TestServer;
use crate::pds::Pds;

#[tokio::test(flavor = "multi_thread")]
async fn connect_bluesky_and_share_from_the_ui() {
    if !crate::webview_available() {
        return;
    }
    let Some(pds) = Pds::start() else { return };
    let server = TestServer::start().await;
    let (_org, code) = server.demo().await;
    let ann = pds.create_account("ann.test", "main-password-e2e").await;
    let app_password = pds.app_password(&ann, "relay-desktop").await;
    let desktop = Desktop::enrolled(&server.url(), &code, Options::default()).await;
    let d = &desktop.driver;

    // Accounts: connect Bluesky with the handle and the app password, at the test PDS.
    d.click_css("[data-testid=nav-accounts]").await;
    d.click_css("[data-testid=connect-bluesky]").await;
    d.click_css("[data-testid=bluesky-form] summary").await;
    d.type_into("[data-testid=bluesky-service]", &pds.url).await;
    d.type_into("[data-testid=bluesky-handle]", "ann.test")
        .await;
    // A wrong password first: a clear refusal, nothing connected.
    d.type_into("[data-testid=bluesky-password]", "not-the-password")
        .await;
    d.click_css("[data-testid=bluesky-submit]").await;
    let error = d.wait_for("[data-testid=accounts-error]").await;
    assert!(d.text(&error).await.contains("did not accept"));
    d.type_into("[data-testid=bluesky-password]", &app_password)
        .await;
    d.click_css("[data-testid=bluesky-submit]").await;
    let row = d.wait_for("[data-testid=account-row-bluesky]").await;
    let shown = d.text(&row).await;
    assert!(
        shown.contains("ann.test") && shown.contains("Connected"),
        "{shown}"
    );
    d.screenshot("bluesky-connected").await;

    // The composer offers the account (chosen: the only one) and Facebook's share page.
    let text = "Fière de l'équipe ✨ #Contoso https://news.contoso.example/fr";
    desktop.compose("bluesky", text).await;
    d.wait_for("[data-testid=intent-facebook]").await;
    d.screenshot("bluesky-composer").await;
    desktop.send_and_see_posted().await;
    d.screenshot("bluesky-posted").await;

    let posts = pds.posts(&ann.did).await;
    assert_eq!(posts.len(), 1, "posted once");
    assert_eq!(posts[0]["value"]["text"], text);
    assert_eq!(
        posts[0]["value"]["embed"]["$type"], "app.bsky.embed.external",
        "with the item's link card"
    );
    let deadline = std::time::Instant::now() + crate::webdriver::PATIENCE;
    while server.share_records().await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "never recorded");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }

    // No secret where it must not be. The app password is known; every session token of the
    // PDS is a JWT: a base64url header starting "eyJ", a dot, a payload. (Three bytes "eyJ"
    // alone turn up by chance in a database's random ids and pages.)
    let holds_jwt = |bytes: &[u8]| {
        let b64 = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_';
        bytes.windows(3).enumerate().any(|(i, w)| {
            w == b"eyJ" && {
                let header = bytes[i..].iter().take_while(|c| b64(c)).count();
                header >= 12 && bytes.get(i + header) == Some(&b'.')
            }
        })
    };
    // A database with its write-ahead log.
    let read_db = |path: std::path::PathBuf| {
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
        bytes
    };
    let app_db = read_db(desktop.data_dir.join("relay.db"));
    let server_db = read_db(server.dir.path().join("server.db"));
    let log = desktop.log();
    assert!(log.contains("first feed paint"), "the app's log is read");
    for (place, bytes) in [
        ("the app's database", app_db.as_slice()),
        ("the server's database", server_db.as_slice()),
        ("the app's log", log.as_bytes()),
    ] {
        let secret = app_password.as_bytes();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret),
            "the app password is in {place}"
        );
        assert!(!holds_jwt(bytes), "a session token is in {place}");
    }
    d.close().await;
}
