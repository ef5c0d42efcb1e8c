//! `/scim/v2`: the Users endpoint and the discovery documents, each answer
//! `application/scim+json`, each error a SCIM error.

use std::collections::HashMap;

use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::error::ScimError;
use super::query::{paging, project, Filter};
use super::store::{self, Stored};
use super::tokens::ScimOrg;
use super::user::ScimUser;
use super::{discovery, CONTENT_TYPE, LIST_SCHEMA};
use crate::db::to_time;
use crate::error::{ApiError, Json};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(resource_type))
        .route("/scim/v2/Schemas", get(schemas))
        .route("/scim/v2/Schemas/{id}", get(schema))
        .route("/scim/v2/Users", get(list_users).post(create_user))
        .route("/scim/v2/Users/.search", post(search_users))
        .route(
            "/scim/v2/Users/{id}",
            get(get_user)
                .put(replace_user)
                .patch(patch_user)
                .delete(delete_user),
        )
        .route("/scim/v2/.search", post(search_everything))
        .route("/scim/v2/{*rest}", axum::routing::any(unknown))
}

fn base(state: &AppState) -> String {
    format!("{}/scim/v2", state.config.public_url.trim_end_matches('/'))
}

fn scim(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        body.to_string(),
    )
        .into_response()
}

/// A JSON body (`application/scim+json` or `application/json`, one object, no repeated key),
/// refused the SCIM way.
pub struct ScimBody(pub Value);

impl FromRequest<AppState> for ScimBody {
    type Rejection = ScimError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ScimError> {
        match Json::<Value>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ScimBody(value)),
            Err(ApiError::BadRequest(detail)) => Err(ScimError::invalid_syntax(detail)),
            Err(other) => Err(ScimError::new(other.status(), None, other.to_string())),
        }
    }
}

/// The query's parameters, names compared without regard to case.
fn parameters(raw: Option<String>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
        .collect()
}

fn number(parameters: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ScimError> {
    parameters
        .get(&name.to_ascii_lowercase())
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| ScimError::invalid_value(format!("{name} must be a number")))
        })
        .transpose()
}

fn resource(state: &AppState, stored: &Stored) -> Value {
    let mut user = stored.user.to_json(&stored.person_id, &stored.email);
    user["meta"] = json!({
        "resourceType": "User",
        "created": to_time(stored.created_at).to_rfc3339(),
        "lastModified": to_time(stored.updated_at).to_rfc3339(),
        "location": format!("{}/Users/{}", base(state), stored.person_id),
        "version": format!("W/\"{}\"", stored.updated_at),
    });
    user
}

fn one_user(state: &AppState, status: StatusCode, stored: &Stored) -> Response {
    let body = resource(state, stored);
    let location = body["meta"]["location"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut response = scim(status, body);
    if status == StatusCode::CREATED {
        if let Ok(value) = header::HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
    }
    response
}

fn defaults(state: &AppState) -> (String, String) {
    match &state.config.oidc {
        Some(oidc) => (oidc.default_country.clone(), oidc.default_language.clone()),
        None => ("US".into(), "en".into()),
    }
}

async fn service_provider_config(State(state): State<AppState>) -> Response {
    scim(
        StatusCode::OK,
        discovery::service_provider_config(&base(&state)),
    )
}

fn list_response(resources: Vec<Value>, total: i64, start: i64) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

async fn resource_types(State(state): State<AppState>) -> Response {
    let types = vec![discovery::user_resource_type(&base(&state))];
    scim(StatusCode::OK, list_response(types, 1, 1))
}

async fn resource_type(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ScimError> {
    if id != "User" {
        return Err(ScimError::new(
            StatusCode::NOT_FOUND,
            None,
            "no such resource type",
        ));
    }
    Ok(scim(
        StatusCode::OK,
        discovery::user_resource_type(&base(&state)),
    ))
}

fn all_schemas(state: &AppState) -> Vec<Value> {
    let base = base(state);
    vec![
        discovery::user_schema(&base),
        discovery::enterprise_schema(&base),
    ]
}

async fn schemas(State(state): State<AppState>) -> Response {
    let all = all_schemas(&state);
    let total = all.len() as i64;
    scim(StatusCode::OK, list_response(all, total, 1))
}

async fn schema(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ScimError> {
    all_schemas(&state)
        .into_iter()
        .find(|s| s["id"] == id.as_str())
        .map(|s| scim(StatusCode::OK, s))
        .ok_or_else(|| ScimError::new(StatusCode::NOT_FOUND, None, "no such schema"))
}

/// The list or search both answer: a filtered page, projected.
async fn users_page(
    state: &AppState,
    org: &ScimOrg,
    filter: Option<&str>,
    start: Option<i64>,
    count: Option<i64>,
    attributes: Option<&str>,
    excluded: Option<&str>,
) -> Result<Response, ScimError> {
    let filter = filter
        .filter(|f| !f.trim().is_empty())
        .map(Filter::parse)
        .transpose()?;
    let (start, count) = paging(start, count);
    let mut conn = state.db.read.acquire().await?;
    let (total, users) = store::list(&mut conn, &org.org_id, filter.as_ref(), start, count).await?;
    let resources = users
        .iter()
        .map(|stored| {
            let mut user = resource(state, stored);
            project(&mut user, attributes, excluded);
            user
        })
        .collect();
    Ok(scim(StatusCode::OK, list_response(resources, total, start)))
}

async fn list_users(
    State(state): State<AppState>,
    org: ScimOrg,
    RawQuery(raw): RawQuery,
) -> Result<Response, ScimError> {
    let p = parameters(raw);
    users_page(
        &state,
        &org,
        p.get("filter").map(String::as_str),
        number(&p, "startIndex")?,
        number(&p, "count")?,
        p.get("attributes").map(String::as_str),
        p.get("excludedattributes").map(String::as_str),
    )
    .await
}

/// `POST /Users/.search`: the same, asked in a body (RFC 7644 §3.4.3).
async fn search_users(
    State(state): State<AppState>,
    org: ScimOrg,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let object = body.as_object().cloned().unwrap_or_default();
    let get = |name: &str| super::user::field(&object, name);
    let list = |name: &str| -> Result<Option<String>, ScimError> {
        match get(name) {
            None => Ok(None),
            Some(Value::Array(names)) => Ok(Some(
                names
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            )),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ScimError::invalid_value(format!(
                "{name} must be a list of names"
            ))),
        }
    };
    let int = |name: &str| -> Result<Option<i64>, ScimError> {
        match get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| ScimError::invalid_value(format!("{name} must be a number"))),
        }
    };
    let filter = match get("filter") {
        None => None,
        Some(Value::String(f)) => Some(f.clone()),
        Some(_) => return Err(ScimError::invalid_filter("filter must be a string")),
    };
    users_page(
        &state,
        &org,
        filter.as_deref(),
        int("startIndex")?,
        int("count")?,
        list("attributes")?.as_deref(),
        list("excludedAttributes")?.as_deref(),
    )
    .await
}

/// Searching every resource type at once is not offered (RFC 7644 §3.4.3 allows 501).
/// The body is read first: answering before it is read would have the connection reset under
/// a client still sending it.
async fn search_everything(_body: axum::body::Bytes) -> ScimError {
    ScimError::new(
        StatusCode::NOT_IMPLEMENTED,
        None,
        "search /Users/.search: Relay serves Users only",
    )
}

async fn unknown() -> ScimError {
    ScimError::new(StatusCode::NOT_FOUND, None, "no such SCIM endpoint")
}

async fn get_user(
    State(state): State<AppState>,
    org: ScimOrg,
    axum::extract::Path(id): axum::extract::Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ScimError> {
    let p = parameters(raw);
    let mut conn = state.db.read.acquire().await?;
    let stored = store::load(&mut conn, &org.org_id, &id)
        .await?
        .ok_or_else(ScimError::not_found)?;
    let mut user = resource(&state, &stored);
    project(
        &mut user,
        p.get("attributes").map(String::as_str),
        p.get("excludedattributes").map(String::as_str),
    );
    Ok(scim(StatusCode::OK, user))
}

async fn create_user(
    State(state): State<AppState>,
    org: ScimOrg,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let user = ScimUser::from_json(&body)?;
    let (country, language) = defaults(&state);
    let fields = user.person((&country, &language))?;
    let stored = store::create(&state, &org.org_id, &org.token_id, &user, fields).await?;
    Ok(one_user(&state, StatusCode::CREATED, &stored))
}

async fn replace_user(
    State(state): State<AppState>,
    org: ScimOrg,
    axum::extract::Path(id): axum::extract::Path<String>,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    if let Some(given) = body.get("id").and_then(Value::as_str) {
        if given != id {
            return Err(ScimError::mutability("id cannot be changed"));
        }
    }
    let user = ScimUser::from_json(&body)?;
    let (country, language) = defaults(&state);
    let fields = user.person((&country, &language))?;
    let stored = store::replace(&state, &org.org_id, &org.token_id, &id, |_| {
        Ok((user, fields))
    })
    .await?;
    Ok(one_user(&state, StatusCode::OK, &stored))
}

async fn patch_user(
    State(state): State<AppState>,
    org: ScimOrg,
    axum::extract::Path(id): axum::extract::Path<String>,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let (country, language) = defaults(&state);
    let stored = store::replace(&state, &org.org_id, &org.token_id, &id, |current| {
        let mut user = current.user.clone();
        user.email = Some(current.email.clone());
        super::patch::apply(&mut user, &body)?;
        let fields = user.person((&country, &language))?;
        Ok((user, fields))
    })
    .await?;
    Ok(one_user(&state, StatusCode::OK, &stored))
}

async fn delete_user(
    State(state): State<AppState>,
    org: ScimOrg,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<StatusCode, ScimError> {
    store::delete(&state, &org.org_id, &org.token_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
