//! drand's quicknet beacon: a round every 3 seconds since its genesis, each carrying a BLS
//! signature (scheme `bls-unchained-g1-rfc9380`) of the round number, checkable against the
//! League of Entropy's published public key. The round's randomness is the signature's SHA-256.

use drand_verify::{derive_randomness, G2PubkeyRfc, Pubkey};

use crate::hex;

/// quicknet's published parameters (`https://api.drand.sh/<chain hash>/info`).
pub struct Chain {
    pub hash: &'static str,
    pub public_key: &'static str,
    pub genesis_unix: i64,
    pub period_secs: i64,
}

pub const QUICKNET: Chain = Chain {
    hash: "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
    public_key: "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a",
    genesis_unix: 1_692_803_367,
    period_secs: 3,
};

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

/// The round being published at `unix` seconds with a chain starting at `genesis_unix`
/// (quicknet's, except in tests that replay recorded rounds).
pub fn round_at(unix: i64, genesis_unix: i64) -> u64 {
    if unix < genesis_unix {
        return 1;
    }
    u64::try_from((unix - genesis_unix) / QUICKNET.period_secs + 1).unwrap_or(u64::MAX)
}

/// When `round` is published, in Unix seconds.
pub fn round_time(round: u64, genesis_unix: i64) -> i64 {
    genesis_unix
        + i64::try_from(round.saturating_sub(1)).unwrap_or(i64::MAX / 4) * QUICKNET.period_secs
}
