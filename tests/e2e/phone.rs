//! The app at a phone's size (360x740 CSS pixels) in the real webview: the feed and the
//! composer are usable (nothing scrolls sideways, every control is at least 44 px tall and
//! wide), and `relay://item/<id>`, the link a push notification's tap opens, shows the item.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::desktop::{app_binary, Desktop, Options};
use crate::engine::{StubNetwork, TestServer};
use crate::webdriver::WebDriver;

/// Controls smaller than this (CSS pixels) are hard to hit with a finger.
const TOUCH: f64 = 44.0;

/// What the page shows that a finger would aim at and is smaller than a touch target, or
/// wider than the screen.
async fn too_small_or_too_wide(d: &WebDriver) -> serde_json::Value {
    d.execute(
        "const min = arguments[0]; const bad = [];
         const width = document.documentElement.clientWidth;
         if (document.documentElement.scrollWidth > width) { bad.push('page scrolls sideways: ' + document.documentElement.scrollWidth); for (const e of document.querySelectorAll('body *')) { const r = e.getBoundingClientRect(); if (r.right > width + 1 && r.width > 0) { bad.push('wide: ' + e.tagName + '.' + e.className + ' ' + Math.round(r.right)); break; } } }
         for (const e of document.querySelectorAll('button, select, input, textarea, [role=button], .navlink, .chip')) {
           const r = e.getBoundingClientRect();
           if (r.width === 0 || r.height === 0) continue; // not shown
           const target = e.closest('label') || e; // a checkbox's label is its target
           const t = target.getBoundingClientRect();
           if (t.height < min || t.width < min) bad.push((e.dataset.testid || e.outerHTML.slice(0, 60)) + ' ' + Math.round(t.width) + 'x' + Math.round(t.height));
           if (r.right > width + 1) bad.push((e.dataset.testid || e.tagName) + ' goes past the right edge');
         }
         return bad;",
        json!([TOUCH]),
    )
    .await
}

async fn assert_usable(d: &WebDriver, screen: &str) {
    let bad = too_small_or_too_wide(d).await;
    d.screenshot(&format!("phone-{screen}")).await;
    assert_eq!(bad, json!([]), "{screen} at 360 px");
}

#[tokio::test(flavor = "multi_thread")]
async fn at_phone_size_the_feed_and_composer_are_usable_and_a_tap_opens_the_item() {
    if !crate::webview_available() {
        return;
    }
    let server = TestServer::start().await;
    let (_org, code) = server.demo().await;
    let (_network, network_url) = StubNetwork::start("phone-token").await;
    let desktop = Desktop::enrolled(&server.url(), &code, Options::default()).await;
    desktop.connect_test_account("mastodon", &network_url, "phone-token");
    let d = &desktop.driver;

    d.set_window_size(360, 740).await;
    d.wait_until(
        "the page is phone-sized",
        "return document.documentElement.clientWidth <= 360",
        json!([]),
    )
    .await;
    d.wait_for("[data-testid=card]").await;
    assert_usable(d, "feed").await;
    // The oldest story in the feed, for the tap below (not the one about to be open).
    let oldest = d
        .execute(
            "const c = [...document.querySelectorAll('[data-testid=card]')].pop();
             return [c.dataset.id, c.querySelector('[data-testid=card-title]').innerText];",
            json!([]),
        )
        .await;
    let id = oldest[0].as_str().unwrap().to_owned();
    let title = oldest[1].as_str().unwrap().to_owned();

    // The composer, on the newest item.
    d.click_css("[data-testid=card]").await;
    d.wait_for("[data-testid=item-title]").await;
    assert_usable(d, "item").await;
    d.click_css("[data-testid=share]").await;
    d.wait_until(
        "the account is chosen",
        "return document.querySelector('[data-testid=account-mastodon]')?.checked",
        json!([]),
    )
    .await;
    d.type_into("[data-testid=text-mastodon]", "Worth a read, on my phone")
        .await;
    assert_usable(d, "composer").await;
    d.click_css("[data-testid=share-submit]").await;
    d.wait_for("[data-testid=share-queued]").await;

    // A tap on a notification opens relay://item/<id>: here the link comes as a phone's would,
    // from outside the app, to the running app.
    let mut tap = desktop
        .command(app_binary())
        .arg(format!("relay://item/{id}"))
        .env("RELAY_DATA_DIR", &desktop.data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    d.wait_until(
        "the tapped item is shown",
        "return document.querySelector('[data-testid=item-title]')?.innerText === arguments[0]",
        json!([title]),
    )
    .await;
    let shown = d.wait_for("[data-testid=item-title]").await;
    assert_eq!(d.text(&shown).await, title);
    assert_usable(d, "tapped-item").await;
    // The second launch handed its link over and ended.
    for _ in 0..100 {
        if tap.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = tap.kill();
    d.close().await;
}
