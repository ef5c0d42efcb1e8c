//! Everything the server holds about one person, read table by table.

use std::collections::BTreeMap;

use relay_protocol::{PersonalData, PERSONAL_DATA_FORMAT};
use serde_json::{Map, Value};
use sqlx::{AnyConnection, Column, Row};

use crate::error::ApiError;

/// Each table that holds rows about a person, and which of its rows do (`$1`: the person's id).
/// Erasure (`erase.rs`) deletes or anonymises exactly these; its test checks every table of the
/// schema, so a new table that names people cannot be forgotten here silently.
pub(super) const TABLES: &[(&str, &str)] = &[
    ("people", "id = $1"),
    ("enrolments", "person_id = $1"),
    ("sessions", "person_id = $1"),
    ("console_links", "person_id = $1"),
    ("console_sessions", "person_id = $1"),
    ("shares", "person_id = $1"),
    ("points_ledger", "person_id = $1"),
    ("points_totals", "person_id = $1"),
    ("links", "person_id = $1"),
    ("board_members", "person_id = $1"),
    ("draw_entries", "person_id = $1"),
    ("draw_opt_outs", "person_id = $1"),
    ("consults", "person_id = $1"),
    ("month_members", "person_id = $1"),
    ("push_channels", "person_id = $1"),
    ("push_pending", "person_id = $1"),
    ("social_accounts", "person_id = $1"),
    ("sharer_addresses", "person_id = $1"),
    ("scim_users", "person_id = $1"),
    (
        "push_deliveries",
        "device_id IN (SELECT device_id FROM sessions WHERE person_id = $1)",
    ),
    (
        "read_batches",
        "device_id IN (SELECT device_id FROM sessions WHERE person_id = $1)",
    ),
    ("items", "created_by = $1 OR approved_by = $1"),
    ("points_rules", "set_by = $1"),
    (
        "audit_log",
        "actor_id = $1 OR subject_id = $1 \
         OR subject_id IN (SELECT device_id FROM sessions WHERE person_id = $1)",
    ),
];

/// Columns left out of the download: hashes of secrets and sealed tokens, which describe nothing
/// about the person and are only useful to an attacker.
fn withheld(column: &str) -> bool {
    // `auth` is a Web Push subscription's secret.
    column.contains("hash") || column == "prev_successor" || column == "auth"
}

/// The person's rows in every table of [`TABLES`].
pub async fn export(conn: &mut AnyConnection, person_id: &str) -> Result<PersonalData, ApiError> {
    let mut tables = BTreeMap::new();
    for (table, filter) in TABLES {
        let rows = sqlx::query(&format!("SELECT * FROM {table} WHERE {filter}"))
            .bind(person_id)
            .fetch_all(&mut *conn)
            .await?;
        let rows: Vec<Map<String, Value>> = rows.iter().map(to_json).collect();
        if !rows.is_empty() {
            tables.insert((*table).to_owned(), rows);
        }
    }
    Ok(PersonalData {
        format: PERSONAL_DATA_FORMAT.into(),
        exported_at: chrono::Utc::now(),
        person_id: person_id.to_owned(),
        tables,
    })
}

/// A row as a JSON object: the schema holds only integers, text and (rarely) reals.
fn to_json(row: &sqlx::any::AnyRow) -> Map<String, Value> {
    let mut object = Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let name = column.name();
        if withheld(name) {
            continue;
        }
        let value = if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            v.map(Value::from)
        } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            v.map(Value::from)
        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
            v.map(Value::from)
        } else {
            None
        };
        object.insert(name.to_owned(), value.unwrap_or(Value::Null));
    }
    object
}
