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
use crate::events::Events;

/// A write transaction holding the next feed version of one organisation.
pub struct FeedTx {
    pub tx: Transaction<'static, Any>,
    pub org_id: String,
    pub version: i64,
}

impl FeedTx {
    /// Begins a transaction and takes the organisation's next version (waiting for any other
    /// writer of the same organisation to commit first).
    pub async fn begin(db: &Db, org_id: &str) -> Result<FeedTx, ApiError> {
        let mut tx = db.begin().await?;
        let version: Option<i64> = sqlx::query_scalar(
            "UPDATE orgs SET version = version + 1 WHERE id = $1 RETURNING version",
        )
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await?;
        let version = version.ok_or(ApiError::NotFound("organisation"))?;
        if db.backend == Backend::Postgres {
            // Delivered to every listening server instance when (and only if) this commits.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::events::FEED_CHANNEL)
                .bind(format!("{org_id} {version}"))
                .execute(&mut *tx)
                .await?;
        }
        Ok(FeedTx {
            tx,
            org_id: org_id.to_owned(),
            version,
        })
    }

    /// Commits and tells this instance's connected devices.
    pub async fn commit(self, events: &Events) -> Result<i64, ApiError> {
        self.tx.commit().await?;
        events.publish(&self.org_id, self.version);
        Ok(self.version)
    }
}
