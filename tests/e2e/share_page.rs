//! Facebook (no API for personal profiles): the composer opens its share page in the browser,
//! and once the person says they posted it, the share is recorded once with the server.

use crate::desktop::{Desktop, Options};
use crate::engine::TestServer;

#[tokio::test(flavor = "multi_thread")]
async fn a_share_on_facebooks_page_is_recorded_once_confirmed() {
    if !crate::webview_available() {
        return;
    }
    let server = TestServer::start().await;
    let (_org, code) = server.demo().await;
    let desktop = Desktop::enrolled(&server.url(), &code, Options::default()).await;
    let d = &desktop.driver;

    d.click_css("[data-testid=card]").await;
    d.click_css("[data-testid=share]").await;
    d.click_css("[data-testid=intent-facebook]").await;
    d.wait_for("[data-testid=intent-yes]").await;
    let deadline = std::time::Instant::now() + crate::webdriver::PATIENCE;
    while desktop.browsed().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no page opened");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let browsed = desktop.browsed();
    assert_eq!(browsed.len(), 1, "{browsed:?}");
    let page = url::Url::parse(&browsed[0]).unwrap();
    assert_eq!(page.host_str(), Some("www.facebook.com"));
    let shared: Vec<_> = page.query_pairs().filter(|(k, _)| k == "u").collect();
    assert_eq!(shared.len(), 1);
    assert!(shared[0].1.starts_with("https://"), "{browsed:?}");
    // Nothing is recorded until the person says they posted it.
    assert!(server.share_records().await.is_empty());

    d.click_css("[data-testid=intent-yes]").await;
    d.wait_for("[data-testid=intent-recorded]").await;
    d.screenshot("share-page-recorded").await;
    let deadline = std::time::Instant::now() + crate::webdriver::PATIENCE;
    while server.share_records().await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "never recorded");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(server.share_records().await.len(), 1, "recorded once");
}
