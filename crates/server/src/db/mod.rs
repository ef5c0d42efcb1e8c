//! The server's storage: embedded SQLite by default, PostgreSQL for several server instances.
//!
//! Both backends run the same SQL through sqlx's `Any` driver (`$1` placeholders work on both);
//! only the schema migrations differ. Integers are `BIGINT`, times Unix milliseconds, booleans
//! 0/1 and structured values JSON text, so a row decodes the same way from either backend.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::error::ApiError;

pub mod rows;

/// Which database the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a connection talks to.
    pub fn of(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name() == "PostgreSQL" {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// What a `SELECT` appends to lock the rows it reads until the transaction ends: PostgreSQL
    /// needs it; SQLite's single writer serialises every write transaction anyway.
    pub fn for_update(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }
}

/// Connection pools. On SQLite all writes go through a single connection, which is how SQLite
/// serialises writers anyway, minus the lock contention and `SQLITE_BUSY` retries; reads use a
/// pool of their own and never wait for writers (WAL).
#[derive(Clone)]
pub struct Db {
    pub backend: Backend,
    pub read: AnyPool,
    pub write: AnyPool,
    url: String,
}

impl Db {
    /// Opens (creating the SQLite file if needed) and migrates the database at `url`.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("unsupported database URL (expected sqlite:PATH or postgres://...)");
        };
        let db = match backend {
            Backend::Sqlite => {
                let url = sqlite_url(url);
                let options = AnyConnectOptions::from_str(&url)?;
                let write = AnyPoolOptions::new()
                    .max_connections(1)
                    .after_connect(|conn, _| Box::pin(async move { sqlite_pragmas(conn).await }))
                    .connect_with(options.clone())
                    .await?;
                // WAL is a property of the file: set it once, from the writer, before readers open.
                write.execute("PRAGMA journal_mode = WAL").await?;
                let read = AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| Box::pin(async move { sqlite_pragmas(conn).await }))
                    .connect_with(options)
                    .await?;
                Db {
                    backend,
                    read,
                    write,
                    url,
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?;
                Db {
                    backend,
                    read: pool.clone(),
                    write: pool,
                    url: url.to_owned(),
                }
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Applies the embedded migrations that have not run yet. Migrations this binary does not
    /// know (a newer version's, during a rolling upgrade) are left alone: they only add, so
    /// this version still runs over them (`docs/operations.md`, upgrades).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let mut migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator.set_ignore_missing(true);
        migrator.run(&self.write).await?;
        Ok(())
    }

    /// Whether the database answers and holds every migration this binary knows: what a
    /// balancer's readiness probe asks (`/readyz`). A schema ahead of the binary is ready (the
    /// rule for schema changes lets two versions run over one database during a rolling
    /// upgrade); one behind it is not.
    pub async fn ready(&self) -> Result<(), String> {
        let known = match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        }
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.read)
                .await
                .map_err(|e| format!("the database does not answer: {e}"))?;
        match applied {
            Some(applied) if applied >= known => Ok(()),
            applied => Err(format!(
                "the schema is at migration {}, this server needs {known}: run `relay-server migrate`",
                applied.unwrap_or(0)
            )),
        }
    }

    /// The URL the pools were opened with (for PostgreSQL LISTEN connections).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), waiting its turn behind another process's writer (the command line beside
    /// a running server): a transaction that read first and wrote later could otherwise fail
    /// with "database is locked" without waiting, its work lost.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, ApiError> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }
}

/// After deleting what must not stay on disk: on SQLite, the write-ahead log (which still holds
/// the pages as they were) is checkpointed into the file, where `secure_delete` zeroed the
/// deleted content, and truncated; on PostgreSQL, `tables` are vacuumed so that their dead
/// rows are removed from the pages.
pub async fn scrub(db: &Db, tables: &[&str]) -> Result<(), ApiError> {
    match db.backend {
        Backend::Sqlite => {
            // Readers finishing a query may hold the log a moment: wait for them.
            for _ in 0..50 {
                let (busy, _, _): (i64, i64, i64) =
                    sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                        .fetch_one(&db.write)
                        .await?;
                if busy == 0 {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(ApiError::Internal(anyhow::anyhow!(
                "the write-ahead log could not be truncated after an erasure"
            )))
        }
        Backend::Postgres => {
            for table in tables {
                sqlx::query(&format!("VACUUM {table}"))
                    .execute(&db.write)
                    .await?;
            }
            Ok(())
        }
    }
}

/// `sqlite:relay.db` and `sqlite://relay.db` both mean a file, created when missing.
fn sqlite_url(url: &str) -> String {
    let mut url = url.to_owned();
    if !url.contains("mode=") && !url.contains(":memory:") {
        url.push_str(if url.contains('?') {
            "&mode=rwc"
        } else {
            "?mode=rwc"
        });
    }
    url
}

async fn sqlite_pragmas(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute(
        // secure_delete: deleted content is overwritten with zeros, not left in free space
        // (an erased person must not stay in the file).
        "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
         PRAGMA secure_delete = ON;",
    )
    .await?;
    Ok(())
}

/// `$first, $first+1, ...` for `n` values: the list of an `IN (...)`.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `VALUES` list of a multi-row statement: `rows` tuples of `width` placeholders each,
/// numbered from `$1`: `($1, $2), ($3, $4)`.
pub fn values(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|row| {
            let cols: Vec<String> = (1..=width)
                .map(|col| format!("${}", row * width + col))
                .collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Milliseconds since the Unix epoch, the unit of every stored time.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub fn to_time(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A `LIKE ... ESCAPE '\\'` pattern matching what starts with `prefix` (its `%` and `_` taken
/// literally).
pub fn like_prefix(prefix: &str) -> String {
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_number_placeholders_row_by_row() {
        assert_eq!(super::values(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::values(1, 1), "($1)");
    }

    /// Lines written before dialect lines were marked: an applied migration cannot change (its
    /// checksum is recorded), so these stay as they are.
    const UNMARKED: [(&str, &str, &str); 2] = [
        (
            "0001_initial.sql",
            "    id         INTEGER PRIMARY KEY AUTOINCREMENT,",
            "    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,",
        ),
        (
            "0003_programme.sql",
            "    id        INTEGER PRIMARY KEY AUTOINCREMENT,",
            "    id        BIGSERIAL PRIMARY KEY,",
        ),
    ];

    /// The two migration folders are one schema: the same files, line for line, differing only
    /// in comments and in lines both marked `-- dialect: <what>` (the same mark on each side).
    #[test]
    fn the_two_backends_migrations_differ_only_where_marked() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let names = |backend: &str| -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(dir.join(backend))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        };
        assert_eq!(
            names("sqlite"),
            names("postgres"),
            "the same migrations on both"
        );
        let mark = |line: &str| {
            line.split_once("-- dialect:")
                .map(|(_, m)| m.trim().to_owned())
        };
        for name in names("sqlite") {
            let read =
                |backend: &str| std::fs::read_to_string(dir.join(backend).join(&name)).unwrap();
            let (sqlite, postgres) = (read("sqlite"), read("postgres"));
            let (a, b): (Vec<&str>, Vec<&str>) =
                (sqlite.lines().collect(), postgres.lines().collect());
            assert_eq!(a.len(), b.len(), "{name}: the same lines on both backends");
            for (n, (x, y)) in a.iter().zip(&b).enumerate() {
                let comment = x.trim_start().starts_with("--") && y.trim_start().starts_with("--");
                let marked = mark(x).is_some() && mark(x) == mark(y);
                let grandfathered = UNMARKED.contains(&(name.as_str(), *x, *y));
                assert!(
                    x == y || comment || marked || grandfathered,
                    "{name}:{}: the backends differ where no `-- dialect:` mark says why:\n  sqlite:   {x}\n  postgres: {y}",
                    n + 1
                );
            }
        }
    }
}
