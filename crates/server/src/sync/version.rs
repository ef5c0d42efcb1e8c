//! The organisation's feed version: bumped in every transaction that changes what devices may
//! see, and announced to connected devices once committed.
//!
//! Writers serialise on the organisation's counter row (`UPDATE ... RETURNING` holds its row
//! lock until commit on PostgreSQL; SQLite has one writer anyway). So versions commit in order,
//! and a reader that sees version N committed knows every version below N is committed too:
//! the sync feed never skips a change that commits late.

use sqlx::{Any, Transaction};

use crate::db::{Backend, Db};
use crate::error::ApiError;
use crate::sync::events::Events;

/// A write transaction holding the organisation's feed lock, and its next feed version once
/// the write turns out to change what devices see.
pub struct FeedTx {
    pub tx: Transaction<'static, Any>,
    pub org_id: String,
    /// The version this transaction's rows carry: the next one once moved, else the current.
    pub version: i64,
    backend: Backend,
    moved: bool,
}

impl FeedTx {
    /// Begins a transaction and takes the organisation's next version (waiting for any other
    /// writer of the same organisation to commit first).
    pub async fn begin(db: &Db, org_id: &str) -> Result<FeedTx, ApiError> {
        let mut ftx = FeedTx::begin_quiet(db, org_id).await?;
        ftx.move_feed().await?;
        Ok(ftx)
    }

    /// Begins a transaction holding the same lock without moving the feed, for writes devices
    /// may never see (a draft): nothing wakes them. [`FeedTx::move_feed`] moves it once the
    /// write turns out to reach them.
    pub async fn begin_quiet(db: &Db, org_id: &str) -> Result<FeedTx, ApiError> {
        let mut tx = db.begin().await?;
        // The row lock the version's update takes, taken without an update; SQLite has one
        // writer anyway.
        let lock = db.backend.for_update();
        let version: Option<i64> =
            sqlx::query_scalar(&format!("SELECT version FROM orgs WHERE id = $1{lock}"))
                .bind(org_id)
                .fetch_optional(&mut *tx)
                .await?;
        let version = version.ok_or(ApiError::NotFound("organisation"))?;
        Ok(FeedTx {
            tx,
            org_id: org_id.to_owned(),
            version,
            backend: db.backend,
            moved: false,
        })
    }

    /// Takes the organisation's next version: devices will sync what this transaction wrote.
    /// Once per transaction; again changes nothing.
    pub async fn move_feed(&mut self) -> Result<(), ApiError> {
        if self.moved {
            return Ok(());
        }
        let version: Option<i64> = sqlx::query_scalar(
            "UPDATE orgs SET version = version + 1 WHERE id = $1 RETURNING version",
        )
        .bind(&self.org_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        self.version = version.ok_or(ApiError::NotFound("organisation"))?;
        if self.backend == Backend::Postgres {
            // Delivered to every listening server instance when (and only if) this commits.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::sync::events::FEED_CHANNEL)
                .bind(format!("{} {}", self.org_id, self.version))
                .execute(&mut *self.tx)
                .await?;
        }
        self.moved = true;
        Ok(())
    }

    /// Commits, and tells this instance's connected devices when the feed moved.
    pub async fn commit(self, events: &Events) -> Result<i64, ApiError> {
        self.tx.commit().await?;
        if self.moved {
            events.publish(&self.org_id, self.version);
        }
        Ok(self.version)
    }
}
