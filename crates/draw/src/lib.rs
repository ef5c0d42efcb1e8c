//! The monthly prize draw, version `relay-draw-v1`: how winners are picked, and how anyone
//! checks it on their own device. No I/O: the server, the app and the `relay` command all run
//! this same code on the same published record.
//!
//! The record binds four things, each published before the next exists:
//! 1. **The commitment**, before the month closes: the SHA-256 of a secret 32-byte seed, the
//!    algorithm's version, and the number of a future round of drand's quicknet beacon.
//! 2. **The entries**, frozen at the close: sorted pseudonymous entry ids and their hash.
//! 3. **The beacon round**: its BLS signature, checked against quicknet's public key (nobody,
//!    the company included, can make or predict it); its randomness is the SHA-256 of it.
//! 4. **The reveal**: the seed, which must hash to the commitment.
//!
//! The winners follow from these alone (see [`pick`]). Changing an entry, the seed or the
//! round makes [`verify`] fail.

mod beacon;
pub mod hex;
mod pick;

pub use beacon::{round_at, round_time, verify_round, BeaconError, QUICKNET};
pub use pick::{list_hash, pick, seed_hash, Slot};

use relay_protocol::{Draw, DrawWinner};

/// The algorithm this crate implements.
pub const ALGORITHM: &str = "relay-draw-v1";

/// Why a draw does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    #[error("the draw has not been made yet")]
    NotDrawn,
    #[error("unknown draw algorithm {0:?} (this device knows {ALGORITHM})")]
    UnknownAlgorithm(String),
    #[error("the revealed seed does not match the commitment")]
    SeedMismatch,
    #[error("the entry list does not match its published hash")]
    ListMismatch,
    #[error("the entry list is not sorted without repeats")]
    ListUnsorted,
    #[error("the beacon round is {got}, the commitment named {committed}")]
    RoundMismatch { committed: u64, got: u64 },
    #[error("the beacon round is not quicknet's: {0}")]
    Beacon(#[from] BeaconError),
    #[error("the published randomness is not the beacon's")]
    RandomnessMismatch,
    #[error("the winners are not the ones the algorithm picks")]
    WinnersMismatch,
    #[error("malformed draw record: {0}")]
    Malformed(String),
}

/// Checks a published draw end to end and answers the winners' entry ids, in prize order.
pub fn verify(draw: &Draw) -> Result<Vec<String>, DrawError> {
    let (Some(commitment), Some(entries), Some(result), Some(setup)) =
        (&draw.commitment, &draw.entries, &draw.result, &draw.setup)
    else {
        return Err(DrawError::NotDrawn);
    };
    if commitment.algorithm != ALGORITHM {
        return Err(DrawError::UnknownAlgorithm(commitment.algorithm.clone()));
    }
    let seed = hex::decode_32(&result.seed).ok_or_else(|| malformed("seed"))?;
    if seed_hash(&seed) != commitment.seed_hash {
        return Err(DrawError::SeedMismatch);
    }
    if entries.entries.windows(2).any(|w| w[0] >= w[1]) {
        return Err(DrawError::ListUnsorted);
    }
    if list_hash(&entries.entries) != entries.list_hash {
        return Err(DrawError::ListMismatch);
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
    let slots = Slot::from_prizes(&setup.prizes);
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
    Ok(picked.into_iter().map(|(_, e)| e).collect())
}

fn malformed(what: &str) -> DrawError {
    DrawError::Malformed(what.to_owned())
}
