//! The monthly prize draw, version `relay-draw-v1`: how winners are picked, and how anyone
//! checks it on their own device. No I/O: the server, the app and the `relay` command all run
//! this same code on the same published record (`docs/draw.md` specifies every byte).
//!
//! The record binds four things, each published before the next exists:
//! 1. **The commitment**, before the month closes: the SHA-256 of a secret 32-byte seed, the
//!    number of a future round of drand's quicknet beacon, the prizes and who is eligible.
//! 2. **The entries**, frozen at the close and published before that round exists: sorted
//!    pseudonymous entry ids and their hash.
//! 3. **The beacon round**: its BLS signature, checked against quicknet's public key (nobody,
//!    the company included, can make or predict it); its randomness is the SHA-256 of it.
//! 4. **The reveal**: the seed, which must hash to the commitment.
//!
//! The winners follow from these alone (see [`pick`]). What the record cannot prove (that the
//! list really existed before the round) each device proves for itself: it pins the first
//! commitment and list it saw, with its own clock ([`pins`]).

mod beacon;
pub mod commitment;
pub mod hex;
mod pick;
pub mod pins;

pub use beacon::{verify_round, BeaconError, Chain, QUICKNET};
pub use pick::{list_hash, pick, seed_hash, Slot};

use chrono::{DateTime, TimeZone, Utc};
use relay_protocol::{Draw, DrawWinner, Eligibility};

/// The algorithm this crate implements.
pub const ALGORITHM: &str = "relay-draw-v1";
/// The first line of a commitment's canonical text.
pub const COMMITMENT_HEADER: &str = "relay-draw-v1 commitment";

/// Why a draw does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    #[error("the draw has not been made yet")]
    NotDrawn,
    #[error("unknown draw algorithm {0:?} (this device knows {ALGORITHM})")]
    UnknownAlgorithm(String),
    #[error("the beacon is not drand's quicknet (chain {0})")]
    WrongChain(String),
    #[error("the commitment's digest is not the digest of what it binds")]
    DigestMismatch,
    #[error("the prizes or the eligibility rule differ from the commitment's")]
    SetupChanged,
    #[error("the times do not hold: {0}")]
    Times(String),
    #[error("the revealed seed does not match the commitment")]
    SeedMismatch,
    #[error("the entry list does not match its published hash")]
    ListMismatch,
    #[error("the entry list is not sorted without repeats")]
    ListUnsorted,
    #[error("an entry id is not 32 lowercase hexadecimal digits")]
    BadEntryId,
    #[error("the beacon round is {got}, the commitment named {committed}")]
    RoundMismatch { committed: u64, got: u64 },
    #[error("the beacon round is not quicknet's: {0}")]
    Beacon(#[from] BeaconError),
    #[error("the published randomness is not the beacon's")]
    RandomnessMismatch,
    #[error("the winners are not the ones the algorithm picks")]
    WinnersMismatch,
    #[error(
        "the commitment changed since this device first saw it on {seen_at} (digest {pinned}, now {now})"
    )]
    CommitmentChanged {
        pinned: String,
        now: String,
        seen_at: DateTime<Utc>,
    },
    #[error(
        "the entry list changed since this device first saw it on {seen_at} (hash {pinned}, now {now})"
    )]
    ListChanged {
        pinned: String,
        now: String,
        seen_at: DateTime<Utc>,
    },
    #[error("your entry id {0} is not in the entry list")]
    MyEntryMissing(String),
    #[error("malformed draw record: {0}")]
    Malformed(String),
}

/// How far a draw has come, every part present checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// No commitment yet (prizes may be set; nothing is bound).
    Open,
    Committed,
    Frozen,
    /// Drawn: the winners' entry ids, in prize order.
    Drawn(Vec<String>),
}

/// Checks a published draw end to end on quicknet and answers the winners' entry ids, in prize
/// order.
pub fn verify(draw: &Draw) -> Result<Vec<String>, DrawError> {
    match check(draw, &QUICKNET)? {
        Stage::Drawn(winners) => Ok(winners),
        _ => Err(DrawError::NotDrawn),
    }
}

/// Checks every part of a draw that is published so far, on `chain`.
pub fn check(draw: &Draw, chain: &Chain) -> Result<Stage, DrawError> {
    let Some(commitment) = &draw.commitment else {
        if draw.entries.is_some() || draw.result.is_some() {
            return Err(malformed("entries or a result without a commitment"));
        }
        return Ok(Stage::Open);
    };
    if commitment.algorithm != ALGORITHM {
        return Err(DrawError::UnknownAlgorithm(commitment.algorithm.clone()));
    }
    if commitment.beacon_chain != chain.hash {
        return Err(DrawError::WrongChain(commitment.beacon_chain.clone()));
    }
    let round_time = chain.round_time(commitment.beacon_round);
    if commitment.beacon_round_at.timestamp() != round_time
        || commitment.beacon_round_at.timestamp_subsec_nanos() != 0
    {
        return Err(times(format!(
            "round {} is published at {}, not {}",
            commitment.beacon_round,
            at(round_time),
            commitment.beacon_round_at
        )));
    }
    let eligibility_ok = matches!(
        commitment.eligibility,
        Eligibility {
            top_points: Some(_),
            min_verified_shares: None
        } | Eligibility {
            top_points: None,
            min_verified_shares: Some(_)
        }
    );
    if !eligibility_ok
        || commitment.prizes.is_empty()
        || commitment
            .prizes
            .iter()
            .any(|p| p.quantity == 0 || !commitment::prize_name_ok(&p.name))
    {
        return Err(malformed("the commitment's prizes or eligibility"));
    }
    let bound = commitment::Bound {
        month: &draw.month,
        seed_hash: &commitment.seed_hash,
        chain: &commitment.beacon_chain,
        round: commitment.beacon_round,
        closes_at: commitment.closes_at.timestamp(),
        prizes: &commitment.prizes,
        eligibility: commitment.eligibility,
    };
    if commitment::digest(&bound) != commitment.digest {
        return Err(DrawError::DigestMismatch);
    }
    if let Some(setup) = &draw.setup {
        if setup.prizes != commitment.prizes || setup.eligibility != commitment.eligibility {
            return Err(DrawError::SetupChanged);
        }
    }
    let month_ended = month_end_earliest(&draw.month).ok_or_else(|| malformed("the month"))?;
    if commitment.closes_at < month_ended {
        return Err(times(format!(
            "the month closes at {} before it ends",
            commitment.closes_at
        )));
    }
    if commitment.committed_at >= commitment.closes_at {
        return Err(times("committed after the month closed".into()));
    }
    if commitment.closes_at.timestamp() >= round_time {
        return Err(times(
            "the beacon round is not after the month closes".into(),
        ));
    }

    let Some(entries) = &draw.entries else {
        if draw.result.is_some() {
            return Err(malformed("a result without an entry list"));
        }
        return Ok(Stage::Committed);
    };
    if entries.entries.iter().any(|e| !commitment::entry_id_ok(e)) {
        return Err(DrawError::BadEntryId);
    }
    if entries.entries.windows(2).any(|w| w[0] >= w[1]) {
        return Err(DrawError::ListUnsorted);
    }
    if list_hash(&entries.entries) != entries.list_hash {
        return Err(DrawError::ListMismatch);
    }
    if entries.frozen_at < commitment.closes_at {
        return Err(times("the list was frozen before the month closed".into()));
    }
    if entries.frozen_at.timestamp() >= round_time {
        return Err(times(format!(
            "the list was frozen at {}, once the beacon round ({}) existed",
            entries.frozen_at,
            at(round_time)
        )));
    }
    if let Some(mine) = &draw.my_entry_id {
        if entries.entries.binary_search(mine).is_err() {
            return Err(DrawError::MyEntryMissing(mine.clone()));
        }
    }

    let Some(result) = &draw.result else {
        return Ok(Stage::Frozen);
    };
    if result.drawn_at.timestamp() < round_time {
        return Err(times(format!(
            "drawn at {}, before the beacon round ({}) existed",
            result.drawn_at,
            at(round_time)
        )));
    }
    if result.beacon.round != commitment.beacon_round {
        return Err(DrawError::RoundMismatch {
            committed: commitment.beacon_round,
            got: result.beacon.round,
        });
    }
    let randomness = verify_round(result.beacon.round, &result.beacon.signature)?;
    if let Some(published) = &result.beacon.randomness {
        if !published.eq_ignore_ascii_case(&hex::encode(&randomness)) {
            return Err(DrawError::RandomnessMismatch);
        }
    }
    let seed = hex::decode_32(&result.seed).ok_or_else(|| malformed("seed"))?;
    if seed_hash(&seed) != commitment.seed_hash {
        return Err(DrawError::SeedMismatch);
    }
    let slots = Slot::from_prizes(&commitment.prizes);
    let picked = pick(&seed, &randomness, &entries.entries, &slots).map_err(|e| malformed(&e))?;
    let claimed: Vec<(&str, &str)> = result
        .winners
        .iter()
        .map(|w: &DrawWinner| (w.prize.as_str(), w.entry_id.as_str()))
        .collect();
    let expected: Vec<(&str, &str)> = picked
        .iter()
        .map(|(slot, entry)| (slot.prize.as_str(), entry.as_str()))
        .collect();
    if claimed != expected {
        return Err(DrawError::WinnersMismatch);
    }
    Ok(Stage::Drawn(picked.into_iter().map(|(_, e)| e).collect()))
}

/// The earliest moment a month (`YYYY-MM`) can have ended in any time zone: its next month's
/// first midnight at UTC+14.
pub fn month_end_earliest(month: &str) -> Option<DateTime<Utc>> {
    let (year, m) = month.split_once('-')?;
    if year.len() != 4 || m.len() != 2 {
        return None;
    }
    let (year, m): (i32, u32) = (year.parse().ok()?, m.parse().ok()?);
    let (year, m) = if m == 12 {
        (year + 1, 1)
    } else {
        (year, m + 1)
    };
    let midnight = Utc.with_ymd_and_hms(year, m, 1, 0, 0, 0).single()?;
    Some(midnight - chrono::Duration::hours(14))
}

fn at(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).unwrap_or_default()
}

fn times(what: String) -> DrawError {
    DrawError::Times(what)
}

fn malformed(what: &str) -> DrawError {
    DrawError::Malformed(what.to_owned())
}
