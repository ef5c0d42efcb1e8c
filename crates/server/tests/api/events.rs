//! Live events: Server-Sent Events announce new versions, across server instances too.

use std::time::Duration;

use futures::StreamExt;
use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::Method;

use crate::harness::*;
use crate::replica::*;

crate::both_backends!(
    an_approval_is_announced_to_connected_devices,
    drafts_move_no_feed_and_wake_no_device,
    a_stream_ends_with_its_session,
    stopping_the_server_ends_streams_and_background_tasks,
);

/// The devices of every instance over one PostgreSQL sync on that one database, so each
/// instance spreads an announcement's syncs over the deployment's streams, not its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_over_postgres_spread_syncs_over_the_whole_deployment() {
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let first = Server::start(&db).await;
    let second = Server::start(&db).await;
    let org = first.org("acme").await;
    let device = first
        .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let mut on_first = Vec::new();
    for _ in 0..3 {
        on_first.push(EventStream::open(&device).await);
    }
    let mut elsewhere = device.clone();
    elsewhere.base = second.base.clone();
    let _on_second = EventStream::open(&elsewhere).await;
    // One stream of its own is a millisecond; the first instance's three are told within
    // STREAMS_EVERY (5 s).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let spread = |server: &Server| server.state().events.spread_ms();
    while spread(&second) != 4 || spread(&first) != 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "each instance counts the other's streams: {} / {}",
            spread(&first),
            spread(&second)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(on_first);
    second.running.stop().await;
    first.running.stop().await;
}

async fn stopping_the_server_ends_streams_and_background_tasks(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let device = server
        .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let mut stream = EventStream::open(&device).await;
    assert!(stream.next_version(Duration::from_secs(5)).await.is_some());
    let stopping = tokio::spawn(server.running.stop());
    // Its devices reconnect to the other instances within a window (here, with one stream,
    // a millisecond), not all at once.
    assert_eq!(
        stream.end_within(Duration::from_secs(5)).await,
        End::Ended(Some(ReconnectEvent { within_ms: 1 })),
        "the stream ends when the server stops, telling the device when to reconnect"
    );
    let clean = tokio::time::timeout(Duration::from_secs(20), stopping)
        .await
        .expect("the server stops")
        .unwrap();
    assert!(
        clean,
        "the listener, the clock and the PostgreSQL listener ended by themselves"
    );
}

/// Drafts never reach devices: creating, editing, scheduling or discarding one moves no feed
/// version, so no device is woken; the next publication is the very next version.
async fn drafts_move_no_feed_and_wake_no_device(backend: Backend) {
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
    let mut stream = EventStream::open(&employee).await;
    let head = stream
        .next_version(Duration::from_secs(5))
        .await
        .expect("the current version at once");
    let sync_head = |client: Client| async move {
        let page: SyncPage = client.get("/v1/sync?limit=10").await;
        page.cursor
    };
    let cursor = sync_head(employee.clone()).await;

    let draft = curator.create_content(&article(&news, "Draft")).await;
    for title in ["Draft, edited", "Draft, edited again"] {
        curator
            .send_ok::<_, CuratedContent>(
                Method::PATCH,
                &format!("/v1/content/{}", draft.item.id),
                Some(&serde_json::json!({ "title": title })),
            )
            .await;
    }
    let mut later = article(&news, "Scheduled");
    later.publish_at = Some(chrono::Utc::now() + chrono::Duration::days(2));
    let scheduled = curator.create_content(&later).await;
    curator.approve(&scheduled.item.id).await;
    curator
        .send_ok::<_, CuratedContent>(
            Method::PATCH,
            &format!("/v1/content/{}", scheduled.item.id),
            Some(&serde_json::json!({ "title": "Scheduled, retitled" })),
        )
        .await;
    let discarded = curator.create_content(&article(&news, "Discarded")).await;
    curator
        .send_ok::<_, CuratedContent>(
            Method::POST,
            &format!("/v1/content/{}/retract", discarded.item.id),
            Some(&RetractRequest::default()),
        )
        .await;
    assert_eq!(
        stream.next_version(Duration::from_millis(1500)).await,
        None,
        "no device is woken by drafts"
    );
    assert_eq!(
        sync_head(employee.clone()).await,
        cursor,
        "the feed did not move"
    );

    // The draft approved: now devices hear of it, at the very next version.
    let approved = curator.approve(&draft.item.id).await;
    assert_eq!(approved.item.version, head + 1);
    assert_eq!(
        stream.next_version(Duration::from_secs(10)).await,
        Some(head + 1)
    );
    // An edit of what devices have moves the feed again.
    curator
        .send_ok::<_, CuratedContent>(
            Method::PATCH,
            &format!("/v1/content/{}", draft.item.id),
            Some(&serde_json::json!({ "title": "Live, corrected" })),
        )
        .await;
    assert_eq!(
        stream.next_version(Duration::from_secs(10)).await,
        Some(head + 2)
    );
}

/// Reads `version` events from `/v1/events`.
pub struct EventStream {
    stream:
        std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>,
    buffer: String,
}

impl EventStream {
    pub async fn open(client: &Client) -> EventStream {
        let response = client
            .http
            .get(format!("{}/v1/events", client.base))
            .bearer_auth(client.token.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        EventStream {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next `version` event, or `None` after `wait` without one.
    pub async fn next_version(&mut self, wait: Duration) -> Option<i64> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                let is_version = event.lines().any(|l| l == "event: version");
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    if is_version {
                        let parsed: VersionEvent = serde_json::from_str(data).unwrap();
                        return Some(parsed.version);
                    }
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??
                .ok()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// How a stream was left.
#[derive(Debug, PartialEq)]
pub enum End {
    /// Still open after the wait.
    Open,
    /// Ended, with the `reconnect` event it sent last, if any.
    Ended(Option<ReconnectEvent>),
}

impl EventStream {
    /// Whether the server ends the stream within `wait` (events before the end are skipped).
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        self.end_within(wait).await != End::Open
    }

    /// How the stream is left after at most `wait`.
    pub async fn end_within(&mut self, wait: Duration) -> End {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return End::Open,
                Ok(None) | Ok(Some(Err(_))) => {
                    let reconnect = self.buffer.split("\n\n").find_map(|event| {
                        if !event.lines().any(|l| l == "event: reconnect") {
                            return None;
                        }
                        let data = event.lines().find_map(|l| l.strip_prefix("data: "))?;
                        Some(serde_json::from_str::<ReconnectEvent>(data).unwrap())
                    });
                    return End::Ended(reconnect);
                }
                Ok(Some(Ok(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
            }
        }
    }
}

async fn a_stream_ends_with_its_session(backend: Backend) {
    let db = TestDb::new(backend).await;
    let options = || Options {
        access_ttl: chrono::Duration::seconds(4),
        ..Options::default()
    };
    let first = Server::start_with(&db, options()).await;
    let org = first.org("acme").await;
    let revoked = first
        .person(&org, "Rita Revoked", Role::Employee, "FR", "fr", "Sales")
        .await;
    let bystander = first
        .person(&org, "Bea Bystander", Role::Employee, "FR", "fr", "Sales")
        .await;

    let mut revoked_stream = EventStream::open(&revoked).await;
    let mut bystander_stream = EventStream::open(&bystander).await;
    // On PostgreSQL, the same device also listens on a second instance: the revocation
    // crosses to it (NOTIFY).
    let second = match backend {
        Backend::Postgres => Some(Server::start_with(&db, options()).await),
        Backend::Sqlite => None,
    };
    let mut on_second = match &second {
        Some(server) => {
            let mut elsewhere = revoked.clone();
            elsewhere.base = server.base.clone();
            Some(EventStream::open(&elsewhere).await)
        }
        None => None,
    };
    let revoke = revoked
        .send::<()>(
            reqwest::Method::DELETE,
            &format!("/v1/sessions/{}", revoked.device_id()),
            None,
        )
        .await;
    assert_eq!(revoke.status, reqwest::StatusCode::NO_CONTENT);
    assert!(
        revoked_stream.ends_within(Duration::from_secs(2)).await,
        "a revoked device's stream ends"
    );
    if let Some(stream) = on_second.as_mut() {
        assert!(
            stream.ends_within(Duration::from_secs(3)).await,
            "and on the other instance too"
        );
    }
    // Someone else's revocation ends nothing else.
    assert!(
        !bystander_stream
            .ends_within(Duration::from_millis(300))
            .await
    );

    // An access token that expires ends its stream; the device reconnects with a fresh one.
    let expiring = first
        .person(&org, "Ezra Expiring", Role::Employee, "FR", "fr", "Sales")
        .await;
    let mut expiring_stream = EventStream::open(&expiring).await;
    assert!(
        expiring_stream.ends_within(Duration::from_secs(8)).await,
        "the stream ends when its token expires"
    );
    let reopened = expiring
        .send::<()>(reqwest::Method::GET, "/v1/events", None)
        .await;
    assert_eq!(reopened.problem().code, "token_expired");

    if let Some(server) = second {
        server.running.stop().await;
    }
    first.running.stop().await;
}

async fn an_approval_is_announced_to_connected_devices(backend: Backend) {
    let db = TestDb::new(backend).await;
    // Two server processes' worth of state over one database: on PostgreSQL the event must
    // cross from one to the other (LISTEN/NOTIFY); on SQLite the watcher of the shared file
    // carries it.
    let first = Server::start(&db).await;
    let second = Server::start(&db).await;
    let org = first.org("acme").await;
    let news = first.channel(&org, "news").await;
    let curator = first
        .person(&org, "Cora Curator", Role::Curator, "FR", "fr", "Comms")
        .await;
    let employee = first
        .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let mut on_second = employee.clone();
    on_second.base = second.base.clone();
    let mut same_server = EventStream::open(&employee).await;
    let mut other_server = EventStream::open(&on_second).await;
    let head = same_server
        .next_version(Duration::from_secs(5))
        .await
        .expect("the current version at once");
    assert_eq!(
        other_server.next_version(Duration::from_secs(5)).await,
        Some(head)
    );

    let published = curator.publish(&article(&news, "Breaking")).await;
    let approved_at = published.item.version;
    for (name, stream) in [
        ("same server", &mut same_server),
        ("other server", &mut other_server),
    ] {
        let mut newest = head;
        while newest < approved_at {
            newest = stream
                .next_version(Duration::from_secs(10))
                .await
                .unwrap_or_else(|| panic!("{name}: no event for version {approved_at}"));
        }
        assert_eq!(newest, approved_at, "{name}");
    }
    // The event means "sync": the employee finds the item.
    let mut replica = Replica::default();
    replica.sync(&on_second, 100).await;
    assert_eq!(replica.titles(), vec!["Breaking"]);

    // Another organisation's news is not announced here.
    let other = first.org("other").await;
    let other_news = first.channel(&other, "news").await;
    let other_curator = first
        .person(&other, "Olga Other", Role::Curator, "FR", "fr", "Comms")
        .await;
    other_curator
        .publish(&article(&other_news, "Not for acme"))
        .await;
    assert_eq!(
        same_server.next_version(Duration::from_millis(700)).await,
        None
    );

    second.running.stop().await;
    first.running.stop().await;
}
