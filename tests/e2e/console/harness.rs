//! What the console's browser tests share: Chromium under chromedriver, form helpers, people,
//! sign-in links, a local feed and the demo employee's device.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use relay_client::secrets::MemoryStore;
use relay_client::Engine;
use relay_protocol::{NewPerson, Org, Role};
use serde_json::{json, Value};

use crate::engine::TestServer;
use crate::webdriver::WebDriver;

/// Chromium under chromedriver, headless, in a profile of its own.
pub struct Browser {
    pub driver: WebDriver,
    child: Child,
    _profile: tempfile::TempDir,
    /// Where downloads land.
    pub downloads: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver and every Chromium process it started share one process group: end them
        // all, so that a test that failed halfway leaves no browser behind.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether Chromium and chromedriver are here; under `CI=true` they must be.
pub fn chromium_available() -> bool {
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
    pub async fn start(lang: &str) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
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
pub async fn set(d: &WebDriver, css: &str, value: &str) {
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
pub async fn press(d: &WebDriver, label: &str) {
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

pub async fn see(d: &WebDriver, text: &str) {
    d.wait_until(
        &format!("the page shows {text:?}"),
        "return document.body.innerText.includes(arguments[0])",
        json!([text]),
    )
    .await;
}

pub async fn add_person(
    server: &TestServer,
    org: &Org,
    name: &str,
    email: &str,
    role: Role,
) -> String {
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

pub async fn sign_in_link(server: &TestServer, org: &Org, email: &str) -> String {
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
pub async fn feed_server() -> String {
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

/// An employee with a device, by plain HTTP: its access token.
pub async fn enrolled_employee(server: &TestServer, org: &Org, n: usize) -> String {
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

/// `GET path` on the server as the device holding `token`, its JSON answer.
pub async fn get_as<T: serde::de::DeserializeOwned>(
    server: &TestServer,
    token: &str,
    path: &str,
) -> T {
    reqwest::Client::new()
        .get(format!("{}{path}", server.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn declare_share(server: &TestServer, token: &str, item: &str, network: &str, n: usize) {
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

/// The demo employee's device (Alex Martin): the engine, enrolled with `code` and synced.
pub async fn alex_device(server: &TestServer, code: &str) -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let device = Engine::open(dir.path(), Arc::new(MemoryStore::default())).unwrap();
    device
        .enrol(&server.url(), code, "Alex's laptop")
        .await
        .unwrap();
    device.sync(&mut |_| {}).await.unwrap();
    (device, dir)
}
