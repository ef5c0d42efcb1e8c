//! Provisioned users: each a person of the organisation with a `scim_users` row. Creating one
//! whose address is already a person's (imported by CSV, added by an admin) takes that person
//! over rather than refusing: moving a company to its directory keeps everyone's history.

use relay_protocol::{PersonUpdate, Role};
use sqlx::{AnyConnection, Row};

use super::error::ScimError;
use super::query::Filter;
use super::user::{PersonFields, ScimUser};

use crate::db::now_ms;
use crate::people::Checked;
use crate::state::AppState;

/// A provisioned user as stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub person_id: String,
    pub email: String,
    pub user: ScimUser,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT s.person_id, p.email, p.active, p.department, s.user_name, \
     s.external_id, s.given_name, s.family_name, s.formatted_name, s.display_name, s.country, \
     s.preferred_language, s.created_at, s.updated_at \
     FROM scim_users s JOIN people p ON p.id = s.person_id \
     WHERE s.org_id = $1 AND p.erased_at IS NULL";

fn stored(row: &sqlx::any::AnyRow) -> Result<Stored, sqlx::Error> {
    let department: String = row.try_get("department")?;
    Ok(Stored {
        person_id: row.try_get("person_id")?,
        email: row.try_get("email")?,
        user: ScimUser {
            user_name: row.try_get("user_name")?,
            external_id: row.try_get("external_id")?,
            given_name: row.try_get("given_name")?,
            family_name: row.try_get("family_name")?,
            formatted_name: row.try_get("formatted_name")?,
            display_name: row.try_get("display_name")?,
            email: None,
            country: row.try_get("country")?,
            preferred_language: row.try_get("preferred_language")?,
            department: (!department.is_empty()).then_some(department),
            active: row.try_get::<i64, _>("active")? != 0,
        },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn load(
    conn: &mut AnyConnection,
    org_id: &str,
    person_id: &str,
) -> Result<Option<Stored>, ScimError> {
    let row = sqlx::query(&format!("{SELECT} AND s.person_id = $2"))
        .bind(org_id)
        .bind(person_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(stored).transpose()?)
}

/// A page of provisioned users (`start` 1-based) and how many match in all.
pub async fn list(
    conn: &mut AnyConnection,
    org_id: &str,
    filter: Option<&Filter>,
    start: i64,
    count: i64,
) -> Result<(i64, Vec<Stored>), ScimError> {
    let (condition, value) = match filter {
        None => ("AND $2 = $2", String::new()),
        Some(Filter::UserName(v)) => ("AND s.user_name_key = $2", v.to_lowercase()),
        Some(Filter::ExternalId(v)) => ("AND s.external_id = $2", v.clone()),
        Some(Filter::Id(v)) => ("AND s.person_id = $2", v.clone()),
        Some(Filter::Email(v)) => ("AND p.email = $2", v.trim().to_lowercase()),
    };
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM scim_users s JOIN people p ON p.id = s.person_id \
         WHERE s.org_id = $1 AND p.erased_at IS NULL {condition}"
    ))
    .bind(org_id)
    .bind(&value)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query(&format!(
        "{SELECT} {condition} ORDER BY s.created_at, s.person_id LIMIT $3 OFFSET $4"
    ))
    .bind(org_id)
    .bind(&value)
    .bind(count)
    .bind(start - 1)
    .fetch_all(&mut *conn)
    .await?;
    let users = rows.iter().map(stored).collect::<Result<Vec<_>, _>>()?;
    Ok((total, users))
}

/// Refuses a `userName` another provisioned user of the organisation has.
async fn user_name_free(
    conn: &mut AnyConnection,
    org_id: &str,
    user_name: &str,
    except: Option<&str>,
) -> Result<(), ScimError> {
    let holder: Option<String> = sqlx::query_scalar(
        "SELECT person_id FROM scim_users WHERE org_id = $1 AND user_name_key = $2",
    )
    .bind(org_id)
    .bind(user_name.to_lowercase())
    .fetch_optional(&mut *conn)
    .await?;
    match holder {
        Some(holder) if Some(holder.as_str()) != except => Err(ScimError::uniqueness(format!(
            "userName {user_name} is another user's"
        ))),
        _ => Ok(()),
    }
}

/// The person holding an address, and whether the directory provisioned them already.
async fn holder_of(
    conn: &mut AnyConnection,
    org_id: &str,
    email: &str,
) -> Result<Option<(String, bool)>, ScimError> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT p.id, s.person_id FROM people p LEFT JOIN scim_users s ON s.person_id = p.id \
         WHERE p.org_id = $1 AND p.email = $2 AND p.erased_at IS NULL",
    )
    .bind(org_id)
    .bind(email)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(id, provisioned)| (id, provisioned.is_some())))
}

fn update_of(fields: &PersonFields) -> PersonUpdate {
    PersonUpdate {
        name: Some(fields.name.clone()),
        country: Some(fields.country.clone()),
        language: Some(fields.language.clone()),
        department: Some(fields.department.clone()),
        role: None,
        active: Some(fields.active),
    }
}

async fn write_row(
    conn: &mut AnyConnection,
    org_id: &str,
    person_id: &str,
    user: &ScimUser,
    insert: bool,
) -> Result<(), ScimError> {
    let now = now_ms();
    let sql = if insert {
        "INSERT INTO scim_users (user_name, user_name_key, external_id, given_name, family_name, \
         formatted_name, display_name, country, preferred_language, updated_at, person_id, org_id, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $10)"
    } else {
        "UPDATE scim_users SET user_name = $1, user_name_key = $2, external_id = $3, \
         given_name = $4, family_name = $5, formatted_name = $6, display_name = $7, country = $8, \
         preferred_language = $9, updated_at = $10 WHERE person_id = $11 AND org_id = $12"
    };
    sqlx::query(sql)
        .bind(&user.user_name)
        .bind(user.user_name.to_lowercase())
        .bind(&user.external_id)
        .bind(&user.given_name)
        .bind(&user.family_name)
        .bind(&user.formatted_name)
        .bind(&user.display_name)
        .bind(&user.country)
        .bind(&user.preferred_language)
        .bind(now)
        .bind(person_id)
        .bind(org_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn audit(
    conn: &mut AnyConnection,
    org_id: &str,
    action: &str,
    person_id: &str,
    token_id: &str,
) -> Result<(), ScimError> {
    crate::audit::record(
        conn,
        org_id,
        None,
        action,
        person_id,
        serde_json::json!({ "scim_token": token_id }),
    )
    .await?;
    Ok(())
}

/// Provisions a user: a new person, or the person who has the address already.
pub async fn create(
    state: &AppState,
    org_id: &str,
    token_id: &str,
    user: &ScimUser,
    fields: PersonFields,
) -> Result<Stored, ScimError> {
    let mut tx = state.db.begin().await?;
    user_name_free(&mut tx, org_id, &user.user_name, None).await?;
    let mut stale = None;
    let person_id = match holder_of(&mut tx, org_id, &fields.email).await? {
        Some((_, true)) => {
            return Err(ScimError::uniqueness(format!(
                "{} is another provisioned user's address",
                fields.email
            )))
        }
        Some((existing, false)) => {
            let (_, invalidation) =
                crate::people::update_in(&mut tx, org_id, None, &existing, update_of(&fields))
                    .await?;
            stale = Some(invalidation);
            existing
        }
        None => {
            let person = crate::people::insert(
                &mut tx,
                org_id,
                None,
                Checked {
                    name: fields.name.clone(),
                    email: fields.email.clone(),
                    country: fields.country.clone(),
                    language: fields.language.clone(),
                    department: fields.department.clone(),
                    role: Role::Employee,
                },
            )
            .await?;
            if !fields.active {
                let (_, invalidation) =
                    crate::people::update_in(&mut tx, org_id, None, &person.id, update_of(&fields))
                        .await?;
                stale = Some(invalidation);
            }
            person.id
        }
    };
    write_row(&mut tx, org_id, &person_id, user, true).await?;
    audit(&mut tx, org_id, "scim.user.create", &person_id, token_id).await?;
    let stored = load(&mut tx, org_id, &person_id)
        .await?
        .ok_or_else(ScimError::not_found)?;
    tx.commit().await?;
    if let Some(stale) = stale {
        state.sessions.invalidate(&stale);
    }
    Ok(stored)
}

/// Replaces what the directory says of a provisioned user: `change` makes the new user from
/// the stored one (PUT ignores it; PATCH applies its operations to it), read under a lock in
/// the same transaction, so that two changes at once never lose one another.
pub async fn replace(
    state: &AppState,
    org_id: &str,
    token_id: &str,
    person_id: &str,
    change: impl FnOnce(&Stored) -> Result<(ScimUser, PersonFields), ScimError>,
) -> Result<Stored, ScimError> {
    let mut tx = state.db.begin().await?;
    let lock = crate::db::Backend::of(&tx).for_update();
    let row = sqlx::query(&format!("{SELECT} AND s.person_id = $2{lock}"))
        .bind(org_id)
        .bind(person_id)
        .fetch_optional(&mut *tx)
        .await?;
    let current = row
        .as_ref()
        .map(stored)
        .transpose()?
        .ok_or_else(ScimError::not_found)?;
    let (user, fields) = change(&current)?;
    let user = &user;
    user_name_free(&mut tx, org_id, &user.user_name, Some(person_id)).await?;
    match holder_of(&mut tx, org_id, &fields.email).await? {
        Some((holder, _)) if holder != person_id => {
            return Err(ScimError::uniqueness(format!(
                "{} is another person's address",
                fields.email
            )))
        }
        Some(_) => {}
        // A new address: people sign in with it from now on.
        None => {
            sqlx::query("UPDATE people SET email = $1 WHERE id = $2 AND org_id = $3")
                .bind(&fields.email)
                .bind(person_id)
                .bind(org_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    let (_, stale) =
        crate::people::update_in(&mut tx, org_id, None, person_id, update_of(&fields)).await?;
    write_row(&mut tx, org_id, person_id, user, false).await?;
    audit(&mut tx, org_id, "scim.user.replace", person_id, token_id).await?;
    let stored = load(&mut tx, org_id, person_id)
        .await?
        .ok_or_else(ScimError::not_found)?;
    tx.commit().await?;
    state.sessions.invalidate(&stale);
    Ok(stored)
}

/// A user the directory deletes is erased, as an admin's erasure would (docs/privacy.md).
pub async fn delete(
    state: &AppState,
    org_id: &str,
    token_id: &str,
    person_id: &str,
) -> Result<(), ScimError> {
    {
        let mut conn = state.db.read.acquire().await?;
        load(&mut conn, org_id, person_id)
            .await?
            .ok_or_else(ScimError::not_found)?;
    }
    crate::personal::erase(
        state,
        org_id,
        person_id,
        crate::personal::Requester::Directory(token_id),
    )
    .await?;
    Ok(())
}
