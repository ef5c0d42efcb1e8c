//! Who a person was in a month, for that month's figures: their country, language and
//! department as they stood at their first activity in it. Later moves, deactivations and
//! erasures change no published group of the month (an admin reading a breakdown before and
//! after moving someone would otherwise learn that person's figures).

use sqlx::AnyConnection;

use crate::error::ApiError;

/// Fixes the attributes of `people` for `month`, where they are not fixed already.
pub async fn fix(conn: &mut AnyConnection, month: &str, people: &[&str]) -> Result<(), ApiError> {
    if people.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO month_members (org_id, month, person_id, country, language, department) \
         SELECT org_id, $1, id, country, language, department FROM people WHERE id IN ({}) \
         ON CONFLICT (person_id, month) DO NOTHING",
        crate::db::placeholders(2, people.len())
    );
    let mut query = sqlx::query(&sql).bind(month);
    for person in people {
        query = query.bind(*person);
    }
    query.execute(conn).await?;
    Ok(())
}

/// Lets go of the groups erased people counted in during `month`, once its figures are kept.
pub async fn forget_erased(
    conn: &mut AnyConnection,
    org_id: &str,
    month: &str,
) -> Result<(), ApiError> {
    for table in ["month_members", "points_totals"] {
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

/// Fixes the channel and language of `items` for `month`, where they are not fixed already: a
/// curator moving an item to another channel later moves no figure of the month.
pub async fn fix_items(
    conn: &mut AnyConnection,
    month: &str,
    items: &[&str],
) -> Result<(), ApiError> {
    if items.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO month_items (org_id, month, item_id, channel_id, language) \
         SELECT org_id, $1, id, channel_id, language FROM items WHERE id IN ({}) \
         ON CONFLICT (item_id, month) DO NOTHING",
        crate::db::placeholders(2, items.len())
    );
    let mut query = sqlx::query(&sql).bind(month);
    for item in items {
        query = query.bind(*item);
    }
    query.execute(conn).await?;
    Ok(())
}
