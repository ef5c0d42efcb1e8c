//! People of an organisation and their enrolment codes. Admins manage them.

use axum::extract::State;
use axum::http::StatusCode;
use relay_protocol::{Enrolment, NewEnrolment, NewPerson, Person, PersonUpdate, Problem, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{store as sessions, Admin, Caller, Invalidation};
use crate::content::sanitize;
use crate::db::rows::PersonRow;
use crate::db::{new_id, now_ms, Db};
use crate::error::{ApiError, ApiResult, Json, Path};
use crate::programme;
use crate::state::AppState;

fn email(value: &str) -> Result<String, ApiError> {
    let value = value.trim().to_lowercase();
    let valid = value.len() <= 254
        && value
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(value)
    } else {
        Err(ApiError::bad("email is not a valid address"))
    }
}

/// A new person's fields, checked and normalised.
pub struct Checked {
    pub name: String,
    pub email: String,
    pub country: String,
    pub language: String,
    pub department: String,
    pub role: Role,
}

/// Checks a new person's fields (names, address, country and language codes).
pub fn check(new: NewPerson) -> Result<Checked, ApiError> {
    Ok(Checked {
        name: sanitize::text("name", &new.name, 1, 200)?,
        email: email(&new.email)?,
        country: sanitize::country("country", &new.country)?,
        language: sanitize::language("language", &new.language)?,
        department: sanitize::text("department", &new.department, 0, 100)?,
        role: new.role,
    })
}

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
    state: &AppState,
    org_id: &str,
    actor: Option<&str>,
    person_id: &str,
    patch: PersonUpdate,
) -> Result<Person, ApiError> {
    let mut tx = state.db.begin().await?;
    let row: Option<PersonRow> = sqlx::query_as(&format!(
        "SELECT {} FROM people WHERE id = $1 AND org_id = $2 AND erased_at IS NULL{}",
        PersonRow::COLUMNS,
        programme::ledger::person_lock(&tx)
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
        &mut tx,
        org_id,
        actor,
        "person.update",
        person_id,
        serde_json::to_value(&patch)?,
    )
    .await?;
    // Role, audience and activation travel with cached sessions: refresh them everywhere.
    let stale = Invalidation::Person(person_id.to_owned());
    stale.announce(&mut tx, state.db.backend).await?;
    tx.commit().await?;
    state.sessions.invalidate(&stale);
    Ok(Person {
        id: row.id,
        name,
        email: row.email,
        country,
        language,
        department,
        role,
        active,
    })
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PeopleQuery {
    /// Only people whose name or e-mail address contains this, in any case.
    #[param(max_length = 200)]
    q: Option<String>,
    /// Page size (default 100, at most 1,000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Entries to skip (at most 100,000).
    #[param(minimum = 0, maximum = 100000)]
    offset: Option<u32>,
}

/// The organisation's people by name, a page at a time, optionally searched. Admins.
#[utoipa::path(get, path = "/v1/people", tag = "people", params(PeopleQuery),
    responses((status = 200, body = Vec<Person>), (status = 400, body = Problem),
              (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    Admin(caller): Admin,
    crate::error::Query(q): crate::error::Query<PeopleQuery>,
) -> ApiResult<Json<Vec<Person>>> {
    let limit = crate::paging::limit(q.limit, 100, 1000)?;
    let offset = crate::paging::offset(q.offset, 100_000)?;
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.chars().count() > 200) {
        return Err(ApiError::bad("q must be at most 200 characters"));
    }
    // `%` and `_` in the search are themselves, not wildcards.
    let pattern = search.map(|s| {
        let escaped = s
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let condition = if pattern.is_some() {
        "AND (LOWER(name) LIKE $4 ESCAPE '\\' OR LOWER(email) LIKE $4 ESCAPE '\\')"
    } else {
        "AND $4 = $4"
    };
    let rows: Vec<PersonRow> = sqlx::query_as(&format!(
        "SELECT {} FROM people WHERE org_id = $1 AND erased_at IS NULL {condition} ORDER BY name, id LIMIT $2 OFFSET $3",
        PersonRow::COLUMNS
    ))
    .bind(&caller.org_id)
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .bind(pattern.unwrap_or_default())
    .fetch_all(&state.db.read)
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(PersonRow::into_person)
            .collect::<Result<_, _>>()?,
    ))
}

/// Adds a person. Admins.
#[utoipa::path(post, path = "/v1/people", tag = "people", request_body = NewPerson,
    responses((status = 201, body = Person), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(new): Json<NewPerson>,
) -> ApiResult<(StatusCode, Json<Person>)> {
    Ok((
        StatusCode::CREATED,
        Json(add(&state.db, &caller.org_id, Some(&caller.person_id), new).await?),
    ))
}

/// One person. Admins, or the person themself.
#[utoipa::path(get, path = "/v1/people/{id}", tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = Person), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Person>> {
    if id != caller.person_id {
        caller.require(Role::Admin)?;
    }
    Ok(Json(get(&state.db, &caller.org_id, &id).await?))
}

/// Changes a person. Admins.
#[utoipa::path(patch, path = "/v1/people/{id}", tag = "people", params(("id" = String, Path)),
    request_body = PersonUpdate,
    responses((status = 200, body = Person), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn patch(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Json(patch): Json<PersonUpdate>,
) -> ApiResult<Json<Person>> {
    Ok(Json(
        update(&state, &caller.org_id, Some(&caller.person_id), &id, patch).await?,
    ))
}

/// Issues an enrolment code for the person's next device. Admins.
#[utoipa::path(post, path = "/v1/people/{id}/enrolments", tag = "people", params(("id" = String, Path)),
    request_body = NewEnrolment,
    responses((status = 201, body = Enrolment), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn enrolment(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Json(req): Json<NewEnrolment>,
) -> ApiResult<(StatusCode, Json<Enrolment>)> {
    let mut tx = state.db.begin().await?;
    let enrolment = sessions::create_enrolment(
        &mut tx,
        &caller.org_id,
        &id,
        req.valid_hours,
        &state.config.public_url,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(enrolment)))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, patch))
        .routes(routes!(enrolment))
}
