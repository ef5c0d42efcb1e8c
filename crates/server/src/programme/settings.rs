//! The organisation's programme settings: the time zone its months follow, and whether team
//! boards are shown. Admins change them; every change is audited.

use axum::extract::State;
use relay_protocol::{Problem, ProgrammeSettings, ProgrammeSettingsChange};
use sqlx::AnyConnection;

use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ApiResult, Json};
use crate::state::AppState;

pub async fn read(conn: &mut AnyConnection, org_id: &str) -> Result<ProgrammeSettings, ApiError> {
    let (time_zone, team_boards): (String, i64) =
        sqlx::query_as("SELECT time_zone, team_boards FROM orgs WHERE id = $1")
            .bind(org_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(ApiError::NotFound("organisation"))?;
    Ok(ProgrammeSettings {
        time_zone,
        team_boards: team_boards != 0,
    })
}

/// The organisation's programme settings. Everyone.
#[utoipa::path(get, path = "/v1/programme/settings", tag = "programme",
    responses((status = 200, body = ProgrammeSettings), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<ProgrammeSettings>> {
    let mut conn = state.db.read.acquire().await?;
    Ok(Json(read(&mut conn, &caller.org_id).await?))
}

/// Changes the time zone (it moves the boundaries of months not closed yet) or whether team
/// boards are shown. Admins; audited.
#[utoipa::path(put, path = "/v1/programme/settings", tag = "programme",
    request_body = ProgrammeSettingsChange,
    responses((status = 200, body = ProgrammeSettings), (status = 400, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_settings(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(change): Json<ProgrammeSettingsChange>,
) -> ApiResult<Json<ProgrammeSettings>> {
    let zone = change
        .time_zone
        .as_deref()
        .map(|z| super::calendar::check_zone(z.trim()))
        .transpose()?;
    let mut tx = state.db.begin().await?;
    let before = read(&mut tx, &caller.org_id).await?;
    let after = ProgrammeSettings {
        time_zone: zone.map_or(before.time_zone.clone(), |z| z.name().to_owned()),
        team_boards: change.team_boards.unwrap_or(before.team_boards),
    };
    if after != before {
        sqlx::query("UPDATE orgs SET time_zone = $1, team_boards = $2 WHERE id = $3")
            .bind(&after.time_zone)
            .bind(i64::from(after.team_boards))
            .bind(&caller.org_id)
            .execute(&mut *tx)
            .await?;
        crate::audit::record(
            &mut tx,
            &caller.org_id,
            Some(&caller.person_id),
            "programme.settings",
            &caller.org_id,
            serde_json::to_value(&after)?,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Json(after))
}
