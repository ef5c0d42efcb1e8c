//! Adoption: how many active people there are, how many have a device enrolled, how many have an
//! account connected on one (each device says which networks it has accounts on: kinds only,
//! never handles). A count of fewer than 5 people is hidden, and so is one whose difference from
//! the count above it would be.

use std::collections::{BTreeMap, HashSet};

use axum::extract::State;
use axum::http::StatusCode;
use relay_protocol::{Adoption, ConnectedNetworks, Network, NetworkAdoption, Problem, MIN_GROUP};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::privacy::shown;
use crate::app::AppState;
use crate::auth::{Caller, Curator};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, Json};

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

/// The programme's adoption now. Curators and admins.
#[utoipa::path(get, path = "/v1/analytics/adoption", tag = "analytics",
    responses((status = 200, body = Adoption), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn adoption(
    State(state): State<AppState>,
    Curator(caller): Curator,
) -> ApiResult<Json<Adoption>> {
    let db = &state.db.read;
    let people: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM people WHERE org_id = $1 AND active = 1 AND erased_at IS NULL",
    )
    .bind(&caller.org_id)
    .fetch_one(db)
    .await?;
    let devices: Vec<(String, String)> = sqlx::query_as(
        "SELECT s.person_id, s.networks FROM sessions s JOIN people p ON p.id = s.person_id \
         WHERE s.org_id = $1 AND s.revoked_at IS NULL AND s.refresh_expires_at > $2 AND p.active = 1",
    )
    .bind(&caller.org_id)
    .bind(now_ms())
    .fetch_all(db)
    .await?;
    let with_device: HashSet<&str> = devices.iter().map(|(p, _)| p.as_str()).collect();
    let mut with_account: HashSet<&str> = HashSet::new();
    let mut by_network: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
    for (person, networks) in &devices {
        for network in networks.split(',').filter(|n| !n.is_empty()) {
            with_account.insert(person);
            by_network.entry(network).or_default().insert(person);
        }
    }
    let people = shown(people as u64);
    let with_device = beside(with_device.len() as u64, people);
    let with_account = beside(with_account.len() as u64, with_device);
    Ok(Json(Adoption {
        people,
        with_device,
        with_account,
        by_network: by_network
            .into_iter()
            .filter_map(|(name, people)| {
                Some(NetworkAdoption {
                    network: name.parse::<Network>().ok()?,
                    people: shown(people.len() as u64),
                })
            })
            .collect(),
    }))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report))
        .routes(routes!(adoption))
}
