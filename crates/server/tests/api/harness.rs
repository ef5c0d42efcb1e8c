//! Test harness: a fresh database per test (a SQLite file in a temp folder, or a new database
//! on the PostgreSQL server of `DATABASE_URL`), the real server on a random port, and a small
//! HTTP client that speaks its API.

use std::collections::BTreeMap;
use std::time::Duration;

use relay_protocol::*;
use relay_server::auth::store::TokenLifetimes;
use relay_server::db::Backend;
use relay_server::serve::Running;
use relay_server::{AppState, Config, Db};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub const PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Runs the same test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(relay_server::db::Backend::Sqlite).await })+
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if $crate::harness::postgres_available().await {
                    super::$name(relay_server::db::Backend::Postgres).await
                }
            })+
        }
    };
}

/// Whether PostgreSQL answers. When it does not, says so loudly; under `CI=true` that fails.
pub async fn postgres_available() -> bool {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| PG_DEFAULT.into());
    sqlx::any::install_default_drivers();
    let connect = async {
        use sqlx::Connection;
        sqlx::AnyConnection::connect(&url).await?.close().await
    };
    let ok = matches!(
        tokio::time::timeout(Duration::from_secs(5), connect).await,
        Ok(Ok(()))
    );
    if !ok {
        let msg = format!("PostgreSQL is not reachable at {url}: PostgreSQL test SKIPPED");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg} (a failure under CI=true)");
        }
        eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
        crate::sweep::note_skipped(&msg);
    }
    ok
}

/// A database made for one test and dropped after it.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        sqlx::any::install_default_drivers();
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite:{}", dir.path().join("relay.db").display());
                TestDb {
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                use sqlx::{Connection, Executor};
                let admin = std::env::var("DATABASE_URL").unwrap_or_else(|_| PG_DEFAULT.into());
                let name = format!("relay_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::AnyConnection::connect(&admin)
                    .await
                    .expect("connect to PostgreSQL");
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .unwrap();
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin).unwrap();
                url.set_path(&name);
                TestDb {
                    url: url.into(),
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Best effort, on a thread of its own: Drop cannot await.
            let admin = std::env::var("DATABASE_URL").unwrap_or_else(|_| PG_DEFAULT.into());
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    use sqlx::{Connection, Executor};
                    if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin).await {
                        let _ = conn
                            .execute(
                                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                            )
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

pub struct Options {
    pub access_ttl: chrono::Duration,
    pub refresh_grace: chrono::Duration,
    pub clock: Duration,
    pub linkedin: Option<relay_server::social::linkedin::LinkedInConfig>,
    pub attempts: relay_server::auth::AttemptQuota,
    pub oidc: Option<relay_server::auth::oidc::OidcConfig>,
    /// How long after a programme month ends its records are taken.
    pub month_grace: chrono::Duration,
    /// Where the draw's beacon rounds come from.
    pub beacon: relay_server::programme::draw::BeaconConfig,
    /// Sources reach the tests' local servers; no poller unless a test asks for one.
    pub sources: relay_server::sources::SourcesConfig,
    /// How shares are confirmed (quick rounds here).
    pub confirm: relay_server::shares::confirm::ConfirmConfig,
    /// Console sessions' idle timeout and lifetime.
    pub console: relay_server::console::ConsoleConfig,
    /// Push services (none unless a test points them at its local receivers).
    pub push: relay_server::push::PushSettings,
    /// Reverse proxies whose `X-Forwarded-For` is believed (none).
    pub trusted_proxies: relay_server::proxies::TrustedProxies,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            access_ttl: chrono::Duration::hours(1),
            refresh_grace: TokenLifetimes::default().refresh_grace,
            clock: Duration::from_millis(100),
            linkedin: None,
            // Tests enrol many devices from one address; the limits' own test sets its quota.
            attempts: relay_server::auth::AttemptQuota {
                per_address: u32::MAX,
                per_org: u32::MAX,
            },
            oidc: None,
            month_grace: chrono::Duration::hours(relay_server::app::DEFAULT_MONTH_GRACE_HOURS),
            beacon: Default::default(),
            sources: relay_server::sources::SourcesConfig {
                fetch: relay_server::sources::fetch::FetchPolicy {
                    allow_private: true,
                    allowed: Vec::new(),
                    timeout: Duration::from_secs(2),
                },
                poll_every: None,
                ..Default::default()
            },
            confirm: relay_server::shares::confirm::ConfirmConfig {
                every: Duration::from_millis(200),
                recheck_every: Duration::from_secs(1),
                retry_after: Duration::from_millis(300),
            },
            console: Default::default(),
            push: Default::default(),
            trusted_proxies: Default::default(),
        }
    }
}

/// The real server, on 127.0.0.1 and a free port, over a test database.
pub struct Server {
    pub running: Running,
    pub base: String,
    pub http: reqwest::Client,
}

impl Server {
    pub async fn start(db: &TestDb) -> Server {
        Server::start_with(db, Options::default()).await
    }

    pub async fn start_with(db: &TestDb, options: Options) -> Server {
        let pool = Db::connect(&db.url).await.expect("open test database");
        let config = Config {
            tokens: TokenLifetimes {
                access: options.access_ttl,
                refresh_grace: options.refresh_grace,
                ..TokenLifetimes::default()
            },
            linkedin: options.linkedin.clone(),
            oidc: options.oidc.clone(),
            attempts: options.attempts,
            month_grace: options.month_grace,
            beacon: options.beacon.clone(),
            sources: options.sources.clone(),
            confirm: options.confirm.clone(),
            console: options.console,
            push: options.push.clone(),
            trusted_proxies: options.trusted_proxies.clone(),
            ..Config::unlimited("http://relay.test")
        };
        let state = AppState::new(pool, config);
        let running =
            relay_server::serve::start(state, "127.0.0.1:0".parse().unwrap(), options.clock)
                .await
                .expect("start server");
        let base = running.base_url();
        Server {
            running,
            base,
            http: reqwest::Client::new(),
        }
    }

    pub fn state(&self) -> &AppState {
        &self.running.state
    }

    pub fn db(&self) -> &Db {
        &self.running.state.db
    }

    pub fn anonymous(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: self.http.clone(),
            token: None,
            session: None,
        }
    }

    /// Creates an organisation with the five demo channels' worth of structure: one channel per
    /// slug given, and returns it.
    pub async fn org(&self, slug: &str) -> Org {
        relay_server::orgs::create(self.db(), &format!("Org {slug}"), slug)
            .await
            .unwrap()
    }

    pub async fn channel(&self, org: &Org, slug: &str) -> Channel {
        let names = BTreeMap::from([("en".to_owned(), slug.to_owned())]);
        relay_server::channels::create(
            self.state(),
            &org.id,
            None,
            NewChannel {
                slug: slug.into(),
                names,
            },
        )
        .await
        .unwrap()
    }

    /// Adds a person and enrols a device for them; returns a client signed in as them.
    pub async fn person(
        &self,
        org: &Org,
        name: &str,
        role: Role,
        country: &str,
        language: &str,
        department: &str,
    ) -> Client {
        let email = format!(
            "{}@{}.test",
            name.to_lowercase().replace(' ', "."),
            org.slug
        );
        let person = relay_server::people::add(
            self.db(),
            &org.id,
            None,
            NewPerson {
                name: name.into(),
                email,
                country: country.into(),
                language: language.into(),
                department: department.into(),
                role,
            },
        )
        .await
        .unwrap();
        self.enrol(org, &person.id).await
    }

    pub async fn enrol(&self, org: &Org, person_id: &str) -> Client {
        let enrolment = self.enrolment(org, person_id).await;
        self.anonymous().enrol(enrolment.code, "Test laptop").await
    }

    pub async fn enrolment(&self, org: &Org, person_id: &str) -> Enrolment {
        let mut tx = self.db().begin().await.unwrap();
        let enrolment = relay_server::auth::store::create_enrolment(
            &mut tx,
            &org.id,
            person_id,
            None,
            "http://relay.test",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        enrolment
    }
}

/// An HTTP client of the API, optionally signed in.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
    pub session: Option<EnrolResponse>,
}

/// A response read whole: status, content type and body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub cache_control: Option<String>,
    pub retry_after: Option<String>,
    pub body: Value,
}

impl Answer {
    pub fn problem(&self) -> Problem {
        assert_eq!(self.content_type, "application/problem+json", "{self:?}");
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("not a problem ({e}): {self:?}"))
    }
}

impl Client {
    /// A device of the server at `base` (a server binary's, say), not enrolled yet.
    pub fn anonymous_at(base: &str) -> Client {
        Client {
            base: base.to_owned(),
            http: reqwest::Client::new(),
            token: None,
            session: None,
        }
    }

    /// This device enrolled with `code`.
    pub async fn enrol(mut self, code: String, device_name: &str) -> Client {
        let response: EnrolResponse = self
            .send_ok(
                Method::POST,
                "/v1/enrol",
                Some(&EnrolRequest {
                    code,
                    device_name: device_name.into(),
                    platform: "linux".into(),
                }),
            )
            .await;
        self.token = Some(response.session.access_token.clone());
        self.session = Some(response);
        self
    }

    pub fn person(&self) -> &Person {
        &self.session.as_ref().unwrap().person
    }

    pub fn device_id(&self) -> &str {
        &self.session.as_ref().unwrap().session.device_id
    }

    pub async fn send<B: Serialize>(&self, method: Method, path: &str, body: Option<&B>) -> Answer {
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        read(request.send().await.expect("request")).await
    }

    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        read(request.send().await.expect("request")).await
    }

    /// Sends and expects a 2xx answer, decoded.
    pub async fn send_ok<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> T {
        let answer = self.send(method.clone(), path, body).await;
        assert!(answer.status.is_success(), "{method} {path}: {answer:?}");
        serde_json::from_value(answer.body).unwrap()
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> T {
        self.send_ok::<(), T>(Method::GET, path, None).await
    }

    pub async fn sync_page(&self, cursor: Option<&str>, limit: u32) -> SyncPage {
        let mut path = format!("/v1/sync?limit={limit}");
        if let Some(c) = cursor {
            path.push_str(&format!("&cursor={}", urlencode(c)));
        }
        self.get(&path).await
    }

    pub async fn create_content(&self, new: &NewContent) -> CuratedContent {
        self.send_ok(Method::POST, "/v1/content", Some(new)).await
    }

    pub async fn approve(&self, id: &str) -> CuratedContent {
        self.send_ok::<(), _>(Method::POST, &format!("/v1/content/{id}/approve"), None)
            .await
    }

    pub async fn publish(&self, new: &NewContent) -> CuratedContent {
        let created = self.create_content(new).await;
        self.approve(&created.item.id).await
    }
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn read(response: reqwest::Response) -> Answer {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let cache_control = header("cache-control");
    let retry_after = header("retry-after");
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Answer {
        status,
        content_type,
        cache_control,
        retry_after,
        body,
    }
}

/// A minimal content item in `channel`.
pub fn article(channel: &Channel, title: &str) -> NewContent {
    NewContent {
        kind: ContentKind::Article,
        channel_id: channel.id.clone(),
        title: title.into(),
        summary: format!("Summary of {title}"),
        body_html: format!("<p>{title}</p>"),
        url: format!(
            "https://news.example.com/{}",
            title.to_lowercase().replace(' ', "-")
        ),
        image_url: None,
        language: "en".into(),
        suggested_texts: vec![],
        audience: Audience::default(),
        publish_at: None,
        expires_at: None,
    }
}

/// The usual cast: an organisation with a "news" channel, a curator and an employee (both
/// in France, speaking French), on a fresh database.
pub struct Acme {
    pub _db: TestDb,
    /// Kept so that the server runs as long as the test.
    pub _server: Server,
    pub news: Channel,
    pub curator: Client,
    pub employee: Client,
}

impl Acme {
    pub async fn new(backend: relay_server::db::Backend) -> Acme {
        let db = TestDb::new(backend).await;
        let server = Server::start(&db).await;
        let org = server.org("acme").await;
        let news = server.channel(&org, "news").await;
        let curator = server
            .person(&org, "Cora Curator", Role::Curator, "FR", "fr", "Comms")
            .await;
        let employee = server
            .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
            .await;
        Acme {
            _db: db,
            _server: server,
            news,
            curator,
            employee,
        }
    }
}

/// A browser on another machine than the sharer's devices (whose own clicks do not count): its
/// requests come from 127.0.0.`host`, and it follows no redirect.
pub fn browser(host: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
            127, 0, 0, host,
        )))
        .build()
        .unwrap()
}

/// A port free a moment ago (for a process the test starts, which binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A process' output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
