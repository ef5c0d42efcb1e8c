//! Exports of one person's figures: off unless the organisation turned them on with a recorded
//! reason. The switch, its reason and every export are audited, and every employee's app shows
//! the switch (`GET /v1/privacy`).

use axum::extract::State;
use relay_protocol::{
    IndividualExport, IndividualExportChange, PersonMonth, PrivacySettings, Problem, MIN_GROUP,
};
use sqlx::AnyConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Admin, Caller};
use crate::content::sanitize;
use crate::db::{now_ms, to_time};
use crate::error::{ApiError, ApiResult, Json, Path};
use crate::state::AppState;

async fn settings(conn: &mut AnyConnection, org_id: &str) -> Result<PrivacySettings, ApiError> {
    let (reason, since): (Option<String>, Option<i64>) = sqlx::query_as(
        "SELECT individual_export_reason, individual_export_since FROM orgs WHERE id = $1",
    )
    .bind(org_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ApiError::NotFound("organisation"))?;
    Ok(PrivacySettings {
        min_group: MIN_GROUP,
        individual_export: IndividualExport {
            enabled: since.is_some(),
            reason: since.and(reason),
            since: since.map(to_time),
        },
    })
}

/// The organisation's privacy settings. Everyone.
#[utoipa::path(get, path = "/v1/privacy", tag = "analytics",
    responses((status = 200, body = PrivacySettings), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn privacy(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<PrivacySettings>> {
    let mut conn = state.db.read.acquire().await?;
    Ok(Json(settings(&mut conn, &caller.org_id).await?))
}

/// Turns exports of one person's figures on (with a reason, 10 to 500 characters) or off.
/// Admins; audited.
#[utoipa::path(put, path = "/v1/privacy/individual-export", tag = "analytics",
    request_body = IndividualExportChange,
    responses((status = 200, body = PrivacySettings), (status = 400, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn set_individual_export(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(change): Json<IndividualExportChange>,
) -> ApiResult<Json<PrivacySettings>> {
    let reason = match (change.enabled, change.reason.as_deref()) {
        (true, Some(reason)) => Some(sanitize::text("reason", reason, 10, 500)?),
        (true, None) => {
            return Err(ApiError::bad(
                "turning individual exports on needs a reason (10 to 500 characters)",
            ))
        }
        (false, _) => None,
    };
    let mut tx = state.db.begin().await?;
    let current = settings(&mut tx, &caller.org_id).await?;
    // Turning it on again with the same reason changes nothing (its date stays).
    let unchanged = current.individual_export.enabled == change.enabled
        && (!change.enabled || current.individual_export.reason == reason);
    if !unchanged {
        sqlx::query(
            "UPDATE orgs SET individual_export_reason = $1, individual_export_since = $2 WHERE id = $3",
        )
        .bind(&reason)
        .bind(change.enabled.then(now_ms))
        .bind(&caller.org_id)
        .execute(&mut *tx)
        .await?;
        crate::audit::record(
            &mut tx,
            &caller.org_id,
            Some(&caller.person_id),
            "privacy.individual_export",
            &caller.org_id,
            serde_json::json!({ "enabled": change.enabled, "reason": reason }),
        )
        .await?;
    }
    let now = settings(&mut tx, &caller.org_id).await?;
    tx.commit().await?;
    Ok(Json(now))
}

/// One person's points, verified and declared shares and clicks, month by month. Admins, and only
/// while individual exports are on; every export is audited.
#[utoipa::path(get, path = "/v1/people/{id}/figures", tag = "analytics",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<PersonMonth>), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn person_figures(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<PersonMonth>>> {
    let mut tx = state.db.begin().await?;
    if !settings(&mut tx, &caller.org_id)
        .await?
        .individual_export
        .enabled
    {
        return Err(ApiError::Forbidden(
            "exports of one person's figures are off in this organisation".into(),
        ));
    }
    crate::people::get(&state.db, &caller.org_id, &id).await?;
    let rows: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT month, points, verified, declared, clicks FROM points_totals \
         WHERE person_id = $1 AND org_id = $2 AND month <> '*' ORDER BY month",
    )
    .bind(&id)
    .bind(&caller.org_id)
    .fetch_all(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        &caller.org_id,
        Some(&caller.person_id),
        "person.figures_export",
        &id,
        serde_json::json!({ "months": rows.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(
        rows.into_iter()
            .map(|(month, points, verified, declared, clicks)| PersonMonth {
                month,
                points,
                verified,
                declared,
                clicks,
            })
            .collect(),
    ))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(privacy))
        .routes(routes!(set_individual_export))
        .routes(routes!(person_figures))
}
