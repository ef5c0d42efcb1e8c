//! People imported from a CSV file (an HR export): every row is checked first, and a file with
//! any invalid row imports nothing, with a report that names each bad row and why.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use relay_protocol::{ImportReport, ImportRowError, NewPerson, Problem, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult, Json};
use crate::state::AppState;

/// Largest file taken: 20,000 people and more at under 100 bytes a row.
pub const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;
/// Most rows in one file.
pub const MAX_ROWS: usize = 50_000;

const COLUMNS: [&str; 6] = ["name", "email", "country", "language", "department", "role"];

/// Imports people from CSV (`text/csv`, UTF-8, comma-separated, with a header row naming the
/// columns `name`, `email`, `country`, `language` and optionally `department` and `role`,
/// in any order). Nothing is imported unless every row is valid and new. Admins.
#[utoipa::path(post, path = "/v1/people/import", tag = "people",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 400, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem)),
    security(("bearer" = [])))]
async fn import(
    State(state): State<AppState>,
    Admin(caller): Admin,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ImportReport>> {
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media != "text/csv" && media != "text/plain" {
        return Err(ApiError::UnsupportedMediaType(
            "send the file as text/csv".into(),
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_IMPORT_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_IMPORT_BYTES))?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| ApiError::bad("the file must be UTF-8 text"))?;
    let rows = parse(text)?;
    let mut report = ImportReport {
        rows: rows.len() as u32,
        imported: 0,
        errors: Vec::new(),
    };
    let mut checked = Vec::with_capacity(rows.len());
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut tx = state.db.begin().await?;
    for (line, row) in rows {
        let person = match row.map_err(ApiError::BadRequest).and_then(super::check) {
            Ok(person) => person,
            Err(e) => {
                report.errors.push(ImportRowError {
                    line,
                    error: e.to_string(),
                });
                continue;
            }
        };
        if let Some(first) = seen.insert(person.email.clone(), line) {
            report.errors.push(ImportRowError {
                line,
                error: format!("{} is already on line {first}", person.email),
            });
        } else if super::store::email_taken(&mut tx, &caller.org_id, &person.email).await? {
            report.errors.push(ImportRowError {
                line,
                error: format!("{} is already a person of this organisation", person.email),
            });
        } else {
            checked.push(person);
        }
    }
    if !report.errors.is_empty() {
        return Ok(Json(report));
    }
    for person in checked {
        super::store::insert(&mut tx, &caller.org_id, Some(&caller.person_id), person).await?;
        report.imported += 1;
    }
    tx.commit().await?;
    Ok(Json(report))
}

/// A row of the file: its line, and the person it describes or why it describes none.
type Row = (u32, Result<NewPerson, String>);

/// The file's rows, or why the file as a whole cannot be read.
fn parse(body: &str) -> Result<Vec<Row>, ApiError> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::bad(format!("the file's header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    for h in &header {
        if !COLUMNS.contains(&h.as_str()) {
            return Err(ApiError::bad(format!(
                "unknown column {h:?}: the columns are {}",
                COLUMNS.join(", ")
            )));
        }
    }
    let (Some(name), Some(email), Some(country), Some(language)) = (
        column("name"),
        column("email"),
        column("country"),
        column("language"),
    ) else {
        return Err(ApiError::bad(
            "the header row must name the columns name, email, country and language",
        ));
    };
    let (department, role) = (column("department"), column("role"));
    let mut rows = Vec::new();
    for record in reader.records() {
        let record =
            record.map_err(|e| ApiError::bad(format!("the file is not valid CSV: {e}")))?;
        let line = record.position().map_or(0, |p| p.line() as u32);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(ApiError::bad(format!("at most {MAX_ROWS} rows at a time")));
        }
        let cell = |i: usize| record.get(i).unwrap_or("").to_owned();
        let role = match role.map(cell).filter(|r| !r.is_empty()) {
            None => Ok(Role::Employee),
            Some(r) => r
                .to_ascii_lowercase()
                .parse::<Role>()
                .map_err(|_| format!("role {r:?} is not employee, curator or admin")),
        };
        rows.push((
            line,
            role.map(|role| NewPerson {
                name: cell(name),
                email: cell(email),
                country: cell(country),
                language: cell(language),
                department: department.map(cell).unwrap_or_default(),
                role,
            }),
        ));
    }
    Ok(rows)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import))
}
