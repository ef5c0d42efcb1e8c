//! The person's own data in the real app: the About screen shows the company's privacy switch,
//! downloads everything the server holds about the person into a JSON file, and erases them
//! (the device is signed out; the server no longer knows them).

use serde_json::json;

use crate::desktop::{Desktop, Options};
use crate::engine::TestServer;

#[tokio::test(flavor = "multi_thread")]
async fn download_my_data_then_ask_to_be_erased() {
    if !crate::webview_available() {
        return;
    }
    let server = TestServer::start().await;
    let (org, code) = server.demo().await;
    let desktop = Desktop::enrolled(&server.url(), &code, Options::default()).await;
    let d = &desktop.driver;

    d.click_css("[data-testid=nav-about]").await;
    d.wait_until(
        "the privacy switch is shown",
        "const e = document.querySelector('[data-testid=individual-export]'); return !!e && e.innerText.includes('off in your company')",
        json!([]),
    )
    .await;

    d.click_css("[data-testid=download-data]").await;
    let saved = d.wait_for("[data-testid=download-saved] code").await;
    let path = d.text(&saved).await;
    let data: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
            .unwrap();
    assert_eq!(data["format"], "relay-personal-data-v1");
    let person = &data["tables"]["people"][0];
    assert_eq!(person["email"], relay_server::demo::DEMO_EMAIL);
    assert_eq!(data["tables"]["sessions"].as_array().map(Vec::len), Some(1));
    assert!(!serde_json::to_string(&data)
        .unwrap()
        .contains("access_hash"));
    d.screenshot("about-my-data").await;

    d.click_css("[data-testid=erase]").await;
    d.click_css("[data-testid=erase-confirm]").await;
    d.wait_until(
        "the device is signed out, saying why",
        "return document.body.innerText.includes('erased') && !!document.querySelector('[data-testid=enrol-code]')",
        json!([]),
    )
    .await;
    let gone = relay_server::people::find_by_email(
        &server.state().db,
        &org.id,
        relay_server::demo::DEMO_EMAIL,
    )
    .await;
    assert!(gone.is_err(), "the server still knows the person");
    d.screenshot("about-erased").await;
}
