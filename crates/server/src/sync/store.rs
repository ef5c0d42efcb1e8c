//! The change feed's queries.

use super::Cursor;
use crate::content::ItemRow;
use crate::db::Db;
use crate::error::ApiError;

/// Up to `limit` rows after `cursor`, at or below the head, in feed order.
pub async fn page(
    db: &Db,
    org_id: &str,
    head: i64,
    cursor: &Cursor,
    limit: u32,
) -> Result<Vec<ItemRow>, ApiError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {} FROM items WHERE org_id = $1 AND ever_live = 1 AND version <= $2 AND {} \
         ORDER BY version, id LIMIT $5",
        ItemRow::COLUMNS,
        after(cursor),
    ))
    .bind(org_id)
    .bind(head)
    .bind(cursor.version)
    .bind(cursor.after_id.as_deref().unwrap_or_default())
    .bind(i64::from(limit))
    .fetch_all(&db.read)
    .await?)
}

/// How many feed rows come after `cursor` up to the head: for a progress bar.
pub async fn remaining(db: &Db, org_id: &str, head: i64, cursor: &Cursor) -> Result<u64, ApiError> {
    let count: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM items WHERE org_id = $1 AND ever_live = 1 AND version <= $2 AND {}",
        after(cursor)
    ))
    .bind(org_id)
    .bind(head)
    .bind(cursor.version)
    .bind(cursor.after_id.as_deref().unwrap_or_default())
    .fetch_one(&db.read)
    .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The rows after `cursor` in `(version, id)` order, with the cursor's version as `$3` and its
/// id as `$4`. A cursor without an id has every row of its version already (`$4` is still
/// referenced so that both forms bind the same parameters).
fn after(cursor: &Cursor) -> &'static str {
    if cursor.after_id.is_some() {
        "(version > $3 OR (version = $3 AND id > $4))"
    } else {
        "(version > $3 AND $4 = $4)"
    }
}

/// Whether a channel changed after version `since` (the page then carries the channels).
pub async fn channels_changed(db: &Db, org_id: &str, since: i64) -> Result<bool, ApiError> {
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM channels WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(&db.read)
            .await?;
    Ok(newest.is_some_and(|v| v > since))
}
