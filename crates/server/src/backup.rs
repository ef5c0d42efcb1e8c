//! Backups of the embedded SQLite database: `relay-server backup --to FILE` takes a consistent
//! copy while the server runs and writes (`VACUUM INTO` reads one snapshot), and checks it
//! before calling it done; `relay-server restore --from FILE` puts one back, the server
//! stopped. PostgreSQL has its own tools (`docs/operations.md`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use sqlx::{Connection, Executor};

/// What a checked copy holds.
#[derive(Debug)]
pub struct Checked {
    pub bytes: u64,
    /// The newest migration applied to it.
    pub migration: i64,
}

/// The file of a `sqlite:` URL.
fn sqlite_file(url: &str) -> anyhow::Result<PathBuf> {
    let rest = url.strip_prefix("sqlite:").ok_or_else(|| {
        anyhow::anyhow!(
            "backup and restore copy an embedded SQLite database; on PostgreSQL use pg_dump and \
             pg_restore (docs/operations.md)"
        )
    })?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    anyhow::ensure!(
        !path.is_empty() && path != ":memory:",
        "an in-memory database has no file to copy"
    );
    Ok(PathBuf::from(path))
}

async fn open(path: &Path, mode: &str) -> anyhow::Result<sqlx::AnyConnection> {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite:{}?mode={mode}", path.display());
    let mut conn = sqlx::AnyConnection::connect(&url)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    conn.execute("PRAGMA busy_timeout = 10000").await?;
    Ok(conn)
}

/// Takes a consistent copy of the database at `url` into `to` (a new file), readable by its
/// owner only (it holds everything), and checks it.
pub async fn backup(url: &str, to: &Path) -> anyhow::Result<Checked> {
    let from = sqlite_file(url)?;
    anyhow::ensure!(from.exists(), "{} does not exist", from.display());
    anyhow::ensure!(
        !to.exists(),
        "{} exists already: back up to a new file",
        to.display()
    );
    let mut conn = open(&from, "ro").await?;
    sqlx::query("VACUUM INTO $1")
        .bind(to.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot write the copy to {}", to.display()))?;
    conn.close().await?;
    restrict(to)?;
    check(to).await
}

#[cfg(unix)]
fn restrict(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// Whether `path` is a whole Relay database: SQLite's integrity check passes and it has its
/// migrations.
pub async fn check(path: &Path) -> anyhow::Result<Checked> {
    let not_relay = || format!("{} is not a Relay database", path.display());
    let mut conn = open(path, "ro").await.with_context(not_relay)?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .with_context(not_relay)?;
    anyhow::ensure!(
        verdict == "ok",
        "{} fails SQLite's integrity check: {verdict}",
        path.display()
    );
    let migration: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await
            .with_context(not_relay)?;
    conn.close().await?;
    Ok(Checked {
        bytes: std::fs::metadata(path)?.len(),
        migration: migration.with_context(not_relay)?,
    })
}

/// Puts the copy `from` back as the database at `url`. An existing database is replaced only
/// with `replace`, only when no process has it open (every server stopped), and is kept
/// beside it (`FILE.before-restore`) rather than deleted.
pub async fn restore(url: &str, from: &Path, replace: bool) -> anyhow::Result<Checked> {
    let checked = check(from).await?;
    let to = sqlite_file(url)?;
    if to.exists() {
        anyhow::ensure!(
            replace,
            "{} exists: add --replace to put the copy in its place (every server stopped)",
            to.display()
        );
        ensure_unused(&to).await?;
        let kept = sibling(&to, ".before-restore");
        anyhow::ensure!(
            !kept.exists(),
            "{} is there from an earlier restore: move it away first",
            kept.display()
        );
        for suffix in ["", "-wal", "-shm"] {
            let file = sibling(&to, suffix);
            if file.exists() {
                std::fs::rename(&file, sibling(&kept, suffix))
                    .with_context(|| format!("cannot move {} aside", file.display()))?;
            }
        }
    }
    let partial = sibling(&to, ".restoring");
    std::fs::copy(from, &partial).with_context(|| format!("cannot write {}", partial.display()))?;
    restrict(&partial)?;
    std::fs::rename(&partial, &to)?;
    Ok(checked)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Refuses when another process has the database open: a running server holds it, and one
/// replaced under it would go on writing into the file moved aside.
async fn ensure_unused(path: &Path) -> anyhow::Result<()> {
    let mut conn = open(path, "rw").await?;
    conn.execute("PRAGMA busy_timeout = 0").await?;
    conn.execute("PRAGMA locking_mode = EXCLUSIVE").await?;
    let locked = conn.execute("BEGIN EXCLUSIVE").await;
    if locked.is_ok() {
        conn.execute("COMMIT").await?;
    }
    conn.close().await?;
    // Let the file's locks go before it moves.
    tokio::time::sleep(Duration::from_millis(50)).await;
    locked.map(|_| ()).map_err(|_| {
        anyhow::anyhow!(
            "{} is in use: stop every server using it first",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_sqlite_file_is_copied() {
        assert_eq!(
            sqlite_file("sqlite:/var/lib/relay/relay.db?mode=rwc").unwrap(),
            PathBuf::from("/var/lib/relay/relay.db")
        );
        assert_eq!(
            sqlite_file("sqlite://relay.db").unwrap(),
            PathBuf::from("relay.db")
        );
        assert!(sqlite_file("postgres://db/relay")
            .unwrap_err()
            .to_string()
            .contains("pg_dump"));
        assert!(sqlite_file("sqlite::memory:").is_err());
    }
}
