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
