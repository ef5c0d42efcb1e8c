//! `relay-draw-v1`'s arithmetic: the seed's and the entry list's hashes, and picking winners
//! without replacement from the seed and the beacon's randomness.

use relay_protocol::Prize;
use sha2::{Digest, Sha256};

use crate::hex;

/// The commitment to a seed: SHA-256 of its 32 bytes, in hex.
pub fn seed_hash(seed: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(seed))
}

/// The frozen entry list's hash: SHA-256 of each id followed by a newline, in order, in hex.
pub fn list_hash(entries: &[String]) -> String {
    let mut hasher = Sha256::new();
    for entry in entries {
        hasher.update(entry.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(&hasher.finalize())
}

/// One prize to give: prizes in their published order, each repeated by its quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub prize: String,
}

impl Slot {
    pub fn from_prizes(prizes: &[Prize]) -> Vec<Slot> {
        prizes
            .iter()
            .flat_map(|p| {
                (0..p.quantity).map(|_| Slot {
                    prize: p.name.clone(),
                })
            })
            .collect()
    }
}

/// Picks one entry per slot, without replacement, until slots or entries run out.
///
/// `key = SHA-256("relay-draw-v1\n" ‖ seed ‖ randomness ‖ list hash bytes)`. For slot `k`
/// (0-based) and counter `c` (0, 1, ...), `x` is the first 8 bytes, big-endian, of
/// `SHA-256(key ‖ k as u32 BE ‖ c as u32 BE)`; with `n` entries left, `x` is rejected when it
/// falls in the last, incomplete multiple of `n` (no modulo bias), else entry `x mod n` of the
/// remaining list (kept in sorted order) wins and leaves the list.
pub fn pick(
    seed: &[u8; 32],
    randomness: &[u8; 32],
    entries: &[String],
    slots: &[Slot],
) -> Result<Vec<(Slot, String)>, String> {
    let list = hex::decode_32(&list_hash(entries)).ok_or("list hash")?;
    let key: [u8; 32] = Sha256::new()
        .chain_update(format!("{}\n", crate::ALGORITHM).as_bytes())
        .chain_update(seed)
        .chain_update(randomness)
        .chain_update(list)
        .finalize()
        .into();
    let mut remaining: Vec<&String> = entries.iter().collect();
    let mut winners = Vec::new();
    for (k, slot) in slots.iter().enumerate() {
        if remaining.is_empty() {
            break;
        }
        let n = remaining.len() as u64;
        let zone = (u64::MAX / n) * n;
        let k = u32::try_from(k).map_err(|_| "too many prizes")?;
        let index = (0u32..)
            .map(|c| {
                let h = Sha256::new()
                    .chain_update(key)
                    .chain_update(k.to_be_bytes())
                    .chain_update(c.to_be_bytes())
                    .finalize();
                u64::from_be_bytes(h[..8].try_into().expect("8 bytes"))
            })
            .find(|x| *x < zone)
            .map(|x| (x % n) as usize)
            .ok_or("no draw")?;
        winners.push((slot.clone(), remaining.remove(index).clone()));
    }
    Ok(winners)
}
