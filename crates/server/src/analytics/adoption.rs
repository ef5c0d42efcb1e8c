//! Adoption: how many active people there are, how many had a device enrolled this month, how
//! many an account connected on one (each device says which networks it has accounts on: kinds
//! only, never handles). The months' `enrolled` figure counts the same devices. A count of fewer than 5 people is hidden, and so is one whose difference from
//! the count above it would be.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sqlx::AnyConnection;

use axum::extract::State;
use axum::http::StatusCode;
use relay_protocol::{Adoption, ConnectedNetworks, Network, NetworkAdoption, Problem, MIN_GROUP};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::privacy::shown;
use crate::auth::{Caller, Curator};
use crate::error::{ApiError, ApiResult, Json};
use crate::programme::calendar::{Calendar, Month};
use crate::state::AppState;

/// The networks the calling device has an account connected on. Devices.
#[utoipa::path(put, path = "/v1/me/accounts", tag = "analytics", request_body = ConnectedNetworks,
    responses((status = 204, description = "Noted"), (status = 400, body = Problem)),
    security(("bearer" = [])))]
async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Json(said): Json<ConnectedNetworks>,
) -> ApiResult<StatusCode> {
    let mut seen = HashSet::new();
    if !said.networks.iter().all(|n| seen.insert(*n)) {
        return Err(ApiError::bad("each network at most once"));
    }
    let mut names: Vec<&str> = said.networks.iter().map(|n| n.as_str()).collect();
    names.sort_unstable();
    sqlx::query("UPDATE sessions SET networks = $1 WHERE device_id = $2")
        .bind(names.join(","))
        .bind(&caller.device_id)
        .execute(&state.db.write)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A count shown only when it and its difference from `above` describe 0 or at least 5 people.
fn beside(count: u64, above: Option<u64>) -> Option<u64> {
    let count = shown(count)?;
    match above {
        Some(above) if (1..MIN_GROUP).contains(&above.saturating_sub(count)) => None,
        None => None,
        _ => Some(count),
    }
}

/// The programme's adoption this month: active people, and who had a device, and an account on
/// each network, at some point of it. Curators and admins.
///
/// Counted over the month, not the moment, so that an admin who reads adoption, deactivates,
/// signs out or erases someone and reads it again sees no count move: the difference would
/// tell them that person's accounts.
#[utoipa::path(get, path = "/v1/analytics/adoption", tag = "analytics",
    responses((status = 200, body = Adoption), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn adoption(
    State(state): State<AppState>,
    Curator(caller): Curator,
) -> ApiResult<Json<Adoption>> {
    let org_id = &caller.org_id;
    let mut conn = state.db.read.acquire().await?;
    let calendar =
        crate::programme::calendar::calendar_of(&mut conn, state.config.month_grace, org_id)
            .await?;
    let month = calendar.month_of(chrono::Utc::now());
    let people: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM people WHERE org_id = $1 AND active = 1 AND erased_at IS NULL",
    )
    .bind(org_id)
    .fetch_one(&mut *conn)
    .await?;
    let devices = in_month(&mut conn, org_id, &calendar, month).await?;
    let with_account = devices.values().filter(|n| !n.is_empty()).count();
    let mut by_network: BTreeMap<&str, u64> = BTreeMap::new();
    for networks in devices.values() {
        for network in networks {
            *by_network.entry(network).or_default() += 1;
        }
    }
    let people = shown(people as u64);
    let with_device = beside(devices.len() as u64, people);
    let with_account = beside(with_account as u64, with_device);
    Ok(Json(Adoption {
        people,
        with_device,
        with_account,
        by_network: by_network
            .into_iter()
            .filter_map(|(name, people)| {
                Some(NetworkAdoption {
                    network: name.parse::<Network>().ok()?,
                    people: shown(people),
                })
            })
            .collect(),
    }))
}

/// Each device signed in during a month (`$1` the organisation, `$2` the month's end, `$3` its
/// start, `$4` its name) with its person and networks, and the devices erased people had then.
const DEVICES_IN_MONTH: &str =
    "SELECT person_id, networks FROM sessions WHERE org_id = $1 AND created_at < $2 \
       AND (revoked_at IS NULL OR revoked_at >= $3) AND refresh_expires_at >= $3 \
     UNION ALL \
     SELECT person_id, network FROM month_accounts WHERE org_id = $1 AND month = $4";

/// How many people [`in_month`] finds, counted by the database (the months' `enrolled`, read
/// on every reading of an open month: no rows carried over).
pub async fn enrolled_in(
    conn: &mut AnyConnection,
    org_id: &str,
    calendar: &Calendar,
    month: Month,
) -> Result<u64, ApiError> {
    let n: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(DISTINCT person_id) FROM ({DEVICES_IN_MONTH}) devices"
    ))
    .bind(org_id)
    .bind(calendar.ends_at(month).timestamp_millis())
    .bind(calendar.starts_at(month).timestamp_millis())
    .bind(month.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(n.max(0) as u64)
}

/// Who had a device during `month`, and the networks they had accounts on: their devices signed
/// in at some point of it (revoked or expired since, or of a person deactivated since, count
/// still), and the devices erased people had then (kept by [`keep_for_tombstone`]).
pub async fn in_month(
    conn: &mut AnyConnection,
    org_id: &str,
    calendar: &Calendar,
    month: Month,
) -> Result<BTreeMap<String, BTreeSet<String>>, ApiError> {
    let (start, end) = (
        calendar.starts_at(month).timestamp_millis(),
        calendar.ends_at(month).timestamp_millis(),
    );
    let rows: Vec<(String, String)> = sqlx::query_as(DEVICES_IN_MONTH)
        .bind(org_id)
        .bind(end)
        .bind(start)
        .bind(month.to_string())
        .fetch_all(&mut *conn)
        .await?;
    let mut devices: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (person, networks) in rows {
        let entry = devices.entry(person).or_default();
        entry.extend(
            networks
                .split(',')
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        );
    }
    Ok(devices)
}

/// At an erasure, before the person's devices go: what [`in_month`] counted of them, for the
/// months whose figures are not kept yet (this one and the last), kept under the tombstone.
pub async fn keep_for_tombstone(
    conn: &mut AnyConnection,
    state: &AppState,
    org_id: &str,
    person_id: &str,
    tombstone: &str,
) -> Result<(), ApiError> {
    let calendar =
        crate::programme::calendar::calendar_of(conn, state.config.month_grace, org_id).await?;
    let now = calendar.month_of(chrono::Utc::now());
    let last = calendar.month_of(calendar.starts_at(now) - chrono::Duration::days(1));
    for month in [last, now] {
        let devices = in_month(conn, org_id, &calendar, month).await?;
        let Some(networks) = devices.get(person_id) else {
            continue;
        };
        for network in std::iter::once("").chain(networks.iter().map(String::as_str)) {
            sqlx::query(
                "INSERT INTO month_accounts (org_id, month, person_id, network) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, month, network) DO NOTHING",
            )
            .bind(org_id)
            .bind(month.to_string())
            .bind(tombstone)
            .bind(network)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report))
        .routes(routes!(adoption))
}
