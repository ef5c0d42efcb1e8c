//! A curator: signed in by a one-time link (the cookie and CSRF checked), a source's entry taken
//! from the inbox to an employee's device; and signed in with the company's OpenID provider.

use serde_json::json;

use super::harness::*;
use crate::engine::TestServer;
use relay_protocol::Role;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn a_curator_takes_a_source_entry_to_an_employee_device() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let (org, alex_code) = server.demo().await;
    let feed = feed_server().await;
    // Alex (France, Marketing) has the app: the engine, enrolled and synced.
    let (device, _device_dir) = alex_device(&server, &alex_code).await;

    let browser = Browser::start("en").await;
    let d = &browser.driver;

    // A link printed for the demo curator signs this browser in, once.
    let link = sign_in_link(&server, &org, "lea.moreau@contoso.example").await;
    d.navigate(&link).await;
    d.wait_for("nav a[href='#/inbox'][aria-current=page]").await;
    see(d, "Léa Moreau").await;
    assert!(
        !d.current_url().await.contains("rlc_"),
        "the spent token leaves the address bar"
    );
    let cookies = d.cookies().await;
    let session = cookies
        .iter()
        .find(|c| c["name"] == "relay_console")
        .unwrap_or_else(|| panic!("a session cookie: {cookies:?}"));
    assert_eq!(session["httpOnly"], json!(true), "{session}");
    assert_eq!(session["sameSite"], json!("Strict"), "{session}");
    assert_eq!(session["path"], json!("/"));
    let script_sees = d.execute("return document.cookie", json!([])).await;
    assert!(
        !script_sees.as_str().unwrap_or("").contains("relay_console"),
        "scripts cannot read the session"
    );
    // A write without the page's CSRF token is refused, cookie or not.
    let forged = d
        .post_async_script(
            "fetch('/v1/channels', {method: 'POST', headers: {'Content-Type': 'application/json'}, \
             body: JSON.stringify({slug: 'forged', names: {en: 'Forged'}})}).then(r => done(r.status))",
        )
        .await;
    assert_eq!(forged, json!(403));
    d.screenshot("console-01-inbox").await;

    // Sources: the company blog's feed, gathered now.
    d.click_css("nav a[href='#/sources']").await;
    d.wait_for("input[name=address]").await;
    set(d, "input[name=address]", &format!("{feed}/feed.xml")).await;
    press(d, "Add source").await;
    see(d, "added").await;
    press(d, "Poll now").await;
    see(d, "new of").await;
    d.screenshot("console-02-sources").await;

    // The entry waits in the inbox, with its source.
    d.click_css("nav a[href='#/inbox']").await;
    see(d, "Compromised Credential").await;
    see(d, &format!("{feed}/feed.xml")).await;
    d.screenshot("console-03-inbox-filled").await;
    d.execute(
        "[...document.querySelectorAll('tbody a')].find(a => a.innerText.includes('Compromised Credential')).click()",
        json!([]),
    )
    .await;

    // Edited: for France only, with a text for X counted against X's limit.
    d.wait_for("input[name=title]").await;
    set(
        d,
        "input[name=title]",
        "Checking passwords without revealing them",
    )
    .await;
    set(d, "input[name=countries]", "FR").await;
    press(d, "Add a suggested text").await;
    set(d, "select[name=network-0]", "x").await;
    let long = "A very long suggestion. ".repeat(12);
    set(d, "textarea[name=text-0]", &long).await;
    see(d, "longer than its network allows").await;
    let count = d
        .execute(
            "return document.querySelector('.count').innerText",
            json!([]),
        )
        .await;
    assert!(count.as_str().unwrap().ends_with("/ 280"), "{count}");
    set(
        d,
        "textarea[name=text-0]",
        "How we check passwords without seeing them",
    )
    .await;
    d.wait_until(
        "the count is back under the limit",
        "return !document.body.innerText.includes('longer than its network allows')",
        json!([]),
    )
    .await;
    d.screenshot("console-04-editor").await;
    press(d, "Save and approve").await;
    d.wait_for("nav a[href='#/published'][aria-current=page]")
        .await;
    see(d, "Checking passwords without revealing them").await;
    see(d, "FR").await;
    d.screenshot("console-05-published").await;

    // Alex's device receives it, with the suggested text.
    device.sync(&mut |_| {}).await.unwrap();
    let feed_items = device
        .store()
        .feed(&relay_client::store::FeedQuery {
            limit: 500,
            ..Default::default()
        })
        .unwrap();
    let item = feed_items
        .iter()
        .find(|f| f.item.title == "Checking passwords without revealing them")
        .expect("the approved item reached the device");
    assert_eq!(item.item.suggested_texts.len(), 1);
    assert_eq!(
        item.item.suggested_texts[0].text,
        "How we check passwords without seeing them"
    );

    // Sign-out ends the session: the page is back at sign-in and the API refuses the cookie.
    press(d, "Sign out").await;
    see(d, "Sign in to the Relay console").await;
    let after = d
        .post_async_script("fetch('/v1/content').then(r => done(r.status))")
        .await;
    assert_eq!(after, json!(401));
    d.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_curator_signs_in_with_the_company_account() {
    if !chromium_available() {
        return;
    }
    let Some(oidc) = crate::oidc::Oidc::start() else {
        return;
    };
    let server = TestServer::start_with_oidc(relay_server::auth::oidc::OidcConfig {
        issuer: oidc.issuer.clone(),
        client_id: "relay-desktop".into(),
        console_client_id: Some("relay-console".into()),
        org_slug: "contoso".into(),
        create_people: false,
        default_country: "US".into(),
        default_language: "en".into(),
    })
    .await;
    let (org, _) = server.demo().await;
    // The provider signs in "ann" (Ann Lee): a curator here.
    add_person(
        &server,
        &org,
        "Ann Lee",
        "ann.lee@contoso.example",
        Role::Curator,
    )
    .await;

    let browser = Browser::start("en").await;
    let d = &browser.driver;
    d.navigate(&format!("{}/console/", server.url())).await;
    see(d, "Sign in with your company account").await;
    d.screenshot("console-11-sign-in").await;
    d.click_css("#oidc").await;
    d.wait_for("nav a[href='#/inbox'][aria-current=page]").await;
    see(d, "Ann Lee").await;
    let cookies = d.cookies().await;
    assert!(
        cookies
            .iter()
            .any(|c| c["name"] == "relay_console" && c["httpOnly"] == json!(true)),
        "{cookies:?}"
    );
    assert!(
        !cookies.iter().any(|c| c["name"] == "relay_console_oidc"),
        "the flow's cookie is gone: {cookies:?}"
    );
    let audit: Value = d
        .post_async_script("fetch('/v1/audit?action=console.').then(r => r.json()).then(done)")
        .await;
    assert_eq!(audit[0]["detail"]["via"], "oidc", "{audit}");
    d.close().await;
}
