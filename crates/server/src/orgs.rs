//! Organisations (tenants). Created from the command line; every other table hangs off one.

use relay_protocol::Org;

use crate::db::rows::OrgRow;
use crate::db::{new_id, now_ms, Db};
use crate::error::ApiError;

pub async fn create(db: &Db, name: &str, slug: &str) -> Result<Org, ApiError> {
    let name = crate::content::sanitize::text("name", name, 1, 200)?;
    let slug = slug.trim().to_ascii_lowercase();
    if slug.is_empty()
        || slug.len() > 64
        || !slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ApiError::bad(
            "slug must be 1 to 64 letters, digits or dashes",
        ));
    }
    let id = new_id();
    let inserted = sqlx::query("INSERT INTO orgs (id, slug, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (slug) DO NOTHING")
        .bind(&id)
        .bind(&slug)
        .bind(&name)
        .bind(now_ms())
        .execute(&db.write)
        .await?;
    if inserted.rows_affected() == 0 {
        return Err(ApiError::Conflict(format!(
            "an organisation {slug:?} already exists"
        )));
    }
    Ok(Org { id, slug, name })
}

pub async fn find(db: &Db, slug: &str) -> Result<Option<Org>, ApiError> {
    let row: Option<OrgRow> = sqlx::query_as("SELECT id, slug, name FROM orgs WHERE slug = $1")
        .bind(slug.trim().to_ascii_lowercase())
        .fetch_optional(&db.read)
        .await?;
    Ok(row.map(Org::from))
}

/// The organisation with this id (the caller's: it exists).
pub async fn by_id(db: &Db, id: &str) -> Result<Org, ApiError> {
    let row: OrgRow = sqlx::query_as("SELECT id, slug, name FROM orgs WHERE id = $1")
        .bind(id)
        .fetch_one(&db.read)
        .await?;
    Ok(Org::from(row))
}

pub async fn by_slug(db: &Db, slug: &str) -> Result<Org, ApiError> {
    find(db, slug)
        .await?
        .ok_or(ApiError::NotFound("organisation"))
}

/// Sets the organisation's time zone (an IANA name), which the programme's months follow.
/// Audited; it moves the boundaries of months not closed yet.
pub async fn set_time_zone(db: &Db, org_id: &str, zone: &str) -> Result<(), ApiError> {
    let zone = crate::programme::calendar::check_zone(zone.trim())?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE orgs SET time_zone = $1 WHERE id = $2")
        .bind(zone.name())
        .bind(org_id)
        .execute(&mut *tx)
        .await?;
    crate::audit::record(
        &mut tx,
        org_id,
        None,
        "org.time_zone_set",
        org_id,
        serde_json::json!({ "time_zone": zone.name() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
