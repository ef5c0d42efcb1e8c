//! Who a person was in a month, for that month's figures: their country, language and
//! department as they stood at their first activity in it. Later moves, deactivations and
//! erasures change no published group of the month (an admin reading a breakdown before and
//! after moving someone would otherwise learn that person's figures).

use sqlx::AnyConnection;

use crate::error::ApiError;

/// What the snapshot of a closed month is kept under.
pub const VIEW: &str = "publication";

/// Fixes the attributes of `people` for `month`, where they are not fixed already.
pub async fn fix(conn: &mut AnyConnection, month: &str, people: &[&str]) -> Result<(), ApiError> {
    insert_for(
        conn,
        "INSERT INTO month_members (org_id, month, person_id, country, language, department) \
         SELECT org_id, $1, id, country, language, department FROM people WHERE id IN ({ids}) \
         ON CONFLICT (person_id, month) DO NOTHING",
        month,
        people,
    )
    .await
}

/// Fixes the channel and language of `items` for `month`, where they are not fixed already: a
/// curator moving an item to another channel later moves no figure of the month.
pub async fn fix_items(
    conn: &mut AnyConnection,
    month: &str,
    items: &[&str],
) -> Result<(), ApiError> {
    insert_for(
        conn,
        "INSERT INTO month_items (org_id, month, item_id, channel_id, language) \
         SELECT org_id, $1, id, channel_id, language FROM items WHERE id IN ({ids}) \
         ON CONFLICT (item_id, month) DO NOTHING",
        month,
        items,
    )
    .await
}

/// Runs `sql` with `month` as `$1` and `ids` in place of `{ids}`.
async fn insert_for(
    conn: &mut AnyConnection,
    sql: &str,
    month: &str,
    ids: &[&str],
) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = sql.replace("{ids}", &crate::db::placeholders(2, ids.len()));
    let mut query = sqlx::query(&sql).bind(month);
    for id in ids {
        query = query.bind(*id);
    }
    query.execute(conn).await?;
    Ok(())
}

/// What the figures of a month need of an erased person only until the month is kept.
const UNTIL_KEPT: [&str; 3] = ["month_members", "points_totals", "month_accounts"];

/// Lets go of the groups erased people counted in during `month`, once its figures are kept.
pub async fn forget_erased(
    conn: &mut AnyConnection,
    org_id: &str,
    month: &str,
) -> Result<(), ApiError> {
    for table in UNTIL_KEPT {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE org_id = $1 AND month = $2 AND person_id IN \
             (SELECT id FROM people WHERE org_id = $1 AND erased_at IS NOT NULL)"
        ))
        .bind(org_id)
        .bind(month)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// At an erasure: lets go of the tombstone's rows of the months whose figures are kept already.
pub async fn forget_kept(conn: &mut AnyConnection, tombstone: &str) -> Result<(), ApiError> {
    for table in UNTIL_KEPT {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE person_id = $1 AND month IN (SELECT month FROM \
             analytics_snapshots WHERE org_id = {table}.org_id AND view = $2)"
        ))
        .bind(tombstone)
        .bind(VIEW)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
