//! The monthly prize draw, run so that anyone can check it (`relay-draw` holds the algorithm
//! and its verification). Admins set the prizes and who is eligible, then commit (a secret
//! seed's hash and a future beacon round) before the month closes; once it closed, the entry
//! list is frozen (random pseudonymous ids); once the round is out, the server fetches it (or
//! an admin pastes it), checks its signature, picks the winners and reveals the seed.

use axum::extract::{Path, State};
use chrono::Utc;
use rand::RngCore;
use relay_protocol::{
    BeaconRound, CommitRequest, Draw, DrawCommitment, DrawEntries, DrawParticipation, DrawRequest,
    DrawResult, DrawSetup, DrawWinner, Eligibility, Prize, Problem,
};
use sqlx::AnyConnection;

use super::calendar::{Calendar, Month};
use crate::app::AppState;
use crate::auth::{Admin, Caller};
use crate::db::{now_ms, to_time};
use crate::error::{ApiError, ApiResult, Json};

/// Where the draw's beacon rounds come from: drand's HTTP API (quicknet), and the chain's
/// genesis, which maps times to rounds (tests replaying recorded rounds move it).
#[derive(Debug, Clone)]
pub struct BeaconConfig {
    pub url: String,
    pub genesis_unix: i64,
}

impl Default for BeaconConfig {
    fn default() -> Self {
        BeaconConfig {
            url: "https://api.drand.sh".into(),
            genesis_unix: relay_draw::QUICKNET.genesis_unix,
        }
    }
}

#[derive(sqlx::FromRow)]
struct DrawRow {
    prizes: String,
    eligibility: String,
    seed: Option<String>,
    seed_hash: Option<String>,
    beacon_round: Option<i64>,
    beacon_round_at: Option<i64>,
    committed_at: Option<i64>,
    list_hash: Option<String>,
    frozen_at: Option<i64>,
    beacon_signature: Option<String>,
    beacon_randomness: Option<String>,
    winners: Option<String>,
    drawn_at: Option<i64>,
}

const DRAW_COLUMNS: &str = "prizes, eligibility, seed, seed_hash, beacon_round, beacon_round_at, \
    committed_at, list_hash, frozen_at, beacon_signature, beacon_randomness, winners, drawn_at";

async fn row(
    conn: &mut AnyConnection,
    org_id: &str,
    month: Month,
) -> Result<Option<DrawRow>, ApiError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {DRAW_COLUMNS} FROM draws WHERE org_id = $1 AND month = $2"
    ))
    .bind(org_id)
    .bind(month.to_string())
    .fetch_optional(&mut *conn)
    .await?)
}

fn round_u64(r: i64) -> u64 {
    u64::try_from(r).unwrap_or(0)
}

/// The published draw (never the seed before the result), with the caller's part.
async fn published(
    conn: &mut AnyConnection,
    caller: &Caller,
    month: Month,
) -> Result<Draw, ApiError> {
    let key = month.to_string();
    let opted_out: Option<String> = sqlx::query_scalar(
        "SELECT person_id FROM draw_opt_outs WHERE org_id = $1 AND month = $2 AND person_id = $3",
    )
    .bind(&caller.org_id)
    .bind(&key)
    .bind(&caller.person_id)
    .fetch_optional(&mut *conn)
    .await?;
    let mut draw = Draw {
        month: key.clone(),
        setup: None,
        commitment: None,
        entries: None,
        result: None,
        my_entry_id: None,
        opted_out: opted_out.is_some(),
    };
    let Some(r) = row(conn, &caller.org_id, month).await? else {
        return Ok(draw);
    };
    draw.setup = Some(DrawSetup {
        prizes: serde_json::from_str(&r.prizes)?,
        eligibility: serde_json::from_str(&r.eligibility)?,
    });
    if let (Some(seed_hash), Some(round), Some(round_at), Some(at)) = (
        &r.seed_hash,
        r.beacon_round,
        r.beacon_round_at,
        r.committed_at,
    ) {
        draw.commitment = Some(DrawCommitment {
            algorithm: relay_draw::ALGORITHM.into(),
            seed_hash: seed_hash.clone(),
            beacon_chain: relay_draw::QUICKNET.hash.into(),
            beacon_round: round_u64(round),
            beacon_round_at: to_time(round_at),
            committed_at: to_time(at),
        });
    }
    if let (Some(list_hash), Some(frozen_at)) = (&r.list_hash, r.frozen_at) {
        let entries: Vec<String> = sqlx::query_scalar(
            "SELECT entry_id FROM draw_entries WHERE org_id = $1 AND month = $2 ORDER BY entry_id",
        )
        .bind(&caller.org_id)
        .bind(&key)
        .fetch_all(&mut *conn)
        .await?;
        draw.my_entry_id = sqlx::query_scalar(
            "SELECT entry_id FROM draw_entries WHERE org_id = $1 AND month = $2 AND person_id = $3",
        )
        .bind(&caller.org_id)
        .bind(&key)
        .bind(&caller.person_id)
        .fetch_optional(&mut *conn)
        .await?;
        draw.entries = Some(DrawEntries {
            entries,
            list_hash: list_hash.clone(),
            frozen_at: to_time(frozen_at),
        });
    }
    if let (Some(seed), Some(signature), Some(winners), Some(drawn_at), Some(round)) = (
        &r.seed,
        &r.beacon_signature,
        &r.winners,
        r.drawn_at,
        r.beacon_round,
    ) {
        draw.result = Some(DrawResult {
            seed: seed.clone(),
            beacon: BeaconRound {
                round: round_u64(round),
                signature: signature.clone(),
                randomness: r.beacon_randomness.clone(),
            },
            winners: serde_json::from_str(winners)?,
            drawn_at: to_time(drawn_at),
        });
    }
    Ok(draw)
}

fn check_setup(setup: &DrawSetup) -> Result<(), ApiError> {
    if setup.prizes.is_empty() || setup.prizes.len() > 20 {
        return Err(ApiError::bad("give 1 to 20 prizes"));
    }
    for Prize { name, quantity } in &setup.prizes {
        let length = name.trim().chars().count();
        if !(1..=100).contains(&length) || name.chars().any(char::is_control) {
            return Err(ApiError::bad("a prize's name is 1 to 100 characters"));
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
    Ok((super::calendar_of(conn, state, org_id).await?, month))
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

/// Sets a month's prizes and who is eligible, until its entry list is frozen. Admins.
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
    if let Some(r) = row(&mut tx, &caller.org_id, month).await? {
        if r.frozen_at.is_some() {
            return Err(conflict(
                "the entry list is frozen: the prizes can no longer change",
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
    sqlx::query(
        "INSERT INTO draws (org_id, month, prizes, eligibility) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, month) DO UPDATE SET prizes = excluded.prizes, eligibility = excluded.eligibility",
    )
    .bind(&caller.org_id)
    .bind(month.to_string())
    .bind(serde_json::to_string(&prizes)?)
    .bind(serde_json::to_string(&setup.eligibility)?)
    .execute(&mut *tx)
    .await?;
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

/// Commits to the draw before the month closes: a secret seed's hash and a beacon round
/// published after the close. Admins; once.
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
    let Some(r) = row(&mut tx, &caller.org_id, month).await? else {
        return Err(conflict("set the prizes first"));
    };
    if r.seed_hash.is_some() {
        return Err(conflict("this draw is committed already"));
    }
    let closes_at = calendar.closes_at(month);
    if Utc::now() >= closes_at {
        return Err(conflict(
            "too late: a draw is committed before its month closes",
        ));
    }
    let genesis = state.config.beacon.genesis_unix;
    let earliest = relay_draw::round_at(closes_at.timestamp(), genesis) + 1;
    let round = request.beacon_round.unwrap_or(earliest);
    if round < earliest || round > earliest + 10 * 24 * 1200 {
        return Err(ApiError::bad(format!(
            "the beacon round is one published after the month closes: from {earliest}, within ten days"
        )));
    }
    let mut seed = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut seed);
    let seed_hex = relay_draw::hex::encode(&seed);
    let seed_hash = relay_draw::seed_hash(&seed);
    let round_at = relay_draw::round_time(round, genesis) * 1000;
    sqlx::query(
        "UPDATE draws SET seed = $1, seed_hash = $2, beacon_round = $3, beacon_round_at = $4, \
         committed_at = $5 WHERE org_id = $6 AND month = $7",
    )
    .bind(&seed_hex)
    .bind(&seed_hash)
    .bind(i64::try_from(round).unwrap_or(i64::MAX))
    .bind(round_at)
    .bind(now_ms())
    .bind(&caller.org_id)
    .bind(month.to_string())
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        &caller.org_id,
        Some(&caller.person_id),
        "draw.committed",
        &month.to_string(),
        serde_json::json!({ "seed_hash": seed_hash, "beacon_round": round }),
    )
    .await?;
    let draw = published(&mut tx, &caller, month).await?;
    tx.commit().await?;
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
    // Once the month closed, the entries are settled (the list is written at the draw).
    if calendar.is_closed(month, Utc::now())
        || row(&mut tx, &caller.org_id, month)
            .await?
            .is_some_and(|r| r.frozen_at.is_some())
    {
        return Err(conflict("the entry list is frozen"));
    }
    let query = if choice.opted_out {
        "INSERT INTO draw_opt_outs (org_id, month, person_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM draw_opt_outs WHERE org_id = $1 AND month = $2 AND person_id = $3"
    };
    sqlx::query(query)
        .bind(&caller.org_id)
        .bind(month.to_string())
        .bind(&caller.person_id)
        .execute(&mut *tx)
        .await?;
    let draw = published(&mut tx, &caller, month).await?;
    tx.commit().await?;
    Ok(Json(draw))
}

/// Freezes the entry list of a closed month: eligible people (verified shares only count),
/// minus those who opted out, each under a random id.
async fn freeze(
    conn: &mut AnyConnection,
    org_id: &str,
    month: Month,
    eligibility: Eligibility,
) -> Result<(), ApiError> {
    let key = month.to_string();
    let mut people: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT t.person_id, t.points, t.verified FROM points_totals t JOIN people p ON p.id = t.person_id \
         WHERE t.org_id = $1 AND t.month = $2 AND t.verified > 0 AND p.active = 1 \
         AND t.person_id NOT IN (SELECT person_id FROM draw_opt_outs WHERE org_id = $1 AND month = $2) \
         ORDER BY t.points DESC",
    )
    .bind(org_id)
    .bind(&key)
    .fetch_all(&mut *conn)
    .await?;
    match eligibility {
        Eligibility {
            top_points: Some(n),
            ..
        } => {
            // Ties at the last place all enter.
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if let Some(cut) = people.get(n.saturating_sub(1)).map(|p| p.1) {
                people.retain(|p| p.1 >= cut);
            }
        }
        Eligibility {
            min_verified_shares: Some(k),
            ..
        } => people.retain(|p| p.2 >= i64::from(k)),
        _ => people.clear(),
    }
    let mut ids = Vec::with_capacity(people.len());
    for (person_id, _, _) in &people {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        let entry_id = relay_draw::hex::encode(&bytes);
        sqlx::query(
            "INSERT INTO draw_entries (org_id, month, entry_id, person_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(org_id)
        .bind(&key)
        .bind(&entry_id)
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
        ids.push(entry_id);
    }
    ids.sort();
    sqlx::query("UPDATE draws SET list_hash = $1, frozen_at = $2 WHERE org_id = $3 AND month = $4")
        .bind(relay_draw::list_hash(&ids))
        .bind(now_ms())
        .bind(org_id)
        .bind(&key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The committed round, from drand's API.
async fn fetch_round(state: &AppState, round: u64) -> Result<BeaconRound, ApiError> {
    let url = format!(
        "{}/{}/public/{round}",
        state.config.beacon.url.trim_end_matches('/'),
        relay_draw::QUICKNET.hash
    );
    let unreachable = |e: String| {
        ApiError::BeaconUnavailable(format!(
            "cannot read round {round} from the beacon ({e}); paste the round's JSON instead"
        ))
    };
    let response = state
        .provider
        .http()
        .get(&url)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| unreachable(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(unreachable(format!("it answered {}", response.status())));
    }
    response
        .json()
        .await
        .map_err(|e| unreachable(e.without_url().to_string()))
}

/// Draws the winners once the month closed and its beacon round is out: freezes the entry list
/// if needed, checks the round's signature (fetched, or pasted by an admin), picks the winners
/// and reveals the seed. Admins; once.
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
    let (calendar, month) = {
        let mut conn = state.db.read.acquire().await?;
        calendar_and_month(&mut conn, &state, &caller.org_id, &month).await?
    };
    let committed_round = {
        let mut conn = state.db.read.acquire().await?;
        let r = row(&mut conn, &caller.org_id, month)
            .await?
            .ok_or_else(|| conflict("this month has no draw"))?;
        if r.drawn_at.is_some() {
            return Err(conflict("this draw was made already"));
        }
        r.beacon_round
            .map(round_u64)
            .ok_or_else(|| conflict("commit to the draw first"))?
    };
    if !calendar.is_closed(month, Utc::now()) {
        return Err(conflict("the month has not closed yet"));
    }
    // Outside the transaction: the beacon may be slow.
    let beacon = match request.beacon {
        Some(pasted) => pasted,
        None => fetch_round(&state, committed_round).await?,
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
    let r = row(&mut tx, &caller.org_id, month)
        .await?
        .ok_or_else(|| conflict("this month has no draw"))?;
    if r.drawn_at.is_some() {
        return Err(conflict("this draw was made already"));
    }
    let eligibility: Eligibility = serde_json::from_str(&r.eligibility)?;
    if r.frozen_at.is_none() {
        freeze(&mut tx, &caller.org_id, month, eligibility).await?;
    }
    let key = month.to_string();
    let entrants: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT e.entry_id, e.person_id, p.name, b.pseudonym FROM draw_entries e \
         JOIN people p ON p.id = e.person_id LEFT JOIN board_members b ON b.person_id = e.person_id \
         WHERE e.org_id = $1 AND e.month = $2 ORDER BY e.entry_id",
    )
    .bind(&caller.org_id)
    .bind(&key)
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<String> = entrants.iter().map(|e| e.0.clone()).collect();
    let seed_hex = r
        .seed
        .clone()
        .ok_or_else(|| conflict("commit to the draw first"))?;
    let seed = relay_draw::hex::decode_32(&seed_hex).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("a stored seed is not 32 bytes of hex"))
    })?;
    let prizes: Vec<Prize> = serde_json::from_str(&r.prizes)?;
    let picked = relay_draw::pick(
        &seed,
        &randomness,
        &ids,
        &relay_draw::Slot::from_prizes(&prizes),
    )
    .map_err(|e| ApiError::Internal(anyhow::anyhow!(e)))?;
    let winners: Vec<DrawWinner> = picked
        .into_iter()
        .map(|(slot, entry_id)| {
            let (_, _, name, pseudonym) = entrants
                .iter()
                .find(|e| e.0 == entry_id)
                .cloned()
                .unwrap_or_default();
            DrawWinner {
                prize: slot.prize,
                entry_id,
                name: pseudonym.unwrap_or(name),
            }
        })
        .collect();
    sqlx::query(
        "UPDATE draws SET beacon_signature = $1, beacon_randomness = $2, winners = $3, drawn_at = $4 \
         WHERE org_id = $5 AND month = $6",
    )
    .bind(&beacon.signature)
    .bind(&randomness_hex)
    .bind(serde_json::to_string(&winners)?)
    .bind(now_ms())
    .bind(&caller.org_id)
    .bind(&key)
    .execute(&mut *tx)
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
    relay_draw::verify(&published).map_err(|e| ApiError::Internal(anyhow::anyhow!(e)))?;
    tx.commit().await?;
    state.events.programme_moved(&caller.org_id);
    Ok(Json(published))
}
