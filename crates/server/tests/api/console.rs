//! The console's browser sessions over real HTTP: one-time links, the cookie's attributes, CSRF
//! on every write, the idle timeout, sign-out, departure and demotion.

use std::time::Duration;

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::*;
use crate::newsroom::*;

crate::both_backends!(
    a_link_signs_a_browser_in_once_with_a_strict_http_only_cookie,
    writes_need_the_csrf_token_and_reads_do_not,
    sessions_end_at_sign_out_idle_departure_and_demotion,
    a_console_stream_ends_at_sign_out_and_a_console_registers_no_push,
    employees_get_no_console,
);

/// A browser: its session cookie, and the CSRF token its page holds.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl Browser {
    async fn sign_in(
        server: &Server,
        token: &str,
    ) -> Result<(Browser, String), (StatusCode, Value)> {
        let http = reqwest::Client::new();
        let answer = http
            .post(format!("{}/v1/console/session", server.base))
            .json(&json!({ "token": token }))
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let set_cookie = answer
            .headers()
            .get(SET_COOKIE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = answer.json().await.unwrap();
        if status != StatusCode::OK {
            assert!(set_cookie.is_none(), "a refusal sets no cookie");
            return Err((status, body));
        }
        let set_cookie = set_cookie.expect("a session cookie");
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let session: ConsoleSession = serde_json::from_value(body).unwrap();
        // The session's token and its CSRF token must be in no database or log the tests keep.
        crate::sweep::note(cookie.trim_start_matches("relay_console="));
        crate::sweep::note(&session.csrf_token);
        crate::sweep::note(token);
        Ok((
            Browser {
                base: server.base.clone(),
                http,
                cookie,
                csrf: session.csrf_token,
            },
            set_cookie,
        ))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        csrf: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie);
        if let Some(csrf) = csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status();
        let text = answer.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn write(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(method, path, Some(body), Some(&self.csrf.clone()))
            .await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None, None).await
    }
}

async fn link_for(room: &Newsroom, person: &Person) -> String {
    let link = relay_server::console::links::create(
        room.server.db(),
        &room.org.id,
        person,
        &room.server.state().config.public_url,
        Duration::from_secs(900),
    )
    .await
    .unwrap();
    let (page, token) = link
        .split_once("#/signin/")
        .expect("the token after the fragment");
    let public = &room.server.state().config.public_url;
    assert_eq!(page, format!("{public}/console/"), "{link}");
    token.to_owned()
}

async fn curator(room: &Newsroom, name: &str) -> Person {
    let client = room
        .server
        .person(&room.org, name, Role::Curator, "FR", "fr", "Comms")
        .await;
    client.person().clone()
}

async fn a_link_signs_a_browser_in_once_with_a_strict_http_only_cookie(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let cleo = curator(&room, "Cleo Curator").await;
    let token = link_for(&room, &cleo).await;

    let (browser, set_cookie) = Browser::sign_in(&room.server, &token).await.unwrap();
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert!(
        attributes[0].starts_with("relay_console=rls_"),
        "{set_cookie}"
    );
    for wanted in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&wanted), "{wanted} in {set_cookie}");
    }
    // The tests' server says it is reached at http://relay.test: not this machine, so the
    // cookie only travels over HTTPS (on loopback it could not be Secure: see the unit tests).
    assert!(attributes.contains(&"Secure"), "{set_cookie}");
    assert!(
        !set_cookie.contains(&token),
        "the link's token is not the session's"
    );

    let (status, me) = browser.get("/v1/console/session").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["person"]["email"], cleo.email);
    assert_eq!(
        me["csrf_token"], browser.csrf,
        "a reloaded page gets the same CSRF token"
    );
    let (status, items) = browser.get("/v1/content?state=draft").await;
    assert_eq!(status, StatusCode::OK, "{items}");

    // Once only, whoever tries: the same browser, another, or a replay at the same time.
    let again = Browser::sign_in(&room.server, &token).await.err().unwrap();
    assert_eq!(again.0, StatusCode::UNAUTHORIZED);
    assert_eq!(again.1["code"], "sign_in_refused");
    let second = link_for(&room, &cleo).await;
    let (a, b) = tokio::join!(
        Browser::sign_in(&room.server, &second),
        Browser::sign_in(&room.server, &second)
    );
    assert_eq!(
        usize::from(a.is_ok()) + usize::from(b.is_ok()),
        1,
        "two browsers racing one link: one session"
    );
    let forged = Browser::sign_in(&room.server, "rlc_forged")
        .await
        .err()
        .unwrap();
    assert_eq!(forged.0, StatusCode::UNAUTHORIZED);
    let sessions: i64 = room.count("console_sessions").await;
    assert_eq!(sessions, 2);
    let stored: Vec<(String,)> = sqlx::query_as("SELECT hash FROM console_sessions")
        .fetch_all(&room.server.db().read)
        .await
        .unwrap();
    let raw = browser.cookie.trim_start_matches("relay_console=");
    assert!(stored.iter().all(|(h,)| h != raw), "only hashes are stored");

    // An expired link.
    let old = link_for(&room, &cleo).await;
    sqlx::query("UPDATE console_links SET expires_at = 0 WHERE used_at IS NULL")
        .execute(&room.server.db().write)
        .await
        .unwrap();
    assert_eq!(
        Browser::sign_in(&room.server, &old).await.err().unwrap().0,
        StatusCode::UNAUTHORIZED
    );
}

async fn writes_need_the_csrf_token_and_reads_do_not(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let cleo = curator(&room, "Cleo Curator").await;
    let (browser, _) = Browser::sign_in(&room.server, &link_for(&room, &cleo).await)
        .await
        .unwrap();
    let draft = serde_json::to_value(article(&room.news, "From the console")).unwrap();
    let before: i64 = room.count("items").await;

    // A page of another site can make the browser send its cookie (were SameSite absent) but
    // cannot read the token: no header, a wrong one, or another session's are all refused.
    let (status, problem) = browser
        .send(Method::POST, "/v1/content", Some(draft.clone()), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("CSRF"),
        "{problem}"
    );
    let (status, _) = browser
        .send(
            Method::POST,
            "/v1/content",
            Some(draft.clone()),
            Some("rlx_guess"),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (other, _) = Browser::sign_in(&room.server, &link_for(&room, &cleo).await)
        .await
        .unwrap();
    let (status, _) = browser
        .send(
            Method::POST,
            "/v1/content",
            Some(draft.clone()),
            Some(&other.csrf),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = browser
        .send(Method::DELETE, "/v1/console/session", None, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "signing out is a write too");
    assert_eq!(room.count("items").await, before, "nothing was written");

    let (status, created) = browser.write(Method::POST, "/v1/content", draft).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let (status, approved) = browser
        .write(
            Method::POST,
            &format!("/v1/content/{id}/approve"),
            json!(null),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    let audit: Vec<AuditEntry> = room.admin.get(&format!("/v1/audit?subject_id={id}")).await;
    assert!(
        audit
            .iter()
            .all(|e| e.actor_id.as_deref() == Some(cleo.id.as_str())),
        "the console's writes are the curator's: {audit:?}"
    );
    let filtered: Vec<AuditEntry> = room.admin.get("/v1/audit?action=console.").await;
    assert!(!filtered.is_empty() && filtered.iter().all(|e| e.action.starts_with("console.")));

    // What only devices do is refused to the console, CSRF token or not.
    let (status, problem) = browser
        .write(
            Method::POST,
            "/v1/shares",
            json!({"share_id": "00000000-0000-4000-8000-000000000000", "item_id": id,
                   "network": "x", "proof": "declared", "shared_at": "2026-12-01T10:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert_eq!(browser.get("/v1/sync").await.0, StatusCode::FORBIDDEN);
    assert_eq!(room.count("shares").await, 0);

    // A device's bearer token needs no CSRF token (no browser sends it by itself), and the
    // cookie is not read when a bearer token is there.
    let (status, _) = {
        let a = room
            .admin
            .send(
                Method::POST,
                "/v1/content",
                Some(&article(&room.news, "By API")),
            )
            .await;
        (a.status, a.body)
    };
    assert_eq!(status, StatusCode::CREATED);
}

async fn sessions_end_at_sign_out_idle_departure_and_demotion(backend: Backend) {
    let options = Options {
        console: relay_server::console::ConsoleConfig {
            idle: Duration::from_secs(2),
            ..Default::default()
        },
        ..Options::default()
    };
    let room = Newsroom::with(backend, options).await;
    let cleo = curator(&room, "Cleo Curator").await;

    // Sign-out: the cookie is removed and the session ends on the server.
    let (browser, _) = Browser::sign_in(&room.server, &link_for(&room, &cleo).await)
        .await
        .unwrap();
    let answer = browser
        .http
        .delete(format!("{}/v1/console/session", room.server.base))
        .header(COOKIE, &browser.cookie)
        .header("X-CSRF-Token", &browser.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    let cleared = answer.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cleared.starts_with("relay_console=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let (status, problem) = browser.get("/v1/content").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a copied cookie dies with the session"
    );
    assert_eq!(problem["code"], "session_ended");

    // Idle: requests keep a session alive; silence longer than the timeout ends it.
    let (browser, _) = Browser::sign_in(&room.server, &link_for(&room, &cleo).await)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, problem) = browser.get("/v1/content").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("expired"),
        "{problem}"
    );

    // Demotion and departure end every console session of the person at their next request.
    let (browser, _) = Browser::sign_in(&room.server, &link_for(&room, &cleo).await)
        .await
        .unwrap();
    room.admin
        .send_ok::<_, Person>(
            Method::PATCH,
            &format!("/v1/people/{}", cleo.id),
            Some(&json!({ "role": "employee" })),
        )
        .await;
    assert_eq!(browser.get("/v1/content").await.0, StatusCode::FORBIDDEN);
    room.admin
        .send_ok::<_, Person>(
            Method::PATCH,
            &format!("/v1/people/{}", cleo.id),
            Some(&json!({ "role": "curator" })),
        )
        .await;
    assert_eq!(browser.get("/v1/content").await.0, StatusCode::OK);
    room.admin
        .send_ok::<_, Person>(
            Method::PATCH,
            &format!("/v1/people/{}", cleo.id),
            Some(&json!({ "active": false })),
        )
        .await;
    assert_eq!(browser.get("/v1/content").await.0, StatusCode::UNAUTHORIZED);
}

async fn employees_get_no_console(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let refused = relay_server::console::links::create(
        room.server.db(),
        &room.org.id,
        eve.person(),
        &room.server.base,
        Duration::from_secs(900),
    )
    .await
    .unwrap_err();
    assert!(
        refused.to_string().contains("curators and admins"),
        "{refused}"
    );
    // A link made while she was a curator does not open once she is an employee.
    let cleo = curator(&room, "Cleo Curator").await;
    let token = link_for(&room, &cleo).await;
    room.admin
        .send_ok::<_, Person>(
            Method::PATCH,
            &format!("/v1/people/{}", cleo.id),
            Some(&json!({ "role": "employee" })),
        )
        .await;
    let (status, problem) = Browser::sign_in(&room.server, &token).await.err().unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    // A device session cannot pose as a console session.
    let answer = eve
        .send::<()>(Method::GET, "/v1/console/session", None)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

/// The app itself: served by the server, with a policy that runs only the server's scripts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_with_a_strict_policy() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = Server::start(&db).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bare = http
        .get(format!("{}/console", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.headers()["location"], "/console/");

    let page = http
        .get(format!("{}/console/", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert!(headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    let html = page.text().await.unwrap();
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .filter(|s| s.starts_with("/console/assets/"))
        .unwrap_or_else(|| {
            panic!(
                "the console is not built into this server (scripts/lib.sh build_console): {html}"
            )
        });
    let js = http
        .get(format!("{}{script}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert!(js.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(js.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let missing = http
        .get(format!("{}/console/assets/nothing.js", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let escape = http
        .get(format!("{}/console/..%2F..%2FCargo.toml", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(escape.status(), StatusCode::NOT_FOUND);
}

/// A company sign-in that this browser did not start (login CSRF), or that the provider
/// refused, lands on the sign-in page with the reason and no session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_sign_in_not_started_here_opens_nothing() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = Server::start(&db).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (query, cookie) in [
        ("code=stolen&state=abc", None),
        ("code=stolen&state=abc", Some("relay_console_oidc=rlc_mine")),
        ("error=access_denied", Some("relay_console_oidc=rlc_mine")),
    ] {
        let mut request = http.get(format!("{}/console/oidc/callback?{query}", server.base));
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{query}");
        let location = answer.headers()["location"].to_str().unwrap();
        assert!(
            location.starts_with("/console/#/signin?error="),
            "{location}"
        );
        let cookies: Vec<&str> = answer
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert!(
            cookies.iter().all(|c| !c.starts_with("relay_console=")),
            "no session: {cookies:?}"
        );
        assert!(
            cookies
                .iter()
                .any(|c| c.starts_with("relay_console_oidc=;")),
            "the flow's cookie is cleared: {cookies:?}"
        );
    }
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_sessions")
        .fetch_one(&server.db().read)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    // Without a provider configured there is no company sign-in to start.
    let start = http
        .get(format!("{}/console/oidc/start", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::NOT_FOUND);
}

type Body =
    std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>;

/// A console browser's live event stream.
async fn stream_of(browser: &Browser) -> Body {
    let answer = browser
        .http
        .get(format!("{}/v1/events", browser.base))
        .header(COOKIE, &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    Box::pin(answer.bytes_stream())
}

/// Whether the server ends the stream within `wait`.
async fn ends_within(stream: &mut Body, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, futures::StreamExt::next(stream)).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

async fn a_console_stream_ends_at_sign_out_and_a_console_registers_no_push(backend: Backend) {
    let room = Newsroom::with(backend, Options::default()).await;
    let cleo = curator(&room, "Cleo Curator").await;
    let (browser, _) = Browser::sign_in(&room.server, &link_for(&room, &cleo).await)
        .await
        .unwrap();
    // A browser session cannot register a push channel: nothing would ever use or remove it.
    let channel = serde_json::json!({"kind": "fcm", "token": "browser-token"});
    let (status, problem) = browser.write(Method::PUT, "/v1/me/push", channel).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    let channels: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM push_channels")
        .fetch_one(&room.server.db().read)
        .await
        .unwrap();
    assert_eq!(channels, 0);

    // Two browsers' live streams; one signs out: its stream ends at once, the other's stays.
    let mut stream = stream_of(&browser).await;
    let (other, _) = Browser::sign_in(&room.server, &link_for(&room, &cleo).await)
        .await
        .unwrap();
    let mut other_stream = stream_of(&other).await;
    assert!(!ends_within(&mut stream, Duration::from_millis(300)).await);
    let (status, _) = browser
        .send(
            Method::DELETE,
            "/v1/console/session",
            None,
            Some(&browser.csrf.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        ends_within(&mut stream, Duration::from_secs(3)).await,
        "a signed-out console's stream ends"
    );
    assert!(
        !ends_within(&mut other_stream, Duration::from_millis(500)).await,
        "another browser's session goes on"
    );
}
