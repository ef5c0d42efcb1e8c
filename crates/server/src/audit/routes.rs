//! `GET /v1/audit`: the audit log, for curators.

use axum::extract::State;
use relay_protocol::AuditEntry;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Curator;
use crate::db::to_time;
use crate::error::{ApiResult, Json, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries about this subject (a content item, a person...).
    pub subject_id: Option<String>,
    /// Only entries whose action starts with this (`content.`, `person.add`...).
    pub action: Option<String>,
    /// Only entries by this person.
    pub actor_id: Option<String>,
    /// At most this many entries, newest first (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    at: i64,
    actor_id: Option<String>,
    action: String,
    subject_id: String,
    detail: String,
}

/// The organisation's audit log, newest first. Curators and admins.
#[utoipa::path(get, path = "/v1/audit", tag = "curation", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let limit = i64::from(crate::paging::limit(q.limit, 100, 1000)?);
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT at, actor_id, action, subject_id, detail FROM audit_log \
         WHERE org_id = $1 AND ($2 IS NULL OR subject_id = $2) \
         AND ($3 IS NULL OR action LIKE $3 ESCAPE '\\') AND ($4 IS NULL OR actor_id = $4) \
         ORDER BY id DESC LIMIT $5",
    )
    .bind(&caller.org_id)
    .bind(q.subject_id)
    .bind(q.action.as_deref().map(crate::db::like_prefix))
    .bind(q.actor_id)
    .bind(limit)
    .fetch_all(&state.db.read)
    .await?;
    let entries = rows
        .into_iter()
        .map(|r| AuditEntry {
            at: to_time(r.at),
            actor_id: r.actor_id,
            action: r.action,
            subject_id: r.subject_id,
            detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(Json(entries))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}
