//! drand's quicknet beacon: a round every 3 seconds since its genesis, each carrying a BLS
//! signature (scheme `bls-unchained-g1-rfc9380`) of the round number, checkable against the
//! League of Entropy's published public key. The round's randomness is the signature's SHA-256.
//!
//! The chain's parameters are built in: no setting of a production build moves its clock or
//! changes its key. Tests that replay recorded rounds move the clock with the `replay` feature,
//! which only test builds turn on.

use drand_verify::{derive_randomness, G2PubkeyRfc, Pubkey};

use crate::hex;

/// A beacon chain's published parameters (`https://api.drand.sh/<chain hash>/info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub hash: &'static str,
    pub public_key: &'static str,
    genesis_unix: i64,
    pub period_secs: i64,
}

/// drand's quicknet, run by the League of Entropy.
pub const QUICKNET: Chain = Chain {
    hash: "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
    public_key: "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a",
    genesis_unix: 1_692_803_367,
    period_secs: 3,
};

impl Chain {
    /// When round 1 was published, in Unix seconds.
    pub const fn genesis_unix(&self) -> i64 {
        self.genesis_unix
    }

    /// The round being published at `unix` seconds (the newest whose time has come).
    pub fn round_at(&self, unix: i64) -> u64 {
        if unix < self.genesis_unix {
            return 1;
        }
        u64::try_from((unix - self.genesis_unix) / self.period_secs + 1).unwrap_or(u64::MAX)
    }

    /// The first round published strictly after `unix` seconds.
    pub fn first_round_after(&self, unix: i64) -> u64 {
        self.round_at(unix).saturating_add(1)
    }

    /// When `round` is published, in Unix seconds: genesis + (round - 1) x period.
    pub fn round_time(&self, round: u64) -> i64 {
        self.genesis_unix
            + i64::try_from(round.saturating_sub(1))
                .unwrap_or(i64::MAX / 4)
                .saturating_mul(self.period_secs)
    }

    /// quicknet with its clock moved so that recorded rounds come at a test's chosen time: same
    /// key, same rounds, same signatures. Test builds only.
    #[cfg(feature = "replay")]
    pub fn replayed(genesis_unix: i64) -> Chain {
        Chain {
            genesis_unix,
            ..QUICKNET
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BeaconError {
    #[error("the signature is not hexadecimal")]
    NotHex,
    #[error("the signature is not a point of the curve: {0}")]
    InvalidPoint(String),
    #[error("the signature does not verify against quicknet's public key for round {0}")]
    BadSignature(u64),
}

/// Checks a quicknet round's signature; answers its randomness.
pub fn verify_round(round: u64, signature: &str) -> Result<[u8; 32], BeaconError> {
    let signature = hex::decode(signature).ok_or(BeaconError::NotHex)?;
    let key: [u8; 96] = hex::decode(QUICKNET.public_key)
        .and_then(|k| k.try_into().ok())
        .expect("quicknet's public key is 96 bytes of hex");
    let key = G2PubkeyRfc::from_fixed(key).expect("quicknet's public key is a valid point");
    match key.verify(round, b"", &signature) {
        Ok(true) => Ok(derive_randomness(&signature)),
        Ok(false) => Err(BeaconError::BadSignature(round)),
        Err(e) => Err(BeaconError::InvalidPoint(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_and_times_follow_genesis_and_period() {
        let g = QUICKNET.genesis_unix();
        assert_eq!(QUICKNET.round_time(1), g);
        assert_eq!(QUICKNET.round_time(657413), 1_694_775_603);
        assert_eq!(QUICKNET.round_at(g), 1);
        assert_eq!(QUICKNET.round_at(g + 2), 1);
        assert_eq!(QUICKNET.round_at(g + 3), 2);
        assert_eq!(QUICKNET.first_round_after(g + 3), 3);
        assert_eq!(QUICKNET.round_at(g - 100), 1);
        assert_eq!(QUICKNET.round_at(QUICKNET.round_time(657413)), 657413);
    }
}
