//! Live events: Server-Sent Events announce new versions, across server instances too.

use std::time::Duration;

use futures::StreamExt;
use relay_protocol::*;
use relay_server::db::Backend;

use crate::harness::*;
use crate::replica::*;

crate::both_backends!(an_approval_is_announced_to_connected_devices);

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
