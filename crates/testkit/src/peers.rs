//! The peers of a device in tests: the real relay-server (SQLite file, random port) in this
//! process, and a stub of a social network (the HTTP test network contract of
//! `relay_client::social`). Shared with the app's end-to-end tests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use relay_protocol::{Audience, ContentKind, NewContent, Org};
use relay_server::auth::store::TokenLifetimes;
use relay_server::{AppState, Config, Db};
use serde_json::{json, Value};

/// The real server over a SQLite file that outlives restarts.
pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub running: Option<relay_server::serve::Running>,
    pub tokens: TokenLifetimes,
    /// Relay's LinkedIn app (a stub's), for the brokered exchange.
    pub linkedin: Option<relay_server::social::linkedin::LinkedInConfig>,
    /// The company's OpenID provider, for company sign-in.
    pub oidc: Option<relay_server::auth::oidc::OidcConfig>,
    /// How long after a programme month ends its records are taken (see `draws.rs`).
    pub month_grace: chrono::Duration,
    /// Where the prize draw's beacon rounds come from (see `draws.rs`).
    pub beacon: relay_server::programme::draw::BeaconConfig,
    /// The PLC directory the server resolves Bluesky accounts through, when a test runs a PDS:
    /// the server then reads (confirms) the posts the device records.
    pub plc_directory: Option<String>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(TokenLifetimes::default()).await
    }

    pub async fn start_with(tokens: TokenLifetimes) -> TestServer {
        TestServer::start_configured(tokens, None, None).await
    }

    /// The server with Relay's LinkedIn app configured (a stub's endpoints).
    pub async fn start_with_linkedin(
        config: relay_server::social::linkedin::LinkedInConfig,
    ) -> TestServer {
        TestServer::start_configured(TokenLifetimes::default(), Some(config), None).await
    }

    /// The server with company sign-in through `config`'s provider.
    pub async fn start_with_oidc(config: relay_server::auth::oidc::OidcConfig) -> TestServer {
        TestServer::start_configured(TokenLifetimes::default(), None, Some(config)).await
    }

    async fn start_configured(
        tokens: TokenLifetimes,
        linkedin: Option<relay_server::social::linkedin::LinkedInConfig>,
        oidc: Option<relay_server::auth::oidc::OidcConfig>,
    ) -> TestServer {
        TestServer::start_calendar(tokens, linkedin, oidc, None).await
    }

    /// The server with a programme calendar of its own: the grace after a month ends, and the
    /// draw's beacon (see `draws.rs`).
    pub async fn start_calendar(
        tokens: TokenLifetimes,
        linkedin: Option<relay_server::social::linkedin::LinkedInConfig>,
        oidc: Option<relay_server::auth::oidc::OidcConfig>,
        calendar: Option<(
            chrono::Duration,
            relay_server::programme::draw::BeaconConfig,
        )>,
    ) -> TestServer {
        let (month_grace, beacon) = calendar.unwrap_or_else(|| {
            (
                chrono::Duration::hours(relay_server::app::DEFAULT_MONTH_GRACE_HOURS),
                Default::default(),
            )
        });
        // A port of its own from the start, so that the public URL (in tracked links and
        // enrolment links) is where the server really listens, across restarts.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap();
        let mut server = TestServer {
            dir: crate::sweep::tempdir(),
            addr,
            running: None,
            tokens,
            linkedin,
            oidc,
            month_grace,
            beacon,
            plc_directory: None,
        };
        server.up().await;
        server
    }

    /// The server reading Bluesky posts through the PDS's own PLC directory.
    pub async fn start_reading(plc_directory: &str) -> TestServer {
        let mut server = TestServer::start().await;
        server.plc_directory = Some(plc_directory.to_owned());
        server.down().await;
        server.up().await;
        server
    }

    /// Waits until the server has read every post recorded as pending (or 15 s).
    pub async fn confirmed(&self) {
        for _ in 0..150 {
            let pending: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM shares WHERE status = 'pending'")
                    .fetch_one(&self.state().db.read)
                    .await
                    .unwrap();
            if pending == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("posts still pending after 15 s");
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn db_url(&self) -> String {
        format!("sqlite:{}", self.dir.path().join("server.db").display())
    }

    /// (Re)starts on the same address.
    pub async fn up(&mut self) {
        crate::sweep::log_to_sweep();
        let db = Db::connect(&self.db_url()).await.unwrap();
        let state = AppState::new(
            db,
            Config {
                tokens: self.tokens,
                linkedin: self.linkedin.clone(),
                oidc: self.oidc.clone(),
                month_grace: self.month_grace,
                beacon: self.beacon.clone(),
                // Sources read the tests' own feeds, on this machine; shares are confirmed on
                // the tests' own PDS and Mastodon stubs (over plain HTTP), in quick rounds.
                sources: relay_server::sources::SourcesConfig {
                    fetch: relay_server::sources::fetch::FetchPolicy {
                        allow_private: true,
                        ..Default::default()
                    },
                    instance_scheme: "http".into(),
                    plc_directory: self
                        .plc_directory
                        .clone()
                        .unwrap_or_else(|| "http://127.0.0.1:9".into()),
                    bluesky_appview: "http://127.0.0.1:9".into(),
                    ..Default::default()
                },
                confirm: relay_server::shares::confirm::ConfirmConfig {
                    every: Duration::from_millis(200),
                    recheck_every: Duration::from_secs(1),
                    retry_after: Duration::from_millis(500),
                },
                // Web Push with a key of this run, to local receivers.
                push: relay_server::push::PushSettings {
                    web_push: Some(relay_server::push::WebPushConfig {
                        private_key: relay_server::push::WebPushConfig::generate().0,
                        subject: "mailto:push@relay.test".into(),
                    }),
                    local_endpoints: true,
                    ..Default::default()
                },
                // Tests and benchmarks enrol many devices from one address.
                ..Config::unlimited(&self.url())
            },
        );
        let mut tries = 0;
        let running = loop {
            match relay_server::serve::start(state.clone(), self.addr, Duration::from_millis(100))
                .await
            {
                Ok(r) => break r,
                Err(e) if tries < 50 => {
                    tries += 1;
                    tracing::debug!(error = %e, "port busy, retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot restart the server: {e}"),
            }
        };
        self.addr = running.addr;
        self.running = Some(running);
    }

    pub async fn down(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    pub fn state(&self) -> &AppState {
        &self.running.as_ref().expect("server is up").state
    }

    pub async fn demo(&self) -> (Org, String) {
        let enrolment = relay_server::demo::ensure(self.state()).await.unwrap();
        let org = relay_server::orgs::by_slug(&self.state().db, "contoso")
            .await
            .unwrap();
        (org, enrolment.code)
    }

    pub async fn person_id(&self, org: &Org, email: &str) -> String {
        relay_server::people::find_by_email(&self.state().db, &org.id, email)
            .await
            .unwrap()
            .id
    }

    pub async fn channel_id(&self, org: &Org, slug: &str) -> String {
        relay_server::channels::list_all(&self.state().db, &org.id)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.slug == slug)
            .unwrap()
            .id
    }

    /// A curator publishes an English item for everyone.
    pub async fn publish(&self, org: &Org, title: &str, body: &str) -> String {
        self.publish_with(org, title, body, |_| {}).await
    }

    /// Publishes an item after `edit` changed what it holds (image, language, wordings...).
    pub async fn publish_with(
        &self,
        org: &Org,
        title: &str,
        body: &str,
        edit: impl FnOnce(&mut NewContent),
    ) -> String {
        let channel_id = self.channel_id(org, "corporate-news").await;
        let mut new = NewContent {
            kind: ContentKind::Article,
            channel_id,
            title: title.into(),
            summary: String::new(),
            body_html: body.into(),
            url: "https://news.contoso.example/en/test".into(),
            image_url: None,
            language: "en".into(),
            suggested_texts: vec![],
            audience: Audience::default(),
            publish_at: None,
            expires_at: None,
        };
        edit(&mut new);
        let created = relay_server::content::store::create(self.state(), &org.id, None, new)
            .await
            .unwrap();
        relay_server::content::store::approve(self.state(), &org.id, None, &created.item.id)
            .await
            .unwrap();
        created.item.id
    }

    pub async fn retract(&self, org: &Org, id: &str, reason: &str) {
        relay_server::content::store::retract(self.state(), &org.id, None, id, reason)
            .await
            .unwrap();
    }

    /// How many people have this e-mail address (in every organisation).
    pub async fn people_with_email(&self, email: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM people WHERE email = $1")
            .bind(email)
            .fetch_one(&self.state().db.read)
            .await
            .unwrap()
    }

    pub async fn share_records(&self) -> Vec<(String, String)> {
        sqlx::query_as("SELECT share_id, item_id FROM shares ORDER BY share_id")
            .fetch_all(&self.state().db.read)
            .await
            .unwrap()
    }
}

/// A stub of a social network: the HTTP test network contract. Not a real network (none can
/// run here until the networks issue); it honours idempotency keys like Mastodon does.
#[derive(Clone, Default)]
pub struct StubNetwork {
    pub posts: Arc<Mutex<HashMap<String, Value>>>,
    /// Requests that created a post (a resend with the same key creates none).
    pub created: Arc<AtomicU64>,
    pub requests: Arc<AtomicU64>,
    pub down: Arc<AtomicBool>,
    pub delay_ms: Arc<AtomicU64>,
    pub token: Arc<Mutex<String>>,
}

impl StubNetwork {
    pub async fn start(token: &str) -> (StubNetwork, String) {
        let stub = StubNetwork::default();
        *stub.token.lock().unwrap() = token.to_owned();
        let app = Router::new()
            .route("/posts", post(create_post))
            .route("/posts/by-key/{key}", get(find_post))
            .with_state(stub.clone());
        (stub, serve(app).await)
    }

    pub fn post_count(&self) -> usize {
        self.posts.lock().unwrap().len()
    }
}

fn authorised(stub: &StubNetwork, headers: &HeaderMap) -> bool {
    bearer(headers) == *stub.token.lock().unwrap()
}

/// Serves `app` on 127.0.0.1 at a free port, for the test's life; answers its base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A request's bearer token ("" when it has none).
pub fn bearer(headers: &HeaderMap) -> &str {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
}

async fn create_post(
    State(stub): State<StubNetwork>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    stub.requests.fetch_add(1, Ordering::SeqCst);
    if stub.down.load(Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "down"})),
        );
    }
    if !authorised(&stub, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "bad token"})),
        );
    }
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "no idempotency key"})),
        );
    };
    let delay = stub.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mut posts = stub.posts.lock().unwrap();
    let post = posts
        .entry(key.clone())
        .or_insert_with(|| {
            stub.created.fetch_add(1, Ordering::SeqCst);
            json!({"id": format!("post-{key}"), "url": format!("https://social.test/@me/{key}"), "text": body["text"], "link": body["url"]})
        })
        .clone();
    (
        StatusCode::OK,
        Json(json!({"id": post["id"], "url": post["url"]})),
    )
}

async fn find_post(
    State(stub): State<StubNetwork>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> (StatusCode, Json<Value>) {
    if stub.down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({})));
    }
    if !authorised(&stub, &headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    match stub.posts.lock().unwrap().get(&key) {
        Some(post) => (
            StatusCode::OK,
            Json(json!({"id": post["id"], "url": post["url"]})),
        ),
        None => (StatusCode::NOT_FOUND, Json(json!({}))),
    }
}
