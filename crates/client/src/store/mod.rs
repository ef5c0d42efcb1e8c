//! The device's SQLite database: one file in the platform's data folder, WAL, migrations
//! embedded in the binary. Every write that moves the device from one state to another is one
//! transaction, so a crash leaves either the old state or the new one.

mod accounts;
mod items;
mod links;
mod outbox;
mod reads;
mod search;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

pub use accounts::{Account, AccountStatus};
pub use items::{ApplyOutcome, FeedItem, FeedQuery};
pub use links::{LinkChoice, ShareLink};
pub use outbox::{NewShare, Share, ShareState, INTENT_ACCOUNT};
pub use search::SEARCH_WINDOW;

use crate::error::ClientError;

/// Schema versions, in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    // A network's limit of its own for an account (a Mastodon server's).
    "ALTER TABLE accounts ADD COLUMN char_limit INTEGER;",
    // What the server's programme made of a share record: its points, or why it refused it
    // (a refused record is kept, with its reason, and never sent again).
    "ALTER TABLE outbox ADD COLUMN points INTEGER; ALTER TABLE outbox ADD COLUMN refused TEXT;",
    // The link a share carries (store/links.rs).
    "ALTER TABLE outbox ADD COLUMN link_choice TEXT NOT NULL DEFAULT 'tracked'; \
     ALTER TABLE outbox ADD COLUMN link_code TEXT; ALTER TABLE outbox ADD COLUMN link_url TEXT; \
     ALTER TABLE outbox ADD COLUMN link_fallback INTEGER NOT NULL DEFAULT 0;",
    // Items opened, by day, until the day is reported (store/reads.rs).
    "CREATE TABLE reads_pending (day TEXT NOT NULL, item_id TEXT NOT NULL, PRIMARY KEY (day, item_id));",
    // The posting account's followers when the share went out (its estimated reach).
    "ALTER TABLE outbox ADD COLUMN followers INTEGER;",
];

/// The device database. Cheap to clone; one connection behind a mutex (SQLite serialises
/// writers anyway, and every operation here is short).
///
/// Write transactions start IMMEDIATE: a deferred one that reads first cannot upgrade to a
/// write once another process (the app beside the `relay` command line) has written, and
/// fails with "database is locked" whatever the busy timeout; an immediate one waits its turn.
///
/// Reads that a person waits for (the feed, search, an article, counts) go through a second
/// connection of their own: with WAL they read the last committed state while a sync page is
/// being applied, instead of waiting for the writer.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    /// `None` for an in-memory database (a second connection would be another database).
    reader: Option<Arc<Mutex<Connection>>>,
}

impl Store {
    /// Opens (creating when missing) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, ClientError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open(path)?;
        let mut store = Store::init(conn)?;
        let reader = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.busy_timeout(Duration::from_secs(10))?;
        store.reader = Some(Arc::new(Mutex::new(reader)));
        Ok(store)
    }

    /// A private in-memory database, for tests.
    pub fn in_memory() -> Result<Store, ClientError> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store, ClientError> {
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Another process of the device may be opening the same file: each step reads the
        // version inside its own write transaction.
        loop {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let done: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let Some(sql) = MIGRATIONS.get(done) else {
                break;
            };
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", done + 1)?;
            tx.commit()?;
        }
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            reader: None,
        })
    }

    /// The connection that writes (and reads what must follow its own writes).
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connection for reads a person waits for: never behind a sync's write transaction.
    pub(crate) fn read_conn(&self) -> MutexGuard<'_, Connection> {
        self.reader
            .as_ref()
            .unwrap_or(&self.conn)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>, ClientError> {
        Ok(self
            .read_conn()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), ClientError> {
        self.conn().execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    pub fn remove_setting(&self, key: &str) -> Result<(), ClientError> {
        self.conn()
            .execute("DELETE FROM settings WHERE key = ?1", [key])?;
        Ok(())
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// SQLite's own consistency check (`PRAGMA quick_check`).
    pub fn quick_check(&self) -> Result<(), ClientError> {
        let result: String = self
            .conn()
            .query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if result == "ok" {
            Ok(())
        } else {
            Err(ClientError::Invalid(format!(
                "database check failed: {result}"
            )))
        }
    }
}

impl Store {
    /// Benchmarks only: stops maintaining the search index, to measure what it costs.
    #[doc(hidden)]
    pub fn drop_search_triggers_for_bench(&self) {
        let _ = self.conn().execute_batch(
            "DROP TRIGGER items_fts_insert; DROP TRIGGER items_fts_delete; DROP TRIGGER items_fts_update;",
        );
    }
}
