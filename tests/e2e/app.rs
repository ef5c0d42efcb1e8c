//! A new employee's first minutes: enrol, first sync, search, read, switch to French.

use serde_json::json;

use crate::desktop::{Desktop, Options};
use crate::engine::TestServer;

#[tokio::test(flavor = "multi_thread")]
async fn enrol_sync_search_read_and_switch_to_french() {
    if !crate::webview_available() {
        return;
    }
    let server = TestServer::start().await;
    let (_org, code) = server.demo().await;
    let desktop = Desktop::start(Options::default()).await;
    let d = &desktop.driver;

    // First run: the enrolment form, in English (the system language here).
    d.wait_for("[data-testid=enrol-server]").await;
    d.screenshot("01-enrol").await;
    d.type_into("[data-testid=enrol-server]", &server.url())
        .await;
    d.type_into("[data-testid=enrol-code]", &code).await;
    d.click_css("[data-testid=enrol-submit]").await;

    // The first sync ends on the feed: every demo story for this employee, newest first.
    d.wait_for("[data-testid=card]").await;
    d.wait_until(
        "the whole feed is there",
        "return document.querySelectorAll('[data-testid=card]').length >= 30",
        json!([]),
    )
    .await;
    let titles = d.texts("[data-testid=card-title]").await;
    assert!(titles.iter().any(|t| t.contains("NASA")), "{titles:?}");
    d.wait_for("[data-testid=online]").await;
    d.screenshot("02-feed").await;

    // Readable at 200% zoom: zooming halves the CSS viewport, which a window half the size
    // shows exactly; the layout reflows (no sideways scrolling).
    let full = d.window_rect().await;
    d.set_window_size(full.0 / 2, full.1 / 2).await;
    d.wait_until(
        "the layout reflows",
        "return document.documentElement.clientWidth <= 600",
        json!([]),
    )
    .await;
    let overflow = d
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            json!([]),
        )
        .await;
    d.screenshot("02-feed-zoom-200").await;
    assert!(
        overflow.as_f64().unwrap_or(1.0) <= 0.0,
        "scrolls sideways by {overflow} px at 200%"
    );
    d.set_window_size(full.0, full.1).await;

    // Search works on the device, by word prefix.
    d.type_into("[data-testid=search]", "holograph\u{E007}")
        .await;
    d.wait_until(
        "search narrows the feed",
        "return document.querySelectorAll('[data-testid=card]').length === 1",
        json!([]),
    )
    .await;
    let found = d.texts("[data-testid=card-title]").await;
    assert_eq!(
        found,
        vec!["How NASA engineers use our mixed-reality headset"]
    );
    d.screenshot("03-search").await;

    // Open it: the article, marked read.
    d.click_css("[data-testid=card]").await;
    let title = d.wait_for("[data-testid=item-title]").await;
    assert_eq!(
        d.text(&title).await,
        "How NASA engineers use our mixed-reality headset"
    );
    let body = d.wait_for("[data-testid=item-body]").await;
    assert!(d.text(&body).await.len() > 50, "the article has a body");
    d.screenshot("04-item").await;

    // Switch to French in Settings: the whole interface follows.
    d.click_css("[data-testid=nav-settings]").await;
    d.wait_for("[data-testid=language]").await;
    d.click_css("[data-testid=language] option[value=fr]").await;
    d.wait_until(
        "the navigation is in French",
        "return document.querySelector('[data-testid=nav-feed]').innerText.includes('Actualités')",
        json!([]),
    )
    .await;
    assert_eq!(
        d.execute("return document.documentElement.lang", json!([]))
            .await,
        "fr"
    );
    d.click_css("[data-testid=nav-feed]").await;
    d.wait_for("[data-testid=card]").await;
    let placeholder = d
        .execute(
            "return document.querySelector('[data-testid=search]').placeholder",
            json!([]),
        )
        .await;
    assert_eq!(
        placeholder,
        "Rechercher dans les actualités de cet appareil"
    );
    d.screenshot("05-french").await;
    d.close().await;
}
