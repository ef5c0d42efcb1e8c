//! The draw's API: the published draw, the setup and the commitment (admins), opting out, and
//! the draw itself once the round is out.

use axum::extract::{Path, State};
use chrono::Utc;
use rand::RngCore;
use relay_protocol::{
    CommitRequest, Draw, DrawParticipation, DrawRequest, DrawSetup, DrawWinner, Eligibility, Prize,
    Problem,
};
use sqlx::AnyConnection;

use super::store::{self, published, row, row_for_update};
use crate::auth::{Admin, Caller};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, Json};
use crate::programme::calendar::{Calendar, Month};
use crate::state::AppState;

fn check_setup(setup: &DrawSetup) -> Result<(), ApiError> {
    if setup.prizes.is_empty() || setup.prizes.len() > 20 {
        return Err(ApiError::bad("give 1 to 20 prizes"));
    }
    for Prize { name, quantity } in &setup.prizes {
        let length = name.trim().chars().count();
        if !(1..=100).contains(&length) || name.chars().any(char::is_control) {
            return Err(ApiError::bad(
                "a prize's name is 1 to 100 characters, none of them a control character",
            ));
        }
        if !(1..=1000).contains(quantity) {
            return Err(ApiError::bad("a prize's quantity is 1 to 1000"));
        }
    }
    match setup.eligibility {
        Eligibility {
            top_points: Some(n),
            min_verified_shares: None,
        } if (1..=100_000).contains(&n) => Ok(()),
        Eligibility {
            top_points: None,
            min_verified_shares: Some(k),
        } if (1..=1000).contains(&k) => Ok(()),
        _ => Err(ApiError::bad(
            "eligibility is either top_points (1 to 100000) or min_verified_shares (1 to 1000)",
        )),
    }
}

fn conflict(detail: &str) -> ApiError {
    ApiError::Conflict(detail.to_owned())
}

async fn calendar_and_month(
    conn: &mut AnyConnection,
    state: &AppState,
    org_id: &str,
    month: &str,
) -> Result<(Calendar, Month), ApiError> {
    let month = Month::parse(month)?;
    Ok((
        crate::programme::calendar::calendar_of(conn, state.config.month_grace, org_id).await?,
        month,
    ))
}

/// A month's draw: its prizes, commitment, entries and result, and the caller's entry id.
#[utoipa::path(get, path = "/v1/programme/draws/{month}", tag = "programme",
    params(("month" = String, Path, description = "YYYY-MM")),
    responses((status = 200, body = Draw), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_draw(
    State(state): State<AppState>,
    caller: Caller,
    Path(month): Path<String>,
) -> ApiResult<Json<Draw>> {
    let month = Month::parse(&month)?;
    let mut conn = state.db.read.acquire().await?;
    Ok(Json(published(&mut conn, &caller, month).await?))
}

/// Sets a month's prizes and who is eligible, until the draw is committed (the commitment binds
/// them). Admins.
#[utoipa::path(put, path = "/v1/programme/draws/{month}", tag = "programme",
    params(("month" = String, Path, description = "YYYY-MM")), request_body = DrawSetup,
    responses((status = 200, body = Draw), (status = 400, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_setup(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(month): Path<String>,
    Json(setup): Json<DrawSetup>,
) -> ApiResult<Json<Draw>> {
    check_setup(&setup)?;
    let mut tx = state.db.begin().await?;
    let (_, month) = calendar_and_month(&mut tx, &state, &caller.org_id, &month).await?;
    if let Some(r) = row_for_update(&mut tx, &caller.org_id, month).await? {
        if r.seed_hash.is_some() {
            return Err(conflict(
                "the draw is committed: its prizes and eligibility can no longer change",
            ));
        }
    }
    let prizes: Vec<Prize> = setup
        .prizes
        .iter()
        .map(|p| Prize {
            name: p.name.trim().to_owned(),
            quantity: p.quantity,
        })
        .collect();
    store::save_setup(&mut tx, &caller.org_id, month, &prizes, &setup.eligibility).await?;
    crate::audit::record(
        &mut tx,
        &caller.org_id,
        Some(&caller.person_id),
        "draw.setup",
        &month.to_string(),
        serde_json::json!({ "prizes": prizes, "eligibility": setup.eligibility }),
    )
    .await?;
    let draw = published(&mut tx, &caller, month).await?;
    tx.commit().await?;
    Ok(Json(draw))
}

/// Commits to the draw before the month closes: a secret seed's hash, a beacon round published
/// at least the freeze lead after the close, and the prizes and eligibility as they stand.
/// Admins; once.
#[utoipa::path(post, path = "/v1/programme/draws/{month}/commitment", tag = "programme",
    params(("month" = String, Path, description = "YYYY-MM")), request_body = CommitRequest,
    responses((status = 200, body = Draw), (status = 400, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn commit(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(month): Path<String>,
    Json(request): Json<CommitRequest>,
) -> ApiResult<Json<Draw>> {
    let mut tx = state.db.begin().await?;
    let (calendar, month) = calendar_and_month(&mut tx, &state, &caller.org_id, &month).await?;
    let Some(existing) = row_for_update(&mut tx, &caller.org_id, month).await? else {
        return Err(conflict("set the prizes first"));
    };
    if existing.seed_hash.is_some() {
        return Err(conflict("this draw is committed already"));
    }
    let closes_at = calendar.closes_at(month);
    if Utc::now() >= closes_at {
        return Err(conflict(
            "too late: a draw is committed before its month closes",
        ));
    }
    let chain = state.config.beacon.chain();
    let lead = i64::try_from(state.config.beacon.lead().as_secs()).unwrap_or(i64::MAX / 2);
    let earliest = chain.first_round_after(closes_at.timestamp() + lead);
    let round = request.beacon_round.unwrap_or(earliest);
    let ten_days = u64::try_from(10 * 24 * 3600 / chain.period_secs).unwrap_or(u64::MAX);
    if round < earliest || round > earliest + ten_days {
        return Err(ApiError::bad(format!(
            "the beacon round is one published at least {} min after the month closes: from {earliest}, within ten days",
            lead / 60
        )));
    }
    let mut seed = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut seed);
    let seed_hex = relay_draw::hex::encode(&seed);
    let seed_hash = relay_draw::seed_hash(&seed);
    let round_at = chain.round_time(round) * 1000;
    let commitment = store::Commitment {
        seed_hex: &seed_hex,
        seed_hash: &seed_hash,
        round,
        round_at,
        // Whole seconds: the commitment's canonical text says them so.
        closes_at: closes_at.timestamp() * 1000,
    };
    store::save_commitment(&mut tx, &caller.org_id, month, &commitment).await?;
    let draw = published(&mut tx, &caller, month).await?;
    let digest = draw.commitment.as_ref().map(|c| c.digest.clone());
    crate::audit::record(
        &mut tx,
        &caller.org_id,
        Some(&caller.person_id),
        "draw.committed",
        &month.to_string(),
        serde_json::json!({ "seed_hash": seed_hash, "beacon_round": round, "digest": digest }),
    )
    .await?;
    tx.commit().await?;
    state.events.draw_moved(&caller.org_id, &month.to_string());
    Ok(Json(draw))
}

/// Opts the caller out of (or back into) a month's draw, until its list is frozen.
#[utoipa::path(put, path = "/v1/programme/draws/{month}/me", tag = "programme",
    params(("month" = String, Path, description = "YYYY-MM")), request_body = DrawParticipation,
    responses((status = 200, body = Draw), (status = 400, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn participation(
    State(state): State<AppState>,
    caller: Caller,
    Path(month): Path<String>,
    Json(choice): Json<DrawParticipation>,
) -> ApiResult<Json<Draw>> {
    let mut tx = state.db.begin().await?;
    let (calendar, month) = calendar_and_month(&mut tx, &state, &caller.org_id, &month).await?;
    let frozen = row_for_update(&mut tx, &caller.org_id, month)
        .await?
        .is_some_and(|r| r.frozen_at.is_some() || r.closes_at.is_some_and(|c| c <= now_ms()));
    if frozen || calendar.is_closed(month, Utc::now()) {
        return Err(conflict("the entry list is frozen"));
    }
    store::set_opted_out(&mut tx, &caller, month, choice.opted_out).await?;
    let draw = published(&mut tx, &caller, month).await?;
    tx.commit().await?;
    Ok(Json(draw))
}

/// Draws the winners once the committed round is out: the list must have been frozen before
/// the round existed; the round's signature is checked (fetched, or pasted by an admin); the
/// winners are picked from the frozen list and the seed revealed. Admins; once.
#[utoipa::path(post, path = "/v1/programme/draws/{month}/result", tag = "programme",
    params(("month" = String, Path, description = "YYYY-MM")), request_body = DrawRequest,
    responses((status = 200, body = Draw), (status = 400, body = Problem), (status = 409, body = Problem),
              (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub async fn draw(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(month): Path<String>,
    Json(request): Json<DrawRequest>,
) -> ApiResult<Json<Draw>> {
    let chain = state.config.beacon.chain().clone();
    let month = Month::parse(&month)?;
    let committed_round = {
        let mut conn = state.db.read.acquire().await?;
        let r = row(&mut conn, &caller.org_id, month)
            .await?
            .ok_or_else(|| conflict("this month has no draw"))?;
        if r.drawn_at.is_some() {
            return Err(conflict("this draw was made already"));
        }
        let round = r
            .round()
            .ok_or_else(|| conflict("commit to the draw first"))?;
        let round_time = chain.round_time(round) * 1000;
        match r.frozen_at {
            None => {
                return Err(conflict(
                    "the entry list is not frozen yet: it is, when the month closes",
                ))
            }
            Some(frozen) if frozen >= round_time => {
                return Err(conflict(
                    "the entry list was frozen after the beacon round existed: this draw cannot be made verifiably",
                ))
            }
            Some(_) => {}
        }
        if now_ms() < round_time {
            return Err(conflict(&format!(
                "the beacon round {round} is not out yet (at {})",
                crate::db::to_time(round_time)
            )));
        }
        round
    };
    // Outside the transaction: the beacon may be slow.
    let beacon = match request.beacon {
        Some(pasted) => pasted,
        None => {
            let http = state.provider.http();
            super::beacon::fetch_round(&state.config.beacon, http, committed_round).await?
        }
    };
    if beacon.round != committed_round {
        return Err(ApiError::bad(format!(
            "this is round {}; the draw committed to round {committed_round}",
            beacon.round
        )));
    }
    let randomness = relay_draw::verify_round(beacon.round, &beacon.signature)
        .map_err(|e| ApiError::bad(e.to_string()))?;
    let randomness_hex = relay_draw::hex::encode(&randomness);
    if beacon
        .randomness
        .as_ref()
        .is_some_and(|r| !r.eq_ignore_ascii_case(&randomness_hex))
    {
        return Err(ApiError::bad(
            "the round's randomness is not its signature's",
        ));
    }

    let mut tx = state.db.begin().await?;
    let r = row_for_update(&mut tx, &caller.org_id, month)
        .await?
        .ok_or_else(|| conflict("this month has no draw"))?;
    if r.drawn_at.is_some() {
        return Err(conflict("this draw was made already"));
    }
    let key = month.to_string();
    let entrants = store::entrants(&mut tx, &caller.org_id, month).await?;
    let ids: Vec<String> = entrants.iter().map(|e| e.entry_id.clone()).collect();
    let seed = r
        .seed
        .as_deref()
        .and_then(relay_draw::hex::decode_32)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a stored seed is not 32 bytes")))?;
    let picked = relay_draw::pick(
        &seed,
        &randomness,
        &ids,
        &relay_draw::Slot::from_prizes(&r.prizes()?),
    )
    .map_err(|e| ApiError::Internal(anyhow::anyhow!(e)))?;
    let winners: Vec<DrawWinner> = picked
        .into_iter()
        .map(|(slot, entry_id)| {
            // A winner is named as on the leaderboard: by their pseudonym when they have one.
            let name = entrants
                .iter()
                .find(|e| e.entry_id == entry_id)
                .map(|e| e.pseudonym.clone().unwrap_or_else(|| e.name.clone()))
                .unwrap_or_default();
            DrawWinner {
                prize: slot.prize,
                entry_id,
                name,
            }
        })
        .collect();
    store::save_result(
        &mut tx,
        &caller.org_id,
        month,
        &beacon.signature,
        &randomness_hex,
        &winners,
    )
    .await?;
    crate::audit::record(
        &mut tx,
        &caller.org_id,
        Some(&caller.person_id),
        "draw.drawn",
        &key,
        serde_json::json!({ "beacon_round": beacon.round, "entries": ids.len(), "winners": winners.len() }),
    )
    .await?;
    let published = published(&mut tx, &caller, month).await?;
    // The server checks its own work as every device will.
    match relay_draw::check(&published, &chain) {
        Ok(relay_draw::Stage::Drawn(_)) => {}
        other => {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "the draw made does not verify: {other:?}"
            )))
        }
    }
    tx.commit().await?;
    state.events.programme_moved(&caller.org_id);
    state.events.draw_moved(&caller.org_id, &key);
    Ok(Json(published))
}
