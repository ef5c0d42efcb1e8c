//! The monthly prize draw as published: its setup, the commitment made before the month
//! closes, the frozen entry list, and the result. `relay-draw` verifies it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A prize and how many of it are given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Prize {
    /// 1 to 100 characters.
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub quantity: u32,
}

/// Who enters the draw. Declared shares never count toward it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// The top N people by the month's points (among those with a verified share).
    #[serde(default)]
    pub top_points: Option<u32>,
    /// Everyone with at least K verified shares in the month.
    #[serde(default)]
    pub min_verified_shares: Option<u32>,
}

impl Default for Eligibility {
    fn default() -> Self {
        Eligibility {
            top_points: Some(50),
            min_verified_shares: None,
        }
    }
}

/// Body of `PUT /v1/programme/draws/{month}`: the month's prizes and who is eligible. Set
/// before the entry list is frozen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DrawSetup {
    pub prizes: Vec<Prize>,
    pub eligibility: Eligibility,
}

/// Published before the month closes: nobody can then choose the seed, the beacon round, the
/// prizes or who is eligible. Devices pin its `digest` the first time they see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawCommitment {
    /// `relay-draw-v1`.
    pub algorithm: String,
    /// SHA-256 of the secret seed, hex.
    pub seed_hash: String,
    /// The beacon: drand quicknet's chain hash, and the round that will be used.
    pub beacon_chain: String,
    pub beacon_round: u64,
    /// When that round is published (quicknet's genesis plus 3 s a round: every verifier
    /// computes it).
    pub beacon_round_at: DateTime<Utc>,
    /// When the month's records close and the entry list is frozen, before the round.
    pub closes_at: DateTime<Utc>,
    /// The prizes, in the order they are drawn, bound by the commitment.
    pub prizes: Vec<Prize>,
    /// Who enters, bound by the commitment.
    pub eligibility: Eligibility,
    /// SHA-256 of the commitment's canonical text (see `docs/draw.md`), hex: what devices pin.
    pub digest: String,
    pub committed_at: DateTime<Utc>,
}

/// The entry list, frozen when the month closed and published before the beacon round exists:
/// sorted pseudonymous entry ids (16 random bytes each, 32 lowercase hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawEntries {
    pub entries: Vec<String>,
    /// SHA-256 of each entry id followed by a newline, hex.
    pub list_hash: String,
    pub frozen_at: DateTime<Utc>,
}

/// A beacon round as drand publishes it (`/public/{round}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BeaconRound {
    pub round: u64,
    /// BLS signature, hex.
    pub signature: String,
    /// SHA-256 of the signature, hex (checked when given).
    #[serde(default)]
    pub randomness: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawWinner {
    pub prize: String,
    pub entry_id: String,
    /// The winner's name, or their leaderboard pseudonym.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawResult {
    /// The seed, revealed: 32 bytes, hex.
    pub seed: String,
    pub beacon: BeaconRound,
    pub winners: Vec<DrawWinner>,
    pub drawn_at: DateTime<Utc>,
}

/// A month's draw as everyone sees it, with the caller's own part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Draw {
    /// `YYYY-MM`.
    pub month: String,
    pub setup: Option<DrawSetup>,
    pub commitment: Option<DrawCommitment>,
    pub entries: Option<DrawEntries>,
    pub result: Option<DrawResult>,
    /// The caller's entry id, once the list is frozen and they are on it.
    pub my_entry_id: Option<String>,
    /// Whether the caller opted out of this month's draw.
    pub opted_out: bool,
}

/// Body of `POST /v1/programme/draws/{month}/result`: the beacon round, pasted by an admin
/// where the server cannot reach the beacon (its signature is checked all the same); empty to
/// let the server fetch it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DrawRequest {
    #[serde(default)]
    pub beacon: Option<BeaconRound>,
}

/// Body of `POST /v1/programme/draws/{month}/commitment`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommitRequest {
    /// A later beacon round than the first one after the month closes (the default).
    #[serde(default)]
    pub beacon_round: Option<u64>,
}

/// Body of `PUT /v1/programme/draws/{month}/me`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DrawParticipation {
    pub opted_out: bool,
}
