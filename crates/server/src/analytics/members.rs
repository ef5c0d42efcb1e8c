//! Who a person was in a month, for that month's figures: their country, language and
//! department as they stood at their first activity in it. Later moves, deactivations and
//! erasures change no published group of the month (an admin reading a breakdown before and
//! after moving someone would otherwise learn that person's figures).

use sqlx::AnyConnection;

use crate::error::ApiError;

/// Fixes `person_id`'s attributes for `month` unless they are fixed already.
pub async fn fix(conn: &mut AnyConnection, person_id: &str, month: &str) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO month_members (org_id, month, person_id, country, language, department) \
         SELECT org_id, $2, id, country, language, department FROM people WHERE id = $1 \
         ON CONFLICT (person_id, month) DO NOTHING",
    )
    .bind(person_id)
    .bind(month)
    .execute(conn)
    .await?;
    Ok(())
}
