//! What tests check the server against: a device-side replica of the feed, a fingerprint of
//! the database, and bounded polling.

use std::collections::BTreeMap;
use std::time::Duration;

use relay_protocol::{Change, Item, SyncPage};
use relay_server::Db;

use crate::harness::Client;

/// A device-side view of the feed: applies pages as a client would and remembers every change
/// it was sent, to catch duplicates.
#[derive(Default, Debug, Clone)]
pub struct Replica {
    pub cursor: Option<String>,
    pub items: BTreeMap<String, Item>,
    pub seen: Vec<(String, i64)>,
    pub resets: usize,
}

impl Replica {
    /// Syncs until `has_more` is false.
    pub async fn sync(&mut self, client: &Client, limit: u32) -> usize {
        let mut pages = 0;
        loop {
            let page = client.sync_page(self.cursor.as_deref(), limit).await;
            pages += 1;
            self.apply(page.clone());
            if !page.has_more {
                return pages;
            }
        }
    }

    pub fn apply(&mut self, page: SyncPage) {
        if page.reset {
            self.items.clear();
            self.resets += 1;
        }
        for change in page.changes {
            match change {
                Change::Upsert { item } => {
                    self.seen.push((item.id.clone(), item.version));
                    self.items.insert(item.id.clone(), item);
                }
                Change::Delete { id, version, .. } => {
                    self.seen.push((id.clone(), version));
                    self.items.remove(&id);
                }
            }
        }
        self.cursor = Some(page.cursor);
    }

    pub fn titles(&self) -> Vec<String> {
        let mut titles: Vec<String> = self.items.values().map(|i| i.title.clone()).collect();
        titles.sort();
        titles
    }
}

/// Counts of every table and the feed heads: equal before and after means nothing changed.
pub async fn fingerprint(db: &Db) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for table in [
        "orgs",
        "people",
        "enrolments",
        "sessions",
        "channels",
        "items",
        "shares",
        "audit_log",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&db.read)
            .await
            .unwrap();
        out.push((table.to_owned(), n));
    }
    let heads: Vec<(String, i64)> = sqlx::query_as("SELECT id, version FROM orgs ORDER BY id")
        .fetch_all(&db.read)
        .await
        .unwrap();
    out.extend(heads);
    let edited: Option<i64> = sqlx::query_scalar("SELECT MAX(updated_at) FROM items")
        .fetch_one(&db.read)
        .await
        .unwrap();
    out.push(("items.updated_at".into(), edited.unwrap_or(0)));
    out
}

/// Polls `check` until it holds, for at most `secs` seconds.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}
