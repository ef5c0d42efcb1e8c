//! The programme in the real app: a share goes out through the composer with the person's
//! tracked link (shown before sending), someone follows the link as a browser does, and My
//! activity shows the points and the click; the person joins the leaderboard under a pseudonym
//! and sees themselves on it; last month's prize draw (made with a real recorded beacon round,
//! see `draws.rs`) is shown verified on the device.

use serde_json::json;

use crate::desktop::{Desktop, Options};
use crate::engine::StubNetwork;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

#[tokio::test(flavor = "multi_thread")]
async fn share_with_a_tracked_link_see_the_click_and_join_the_board() {
    if !crate::webview_available() {
        return;
    }
    let (server, closes) = crate::draws::server_for_a_draw().await;
    let (org, code) = server.demo().await;
    let month = crate::draws::make_draw(&server, &org, closes).await;
    let (network, network_url) = StubNetwork::start("programme-token").await;
    // The device checks the replayed beacon round on the server's moved clock.
    let options = Options {
        env: vec![(
            "RELAY_TEST_DRAND_GENESIS",
            crate::draws::genesis(closes).to_string(),
        )],
        ..Options::default()
    };
    let desktop = Desktop::enrolled(&server.url(), &code, options).await;
    // An X account (its shares attested, which this organisation trusts: see `draws.rs`).
    desktop.connect_test_account("x", &network_url, "programme-token");
    let d = &desktop.driver;

    // The composer shows the link the share will carry: the person's, on the company server.
    desktop.compose("x", "Worth a read #Contoso").await;
    let prefix = format!("{}/l/", server.url());
    d.wait_until(
        "the tracked link is shown",
        "const l = document.querySelector('[data-testid=link-x]'); return !!l && l.textContent.includes(arguments[0])",
        json!([prefix]),
    )
    .await;
    d.screenshot("programme-composer").await;
    desktop.send_and_see_posted().await;
    let post = network
        .posts
        .lock()
        .unwrap()
        .values()
        .next()
        .cloned()
        .expect("posted");
    let link = post["link"].as_str().unwrap().to_owned();
    assert!(link.starts_with(&prefix), "{link}");

    // Someone opens it in a browser elsewhere (the person's own device's clicks never count).
    let answer = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from([127, 0, 0, 7]))
        .build()
        .unwrap()
        .get(&link)
        .header("user-agent", FIREFOX)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::FOUND);

    // My activity: a share that counts (10) and one click (1).
    d.click_css("[data-testid=nav-programme]").await;
    d.wait_until(
        "the points and the click show",
        "const p = document.querySelector('[data-testid=programme-points]'); const c = document.querySelector('[data-testid=programme-clicks]'); return !!p && p.textContent === '11' && c.textContent === '1'",
        json!([]),
    )
    .await;
    // The share stands as the server knows it: attested (X cannot be read by the server).
    let status = d.wait_for("[data-testid=my-share-status]").await;
    assert_eq!(d.text(&status).await, "attested");
    let rank = d.wait_for("[data-testid=programme-rank]").await;
    let said = d.text(&rank).await;
    assert!(said.contains("would be 1st of 1"), "{said}");

    // Joins the leaderboard under a pseudonym and sees themselves on it.
    d.type_into("[data-testid=pseudonym]", "Blue Heron").await;
    d.click_css("[data-testid=join-board]").await;
    d.wait_for("[data-testid=on-board]").await;
    let line = d.wait_for("[data-testid=board-line]").await;
    let shown = d.text(&line).await;
    assert!(
        shown.contains("Blue Heron") && shown.contains("11"),
        "{shown}"
    );
    d.screenshot("programme-board").await;

    // Last month's draw, verified here.
    d.wait_for(&format!("[data-testid=draw-month-{month}]"))
        .await;
    let verified = d.wait_for("[data-testid=draw-verified]").await;
    assert!(d.text(&verified).await.contains("Verified on this device"));
    let winners = d.wait_for("[data-testid=draw-winners]").await;
    let shown = d.text(&winners).await;
    assert!(shown.contains("Tablet: Sharer "), "{shown}");
    d.wait_until(
        "the draw is in view",
        "document.querySelector('[data-testid=draw]').scrollIntoView(); return true",
        json!([]),
    )
    .await;
    d.screenshot("programme-draw").await;
}
