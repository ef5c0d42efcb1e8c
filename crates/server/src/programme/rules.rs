//! Points rules per organisation, from a month on. A month's rules are frozen once it has
//! begun; every change is audited.

use axum::extract::State;
use relay_protocol::{MonthRules, Problem, RulesChange};
use serde::Deserialize;

use super::calendar::Month;
pub use super::rules_cache::{rules_for, RulesCache};
use crate::auth::{Admin, Caller};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::state::AppState;

/// Sets rules from a month that has not begun. `actor` is `None` for the command line.
pub async fn set(
    state: &AppState,
    org_id: &str,
    actor: Option<&str>,
    change: &RulesChange,
) -> Result<MonthRules, ApiError> {
    let from = Month::parse(&change.from_month)?;
    let r = &change.rules;
    let limits = [
        ("verified_share", r.verified_share, 1000),
        ("declared_share", r.declared_share, 1000),
        ("daily_cap", r.daily_cap, 1000),
        ("click", r.click, 1000),
        ("click_cap", r.click_cap, 100_000),
    ];
    if let Some((name, _, max)) = limits.iter().find(|(_, v, max)| v > max) {
        return Err(ApiError::bad(format!("{name} must be at most {max}")));
    }
    let mut tx = state.db.begin().await?;
    let calendar = super::calendar::calendar_of(&mut tx, state.config.month_grace, org_id).await?;
    let current = calendar.month_of(chrono::Utc::now());
    if from <= current {
        return Err(ApiError::Conflict(format!(
            "the rules of {} are frozen: it has begun (set them from {} on)",
            from.name(),
            current.next()
        )));
    }
    let json = serde_json::to_string(r)?;
    sqlx::query(
        "INSERT INTO points_rules (org_id, from_month, rules, set_at, set_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (org_id, from_month) DO UPDATE SET rules = excluded.rules, set_at = excluded.set_at, \
         set_by = excluded.set_by",
    )
    .bind(org_id)
    .bind(from.to_string())
    .bind(&json)
    .bind(now_ms())
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        org_id,
        actor,
        "programme.rules_set",
        &from.to_string(),
        serde_json::json!({ "from_month": from.to_string(), "rules": r }),
    )
    .await?;
    tx.commit().await?;
    Ok(MonthRules {
        month: from.to_string(),
        rules: *r,
        frozen: false,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MonthQuery {
    /// `YYYY-MM`; the current month when absent.
    pub month: Option<String>,
}

/// The month asked for, or the current one.
pub fn month_or_current(
    asked: Option<&str>,
    calendar: &super::calendar::Calendar,
) -> Result<Month, ApiError> {
    match asked {
        Some(m) => Month::parse(m),
        None => Ok(calendar.month_of(chrono::Utc::now())),
    }
}

/// The points rules of a month (the current one by default). Everyone may read them.
#[utoipa::path(get, path = "/v1/programme/rules", tag = "programme", params(MonthQuery),
    responses((status = 200, body = MonthRules), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_rules(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MonthQuery>,
) -> ApiResult<Json<MonthRules>> {
    let mut conn = state.db.read.acquire().await?;
    let calendar =
        super::calendar::calendar_of(&mut conn, state.config.month_grace, &caller.org_id).await?;
    let month = month_or_current(q.month.as_deref(), &calendar)?;
    let rules = rules_for(&mut conn, &caller.org_id, month).await?;
    Ok(Json(MonthRules {
        month: month.to_string(),
        rules,
        frozen: month <= calendar.month_of(chrono::Utc::now()),
    }))
}

/// Sets the points rules from a month that has not begun yet. Admins.
#[utoipa::path(put, path = "/v1/programme/rules", tag = "programme", request_body = RulesChange,
    responses((status = 200, body = MonthRules), (status = 400, body = Problem),
              (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_rules(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(change): Json<RulesChange>,
) -> ApiResult<Json<MonthRules>> {
    Ok(Json(
        set(&state, &caller.org_id, Some(&caller.person_id), &change).await?,
    ))
}
