//! The curators' console in a real browser (Debian's Chromium, driven by chromedriver) against
//! the real server: a one-time link and the company's OpenID provider sign a curator in; a
//! source's entry arrives in the inbox, is edited with targeting and per-network texts and
//! approved, and reaches an enrolled device (the engine); a CSV import with a bad row imports
//! nothing; a departure signs every device out. Screenshots go to `target/e2e-screenshots/`.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use relay_client::secrets::MemoryStore;
use relay_client::Engine;
use relay_protocol::{NewPerson, Org, Role};
use serde_json::{json, Value};

use crate::engine::TestServer;
use crate::webdriver::WebDriver;

/// Chromium under chromedriver, headless, in a profile of its own.
struct Browser {
    driver: WebDriver,
    child: Child,
    _profile: tempfile::TempDir,
    /// Where downloads land.
    downloads: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether Chromium and chromedriver are here; under `CI=true` they must be.
fn chromium_available() -> bool {
    let found = ["chromium", "chromedriver"].iter().all(|tool| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but chromium or chromedriver is missing"
        );
        let reason = "the console's browser tests need chromium and chromium-driver (scripts/test.sh installs them)";
        eprintln!("SKIPPED: {reason}");
        crate::sweep::note_skipped(reason);
    }
    found
}

impl Browser {
    async fn start(lang: &str) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let downloads = tempfile::tempdir().unwrap();
        let driver = WebDriver::connect(
            port,
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--window-size=1280,900",
                             format!("--lang={lang}"),
                             format!("--user-data-dir={}", profile.path().display())],
                    "prefs": {"intl.accept_languages": lang,
                          "download.default_directory": downloads.path(),
                          "download.prompt_for_download": false}
                }
            }}}),
        )
        .await;
        Browser {
            driver,
            child,
            _profile: profile,
            downloads,
        }
    }
}

/// Sets a form field the way a person would leave it (`input` then `change`).
async fn set(d: &WebDriver, css: &str, value: &str) {
    let done = d
        .execute(
            "const e = document.querySelector(arguments[0]); if (!e) return false; \
             e.value = arguments[1]; \
             e.dispatchEvent(new Event('input', {bubbles: true})); \
             e.dispatchEvent(new Event('change', {bubbles: true})); return true;",
            json!([css, value]),
        )
        .await;
    assert_eq!(done, json!(true), "no field {css}");
}

/// Clicks the button (or link) whose text contains `label`.
async fn press(d: &WebDriver, label: &str) {
    let clicked = d
        .wait_until(
            &format!("a button saying {label:?}"),
            "const b = [...document.querySelectorAll('button, a')].find(b => b.innerText.includes(arguments[0]) && !b.disabled); \
             if (!b) return false; b.click(); return true;",
            json!([label]),
        )
        .await;
    assert_eq!(clicked, json!(true));
}

async fn see(d: &WebDriver, text: &str) {
    d.wait_until(
        &format!("the page shows {text:?}"),
        "return document.body.innerText.includes(arguments[0])",
        json!([text]),
    )
    .await;
}

async fn add_person(server: &TestServer, org: &Org, name: &str, email: &str, role: Role) -> String {
    relay_server::people::add(
        &server.state().db,
        &org.id,
        None,
        NewPerson {
            name: name.into(),
            email: email.into(),
            country: "FR".into(),
            language: "fr".into(),
            department: "Communications".into(),
            role,
        },
    )
    .await
    .unwrap()
    .id
}

async fn sign_in_link(server: &TestServer, org: &Org, email: &str) -> String {
    let person = relay_server::people::find_by_email(&server.state().db, &org.id, email)
        .await
        .unwrap();
    relay_server::console::links::create(
        &server.state().db,
        &org.id,
        &person,
        &server.url(),
        std::time::Duration::from_secs(900),
    )
    .await
    // The link's token must be in no database or log the tests keep.
    .inspect(|link| crate::sweep::note(link.rsplit('/').next().unwrap()))
    .unwrap()
}

/// The company blog's real RSS (a committed sample), served with an ETag.
async fn feed_server() -> String {
    let rss = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../crates/server/tests/fixtures/feeds/cloudflare-blog.rss"),
    )
    .unwrap();
    let app = axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(move || {
            let rss = rss.clone();
            async move {
                (
                    [("content-type", "application/rss+xml"), ("etag", "\"v1\"")],
                    rss,
                )
            }
        }),
    );
    crate::peers::serve(app).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_curator_takes_a_source_entry_to_an_employee_device() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let (org, alex_code) = server.demo().await;
    let feed = feed_server().await;
    // Alex (France, Marketing) has the app: the engine, enrolled and synced.
    let device_dir = tempfile::tempdir().unwrap();
    let device = Engine::open(device_dir.path(), Arc::new(MemoryStore::default())).unwrap();
    device
        .enrol(&server.url(), &alex_code, "Alex's laptop")
        .await
        .unwrap();
    device.sync(&mut |_| {}).await.unwrap();

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
async fn an_admin_imports_people_enrols_and_records_a_departure() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let (org, alex_code) = server.demo().await;
    let device_dir = tempfile::tempdir().unwrap();
    let device = Engine::open(device_dir.path(), Arc::new(MemoryStore::default())).unwrap();
    device
        .enrol(&server.url(), &alex_code, "Alex's laptop")
        .await
        .unwrap();
    device.sync(&mut |_| {}).await.unwrap();

    // In French, in the dark.
    let browser = Browser::start("fr").await;
    let d = &browser.driver;
    let link = sign_in_link(&server, &org, "sam.okafor@contoso.example").await;
    d.navigate(&link).await;
    d.wait_for("nav a[href='#/people']").await;
    set(d, "header select[name=theme]", "dark").await;
    assert_eq!(
        d.execute("return document.documentElement.dataset.theme", json!([]))
            .await,
        "dark"
    );
    d.click_css("nav a[href='#/people']").await;
    see(d, "Importer un CSV").await;

    // A file with one bad row imports nothing and says which row.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("people.csv");
    std::fs::write(
        &bad,
        "name,email,country,language,department\n\
         Nina Roy,nina.roy@contoso.example,FR,fr,Sales\n\
         Omar Haddad,not-an-address,FR,fr,Sales\n",
    )
    .unwrap();
    d.type_into("input[name=csv]", bad.to_str().unwrap()).await;
    see(d, "Rien n’a été importé").await;
    let report = d.texts(".import-errors td").await;
    assert_eq!(report[0], "3", "{report:?}");
    assert!(report[1].contains("email"), "{report:?}");
    assert_eq!(
        server.people_with_email("nina.roy@contoso.example").await,
        0
    );
    d.screenshot("console-06-import-refused").await;
    std::fs::write(
        &bad,
        "name,email,country,language,department\n\
         Nina Roy,nina.roy@contoso.example,FR,fr,Sales\n\
         Omar Haddad,omar.haddad@contoso.example,FR,fr,Sales\n",
    )
    .unwrap();
    d.type_into("input[name=csv]", bad.to_str().unwrap()).await;
    see(d, "2 personnes importées").await;
    assert_eq!(
        server.people_with_email("nina.roy@contoso.example").await,
        1
    );

    // Alex's page: the enrolment QR code, the devices, and the departure.
    set(d, "input[name=q]", "Alex").await;
    see(d, "alex.martin@contoso.example").await;
    d.execute(
        "[...document.querySelectorAll('tbody a')].find(a => a.innerText.includes('Alex Martin')).click()",
        json!([]),
    )
    .await;
    see(d, "Alex's laptop").await;
    press(d, "Nouveau code d’inscription").await;
    d.wait_for(".qr svg").await;
    d.screenshot("console-07-person").await;
    press(d, "Enregistrer le départ").await;
    press(d, "Déconnecter Alex Martin partout").await;
    see(d, "Départ enregistré").await;
    see(d, "Déconnecté le").await;
    d.screenshot("console-08-departure").await;
    let alex_id = server.person_id(&org, "alex.martin@contoso.example").await;
    // The device is signed out by the server.
    assert!(
        device.sync(&mut |_| {}).await.is_err(),
        "the departed device is refused"
    );

    // Settings: the points rules of next month (this month's are frozen).
    d.click_css("nav a[href='#/settings']").await;
    d.wait_for("input[name=daily_cap]").await;
    set(d, "input[name=daily_cap]", "7").await;
    press(d, "Enregistrer les règles").await;
    see(d, "Règles enregistrées").await;
    let rules: Value = d
        .post_async_script("fetch('/v1/programme/rules').then(r => r.json()).then(done)")
        .await;
    assert_eq!(
        rules["rules"]["daily_cap"], 5,
        "this month's rules did not move: {rules}"
    );
    let next_month = d
        .execute(
            "return document.querySelector('form h2').innerText",
            json!([]),
        )
        .await;
    let month = next_month
        .as_str()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    let next: Value = d
        .post_async_script(&format!(
            "fetch('/v1/programme/rules?month={month}').then(r => r.json()).then(done)"
        ))
        .await;
    assert_eq!(next["rules"]["daily_cap"], 7, "{next}");
    d.screenshot("console-09-settings").await;
    d.navigate(&format!("{}/console/#/person/{}", server.url(), alex_id))
        .await;
    see(d, "Alex Martin").await;

    // Readable at 200% zoom: the page reflows instead of scrolling sideways.
    d.execute("document.body.style.zoom = '200%'", json!([]))
        .await;
    let overflow = d
        .execute(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1",
            json!([]),
        )
        .await;
    d.screenshot("console-10-zoom-200").await;
    assert_eq!(overflow, json!(true), "no sideways scrolling at 200%");
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

/// An employee with a device, by plain HTTP: its access token.
async fn enrolled_employee(server: &TestServer, org: &Org, n: usize) -> String {
    let id = add_person(
        server,
        org,
        &format!("Sharer {n}"),
        &format!("sharer{n}@contoso.example"),
        Role::Employee,
    )
    .await;
    let mut tx = server.state().db.begin().await.unwrap();
    let enrolment =
        relay_server::auth::store::create_enrolment(&mut tx, &org.id, &id, None, &server.url())
            .await
            .unwrap();
    tx.commit().await.unwrap();
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/v1/enrol", server.url()))
        .json(&json!({"code": enrolment.code, "device_name": "phone", "platform": "cli"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["session"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn declare_share(server: &TestServer, token: &str, item: &str, network: &str, n: usize) {
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/shares", server.url()))
        .bearer_auth(token)
        .json(
            &json!({"share_id": format!("s-{n}-{network}"), "item_id": item, "network": network,
                      "shared_at": chrono::Utc::now(), "proof": "declared"}),
        )
        .send()
        .await
        .unwrap();
    let status = answer.status();
    assert_eq!(
        status,
        reqwest::StatusCode::CREATED,
        "{}",
        answer.text().await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn analytics_draw_their_charts_export_what_they_show_and_print_a_report() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let (org, _) = server.demo().await;
    let item = server
        .publish(&org, "Our new plant opens", "<p>Two hundred jobs.</p>")
        .await;
    // Six people share on LinkedIn this month, five of them on X too.
    for n in 0..6 {
        let token = enrolled_employee(&server, &org, n).await;
        declare_share(&server, &token, &item, "linkedin", n).await;
        if n < 5 {
            declare_share(&server, &token, &item, "x", n).await;
        }
    }

    let browser = Browser::start("en").await;
    let d = &browser.driver;
    d.navigate(&sign_in_link(&server, &org, "lea.moreau@contoso.example").await)
        .await;
    d.wait_for("nav a[href='#/analytics']").await;
    d.click_css("nav a[href='#/analytics']").await;
    d.wait_for("[data-testid=figures]").await;
    see(d, "6 of 6 enrolled").await;
    // The trend: a point per month with figures (this month only), per series.
    let points = d
        .execute(
            "return [0, 1].map(i => document.querySelectorAll(`[data-testid=trend] circle[data-series='${i}']`).length)",
            json!([]),
        )
        .await;
    assert_eq!(points, json!([1, 1]));
    // By network: two bars, LinkedIn's six shares and X's five.
    d.wait_for("[data-testid=bars] rect").await;
    let values = d
        .execute(
            "return [...document.querySelectorAll('[data-testid=bars] rect')].map(r => Number(r.dataset.value))",
            json!([]),
        )
        .await;
    assert_eq!(values, json!([6, 5]));
    // The month's top ten, with the month before beside it.
    see(d, "Top ten, this month and the month before").await;
    let top = d.texts("ol.top li").await;
    assert_eq!(top.len(), 1, "{top:?}");
    assert!(
        top[0].contains("Our new plant opens") && top[0].contains("11 declared"),
        "{top:?}"
    );
    d.screenshot("console-12-analytics").await;

    // The CSV holds what the table shows.
    let rows = d
        .execute(
            "return [...document.querySelectorAll('[data-testid=breakdown-table] tbody tr')].map(tr => [...tr.cells].map(c => c.innerText))",
            json!([]),
        )
        .await;
    d.execute(
        "[...document.querySelectorAll('button')].filter(b => b.innerText.includes('Download CSV'))[1].click()",
        json!([]),
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let file = loop {
        let found = std::fs::read_dir(browser.downloads.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "csv"));
        if let Some(file) = found {
            break file;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no CSV was downloaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let csv = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "network,people,shares,verified,declared,clicks");
    let table: Vec<Vec<String>> = serde_json::from_value(rows).unwrap();
    assert_eq!(lines.len(), table.len() + 1, "{csv}");
    for (line, row) in lines[1..].iter().zip(&table) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0], row[0], "{csv}");
        assert_eq!(cells[1], row[1], "{csv}");
        assert_eq!(cells[2], row[2], "{csv}");
    }
    assert_eq!(lines[1], "LinkedIn,6,6,0,6,0");

    // The month's report, ready to print.
    d.click_css("a[href^='#/report/']").await;
    d.wait_for("[data-testid=report-figures]").await;
    let figures = d.texts("[data-testid=report-figures] td").await;
    assert_eq!(figures[2], "11", "{figures:?}");
    assert_eq!(
        d.find_all(".report svg.chart").await.len(),
        6,
        "the trend and five breakdowns"
    );
    d.screenshot("console-13-report").await;
    d.close().await;
}
