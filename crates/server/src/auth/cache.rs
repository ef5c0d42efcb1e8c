//! An in-memory cache of authenticated sessions, so that the most frequent request of all (a
//! device asking "anything new?") touches no database.
//!
//! Every change that can end or alter a session (refresh, revocation, a person's role,
//! audience or activation) invalidates it here at once and, on PostgreSQL, on every other
//! server instance through NOTIFY. Entries also expire after [`TTL`], which bounds staleness if
//! a notification is ever lost (the listener clears everything when it reconnects, too).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::AnyConnection;

use crate::db::Backend;

/// How long an entry is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(30);

/// The NOTIFY channel that carries invalidations between server instances.
pub const CHANNEL: &str = "relay_sessions";

/// What a session lookup found, minus the feed head (kept per organisation in `Events`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub device_id: String,
    pub org_id: String,
    pub person_id: String,
    pub access_expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_seen_at: i64,
    pub role: String,
    pub active: i64,
    pub country: String,
    pub language: String,
    pub department: String,
    pub audience_epoch: i64,
    pub version: i64,
    pub purged_below: i64,
}

/// Which cached sessions a change makes stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    Device(String),
    Person(String),
    All,
}

impl Invalidation {
    fn payload(&self) -> String {
        match self {
            Invalidation::Device(id) => format!("device {id}"),
            Invalidation::Person(id) => format!("person {id}"),
            Invalidation::All => "all".into(),
        }
    }

    pub fn parse(payload: &str) -> Option<Invalidation> {
        match payload.split_once(' ') {
            Some(("device", id)) => Some(Invalidation::Device(id.to_owned())),
            Some(("person", id)) => Some(Invalidation::Person(id.to_owned())),
            _ if payload == "all" => Some(Invalidation::All),
            _ => None,
        }
    }

    /// Tells the other server instances, when the surrounding transaction commits.
    pub async fn announce(
        &self,
        conn: &mut AnyConnection,
        backend: Backend,
    ) -> Result<(), sqlx::Error> {
        if backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(self.payload())
                .execute(conn)
                .await?;
        }
        Ok(())
    }
}

#[derive(Clone)]
pub struct SessionCache {
    entries: Arc<RwLock<HashMap<String, (SessionRow, Instant)>>>,
    /// Every invalidation, local or from another instance, for live streams to re-check
    /// their session.
    changes: tokio::sync::broadcast::Sender<Invalidation>,
}

impl Default for SessionCache {
    fn default() -> Self {
        SessionCache {
            entries: Arc::default(),
            changes: tokio::sync::broadcast::channel(1024).0,
        }
    }
}

impl Invalidation {
    /// Whether this change may concern a session of `device_id` belonging to `person_id`.
    pub fn concerns(&self, device_id: &str, person_id: &str) -> bool {
        match self {
            Invalidation::Device(id) => id == device_id,
            Invalidation::Person(id) => id == person_id,
            Invalidation::All => true,
        }
    }
}

impl SessionCache {
    pub fn get(&self, access_hash: &str) -> Option<SessionRow> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(access_hash)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(row, _)| row.clone())
    }

    pub fn insert(&self, access_hash: String, row: SessionRow) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 200_000 {
            // Far more than one organisation's devices: shed the stale ones.
            entries.retain(|_, (_, at)| at.elapsed() < TTL);
        }
        entries.insert(access_hash, (row, Instant::now()));
    }

    /// Records that the session was seen at `at` (so the next refresh of `last_seen_at` waits).
    pub fn touch(&self, access_hash: &str, at: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if let Some((row, _)) = entries.get_mut(access_hash) {
            row.last_seen_at = at;
        }
    }

    pub fn invalidate(&self, what: &Invalidation) {
        {
            let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
            match what {
                Invalidation::Device(id) => entries.retain(|_, (row, _)| &row.device_id != id),
                Invalidation::Person(id) => entries.retain(|_, (row, _)| &row.person_id != id),
                Invalidation::All => entries.clear(),
            }
        }
        // Nobody listening is fine.
        let _ = self.changes.send(what.clone());
    }

    /// Invalidations from now on (lagging behind counts as `All`: re-check).
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<Invalidation> {
        self.changes.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidations_travel_as_text() {
        for inv in [
            Invalidation::Device("d-1".into()),
            Invalidation::Person("p-1".into()),
            Invalidation::All,
        ] {
            assert_eq!(Invalidation::parse(&inv.payload()), Some(inv));
        }
        assert_eq!(Invalidation::parse("nonsense"), None);
    }
}
