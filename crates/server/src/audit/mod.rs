//! The audit log: who created, edited, approved or retracted what, and who managed whom.
//! Written in the same transaction as the change it records.

use sqlx::AnyConnection;

use crate::db::now_ms;

pub mod routes;

/// Appends one entry. `actor` is `None` for the command line and the publication clock.
pub async fn record(
    conn: &mut AnyConnection,
    org_id: &str,
    actor: Option<&str>,
    action: &str,
    subject_id: &str,
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (org_id, at, actor_id, action, subject_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org_id)
    .bind(now_ms())
    .bind(actor)
    .bind(action)
    .bind(subject_id)
    .bind(detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}
