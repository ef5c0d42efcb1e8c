//! The people's rows.

use relay_protocol::{NewPerson, Person, PersonUpdate};

use super::{check, email, Checked};
use crate::auth::cache::SessionCache;
use crate::auth::Invalidation;
use crate::content::sanitize;
use crate::db::rows::PersonRow;
use crate::db::{new_id, now_ms, Db};
use crate::error::ApiError;
use crate::programme;

pub async fn add(
    db: &Db,
    org_id: &str,
    actor: Option<&str>,
    new: NewPerson,
) -> Result<Person, ApiError> {
    let checked = check(new)?;
    let mut tx = db.begin().await?;
    if email_taken(&mut tx, org_id, &checked.email).await? {
        return Err(ApiError::Conflict(format!(
            "{} is already a person of this organisation",
            checked.email
        )));
    }
    let person = insert(&mut tx, org_id, actor, checked).await?;
    tx.commit().await?;
    Ok(person)
}

/// Whether the organisation has a person with this (normalised) address.
pub async fn email_taken(
    conn: &mut sqlx::AnyConnection,
    org_id: &str,
    email: &str,
) -> Result<bool, ApiError> {
    let taken: Option<String> =
        sqlx::query_scalar("SELECT id FROM people WHERE org_id = $1 AND email = $2")
            .bind(org_id)
            .bind(email)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(taken.is_some())
}

/// Adds a checked person, with its audit line, in the caller's transaction.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    org_id: &str,
    actor: Option<&str>,
    checked: Checked,
) -> Result<Person, ApiError> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO people (id, org_id, name, email, country, language, department, role, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(org_id)
    .bind(&checked.name)
    .bind(&checked.email)
    .bind(&checked.country)
    .bind(&checked.language)
    .bind(&checked.department)
    .bind(checked.role.as_str())
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    crate::audit::record(
        conn,
        org_id,
        actor,
        "person.add",
        &id,
        serde_json::json!({ "role": checked.role }),
    )
    .await?;
    Ok(Person {
        id,
        name: checked.name,
        email: checked.email,
        country: checked.country,
        language: checked.language,
        department: checked.department,
        role: checked.role,
        active: true,
    })
}

pub async fn get(db: &Db, org_id: &str, person_id: &str) -> Result<Person, ApiError> {
    let row: Option<PersonRow> = sqlx::query_as(&format!(
        "SELECT {} FROM people WHERE id = $1 AND org_id = $2 AND erased_at IS NULL",
        PersonRow::COLUMNS
    ))
    .bind(person_id)
    .bind(org_id)
    .fetch_optional(&db.read)
    .await?;
    row.ok_or(ApiError::NotFound("person"))?.into_person()
}

pub async fn find_by_email(db: &Db, org_id: &str, address: &str) -> Result<Person, ApiError> {
    let row: Option<PersonRow> = sqlx::query_as(&format!(
        "SELECT {} FROM people WHERE org_id = $1 AND email = $2",
        PersonRow::COLUMNS
    ))
    .bind(org_id)
    .bind(email(address)?)
    .fetch_optional(&db.read)
    .await?;
    row.ok_or(ApiError::NotFound("person"))?.into_person()
}

/// Changes a person. A new country, language or department resets their devices' caches (their
/// audience changed); deactivation revokes every session of theirs.
pub async fn update(
    db: &Db,
    sessions: &SessionCache,
    org_id: &str,
    actor: Option<&str>,
    person_id: &str,
    patch: PersonUpdate,
) -> Result<Person, ApiError> {
    let mut tx = db.begin().await?;
    let (person, stale) = update_in(&mut tx, org_id, actor, person_id, patch).await?;
    tx.commit().await?;
    sessions.invalidate(&stale);
    Ok(person)
}

/// [`update`] in the caller's transaction; the caller invalidates the cached sessions the
/// answer names once it commits.
pub async fn update_in(
    tx: &mut sqlx::AnyConnection,
    org_id: &str,
    actor: Option<&str>,
    person_id: &str,
    patch: PersonUpdate,
) -> Result<(Person, Invalidation), ApiError> {
    let row: Option<PersonRow> = sqlx::query_as(&format!(
        "SELECT {} FROM people WHERE id = $1 AND org_id = $2 AND erased_at IS NULL{}",
        PersonRow::COLUMNS,
        programme::ledger::person_lock(&*tx)
    ))
    .bind(person_id)
    .bind(org_id)
    .fetch_optional(&mut *tx)
    .await?;
    let row = row.ok_or(ApiError::NotFound("person"))?;
    let name = patch
        .name
        .as_deref()
        .map(|v| sanitize::text("name", v, 1, 200))
        .transpose()?
        .unwrap_or(row.name.clone());
    let country = patch
        .country
        .as_deref()
        .map(|v| sanitize::country("country", v))
        .transpose()?
        .unwrap_or(row.country.clone());
    let language = patch
        .language
        .as_deref()
        .map(|v| sanitize::language("language", v))
        .transpose()?
        .unwrap_or(row.language.clone());
    let department = patch
        .department
        .as_deref()
        .map(|v| sanitize::text("department", v, 0, 100))
        .transpose()?
        .unwrap_or(row.department.clone());
    let role = patch.role.unwrap_or(row.role()?);
    let active = patch.active.unwrap_or(row.active != 0);
    let audience_changed =
        country != row.country || language != row.language || department != row.department;
    sqlx::query(
        "UPDATE people SET name = $1, country = $2, language = $3, department = $4, role = $5, active = $6, \
         audience_epoch = audience_epoch + $7 WHERE id = $8",
    )
    .bind(&name)
    .bind(&country)
    .bind(&language)
    .bind(&department)
    .bind(role.as_str())
    .bind(i64::from(active))
    .bind(i64::from(audience_changed))
    .bind(person_id)
    .execute(&mut *tx)
    .await?;
    // A month's figures and team boards keep the groups the person counted in (`month_members`).
    if !active {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE person_id = $2 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
    }
    crate::audit::record(
        &mut *tx,
        org_id,
        actor,
        "person.update",
        person_id,
        serde_json::to_value(&patch)?,
    )
    .await?;
    // Role, audience and activation travel with cached sessions: refresh them everywhere.
    let stale = Invalidation::Person(person_id.to_owned());
    let backend = crate::db::Backend::of(&*tx);
    stale.announce(&mut *tx, backend).await?;
    Ok((
        Person {
            id: row.id,
            name,
            email: row.email,
            country,
            language,
            department,
            role,
            active,
        },
        stale,
    ))
}

/// A page of the organisation's people by name; `pattern` a `LIKE` pattern matched against
/// names and addresses in lower case.
pub async fn list(
    db: &Db,
    org_id: &str,
    pattern: Option<&str>,
    limit: u32,
    offset: u32,
) -> Result<Vec<Person>, ApiError> {
    let condition = if pattern.is_some() {
        "AND (LOWER(name) LIKE $4 ESCAPE '\\' OR LOWER(email) LIKE $4 ESCAPE '\\')"
    } else {
        "AND $4 = $4"
    };
    let rows: Vec<PersonRow> = sqlx::query_as(&format!(
        "SELECT {} FROM people WHERE org_id = $1 AND erased_at IS NULL {condition} ORDER BY name, id LIMIT $2 OFFSET $3",
        PersonRow::COLUMNS
    ))
    .bind(org_id)
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .bind(pattern.unwrap_or_default())
    .fetch_all(&db.read)
    .await?;
    rows.into_iter().map(PersonRow::into_person).collect()
}
