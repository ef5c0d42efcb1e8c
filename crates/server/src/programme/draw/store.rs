//! The draws' rows: reading a draw as it is published, its setup, commitment, opt-outs, the
//! freezing of its entry list and its result.

use rand::RngCore;
use relay_protocol::{
    BeaconRound, Draw, DrawCommitment, DrawEntries, DrawResult, DrawSetup, DrawWinner, Eligibility,
    Prize,
};
use sqlx::AnyConnection;

use crate::auth::Caller;
use crate::db::{now_ms, to_time};
use crate::error::ApiError;
use crate::programme::calendar::Month;

#[derive(sqlx::FromRow)]
pub struct DrawRow {
    pub prizes: String,
    pub eligibility: String,
    pub seed: Option<String>,
    pub seed_hash: Option<String>,
    pub beacon_round: Option<i64>,
    pub beacon_round_at: Option<i64>,
    pub closes_at: Option<i64>,
    pub committed_at: Option<i64>,
    pub list_hash: Option<String>,
    pub frozen_at: Option<i64>,
    pub beacon_signature: Option<String>,
    pub beacon_randomness: Option<String>,
    pub winners: Option<String>,
    pub drawn_at: Option<i64>,
}

const DRAW_COLUMNS: &str = "prizes, eligibility, seed, seed_hash, beacon_round, beacon_round_at, \
    closes_at, committed_at, list_hash, frozen_at, beacon_signature, beacon_randomness, winners, \
    drawn_at";

impl DrawRow {
    pub fn prizes(&self) -> Result<Vec<Prize>, ApiError> {
        Ok(serde_json::from_str(&self.prizes)?)
    }

    pub fn eligibility(&self) -> Result<Eligibility, ApiError> {
        Ok(serde_json::from_str(&self.eligibility)?)
    }

    pub fn round(&self) -> Option<u64> {
        self.beacon_round.and_then(|r| u64::try_from(r).ok())
    }
}

/// The draw's row.
pub async fn row(
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

/// The draw's row, locked for the transaction on PostgreSQL (SQLite's single writer serialises
/// every write transaction anyway).
pub async fn row_for_update(
    conn: &mut AnyConnection,
    org_id: &str,
    month: Month,
) -> Result<Option<DrawRow>, ApiError> {
    let lock = crate::db::Backend::of(conn).for_update();
    Ok(sqlx::query_as(&format!(
        "SELECT {DRAW_COLUMNS} FROM draws WHERE org_id = $1 AND month = $2{lock}"
    ))
    .bind(org_id)
    .bind(month.to_string())
    .fetch_optional(&mut *conn)
    .await?)
}

/// The published draw (never the seed before the result), with the caller's part.
pub async fn published(
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
    let prizes = r.prizes()?;
    let eligibility = r.eligibility()?;
    draw.setup = Some(DrawSetup {
        prizes: prizes.clone(),
        eligibility,
    });
    if let (Some(seed_hash), Some(round), Some(round_at), Some(closes_at), Some(at)) = (
        &r.seed_hash,
        r.round(),
        r.beacon_round_at,
        r.closes_at,
        r.committed_at,
    ) {
        let closes_at = to_time(closes_at);
        let digest = relay_draw::commitment::digest(&relay_draw::commitment::Bound {
            month: &key,
            seed_hash,
            chain: relay_draw::QUICKNET.hash,
            round,
            closes_at: closes_at.timestamp(),
            prizes: &prizes,
            eligibility,
        });
        draw.commitment = Some(DrawCommitment {
            algorithm: relay_draw::ALGORITHM.into(),
            seed_hash: seed_hash.clone(),
            beacon_chain: relay_draw::QUICKNET.hash.into(),
            beacon_round: round,
            beacon_round_at: to_time(round_at),
            closes_at,
            prizes,
            eligibility,
            digest,
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
        r.round(),
    ) {
        draw.result = Some(DrawResult {
            seed: seed.clone(),
            beacon: BeaconRound {
                round,
                signature: signature.clone(),
                randomness: r.beacon_randomness.clone(),
            },
            winners: serde_json::from_str(winners)?,
            drawn_at: to_time(drawn_at),
        });
    }
    Ok(draw)
}

/// Freezes the entry list of a month that has closed: eligible people (shares counted as
/// verified only), minus those who opted out, each under a random id. Answers how many entered,
/// or none when the list was frozen already (by another instance).
pub async fn freeze(
    state: &crate::state::AppState,
    conn: &mut AnyConnection,
    org_id: &str,
    month: Month,
) -> Result<Option<usize>, ApiError> {
    let Some(r) = row_for_update(conn, org_id, month).await? else {
        return Ok(None);
    };
    if r.frozen_at.is_some() || r.seed_hash.is_none() {
        return Ok(None);
    }
    let key = month.to_string();
    // Shares still waiting for the server to read their post count as declared from now on.
    crate::shares::confirm::settle_month(state, conn, org_id, month).await?;
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
    match r.eligibility()? {
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
    let list_hash = relay_draw::list_hash(&ids);
    sqlx::query(
        "UPDATE draws SET list_hash = $1, frozen_at = $2 WHERE org_id = $3 AND month = $4 \
         AND frozen_at IS NULL",
    )
    .bind(&list_hash)
    .bind(now_ms())
    .bind(org_id)
    .bind(&key)
    .execute(&mut *conn)
    .await?;
    crate::audit::record(
        conn,
        org_id,
        None,
        "draw.frozen",
        &key,
        serde_json::json!({ "entries": ids.len(), "list_hash": list_hash }),
    )
    .await?;
    Ok(Some(ids.len()))
}

/// Sets a draw's prizes and eligibility (before it is committed: the caller checked).
pub async fn save_setup(
    conn: &mut AnyConnection,
    org_id: &str,
    month: Month,
    prizes: &[Prize],
    eligibility: &Eligibility,
) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO draws (org_id, month, prizes, eligibility) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, month) DO UPDATE SET prizes = excluded.prizes, eligibility = excluded.eligibility",
    )
    .bind(org_id)
    .bind(month.to_string())
    .bind(serde_json::to_string(prizes)?)
    .bind(serde_json::to_string(eligibility)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What a commitment stores: the secret seed (revealed with the result), its hash and the
/// beacon round, with times in milliseconds.
pub struct Commitment<'a> {
    pub seed_hex: &'a str,
    pub seed_hash: &'a str,
    pub round: u64,
    pub round_at: i64,
    pub closes_at: i64,
}

pub async fn save_commitment(
    conn: &mut AnyConnection,
    org_id: &str,
    month: Month,
    commitment: &Commitment<'_>,
) -> Result<(), ApiError> {
    sqlx::query(
        "UPDATE draws SET seed = $1, seed_hash = $2, beacon_round = $3, beacon_round_at = $4, \
         closes_at = $5, committed_at = $6 WHERE org_id = $7 AND month = $8",
    )
    .bind(commitment.seed_hex)
    .bind(commitment.seed_hash)
    .bind(i64::try_from(commitment.round).unwrap_or(i64::MAX))
    .bind(commitment.round_at)
    .bind(commitment.closes_at)
    .bind(now_ms())
    .bind(org_id)
    .bind(month.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Opts the caller out of a month's draw, or back in.
pub async fn set_opted_out(
    conn: &mut AnyConnection,
    caller: &Caller,
    month: Month,
    opted_out: bool,
) -> Result<(), ApiError> {
    let query = if opted_out {
        "INSERT INTO draw_opt_outs (org_id, month, person_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM draw_opt_outs WHERE org_id = $1 AND month = $2 AND person_id = $3"
    };
    sqlx::query(query)
        .bind(&caller.org_id)
        .bind(month.to_string())
        .bind(&caller.person_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One entry of a frozen list, with who it is (read only to name the winners).
#[derive(sqlx::FromRow)]
pub struct Entrant {
    pub entry_id: String,
    pub name: String,
    pub pseudonym: Option<String>,
}

/// A frozen list's entries, in the order of their ids.
pub async fn entrants(
    conn: &mut AnyConnection,
    org_id: &str,
    month: Month,
) -> Result<Vec<Entrant>, ApiError> {
    Ok(sqlx::query_as(
        "SELECT e.entry_id, p.name, b.pseudonym FROM draw_entries e \
         JOIN people p ON p.id = e.person_id LEFT JOIN board_members b ON b.person_id = e.person_id \
         WHERE e.org_id = $1 AND e.month = $2 ORDER BY e.entry_id",
    )
    .bind(org_id)
    .bind(month.to_string())
    .fetch_all(&mut *conn)
    .await?)
}

/// Stores the checked beacon round and the winners: the draw is made.
pub async fn save_result(
    conn: &mut AnyConnection,
    org_id: &str,
    month: Month,
    signature: &str,
    randomness_hex: &str,
    winners: &[DrawWinner],
) -> Result<(), ApiError> {
    sqlx::query(
        "UPDATE draws SET beacon_signature = $1, beacon_randomness = $2, winners = $3, drawn_at = $4 \
         WHERE org_id = $5 AND month = $6",
    )
    .bind(signature)
    .bind(randomness_hex)
    .bind(serde_json::to_string(winners)?)
    .bind(now_ms())
    .bind(org_id)
    .bind(month.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
