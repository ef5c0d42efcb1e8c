//! Where the draw's beacon rounds come from, and the chain they must belong to. The URL may be
//! any copy of drand's HTTP API (every round's signature is checked against quicknet's key);
//! the chain and its clock are built in. Only test builds (`test-beacon`) replay recorded rounds
//! on a moved clock.

use std::time::Duration;

use relay_protocol::BeaconRound;

use crate::error::ApiError;
use crate::state::AppState;

/// How long before the committed round the entry list is frozen and announced, at least: the
/// time devices have to fetch the list while nobody can know the round's value.
pub const FREEZE_LEAD: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone)]
pub struct BeaconConfig {
    /// drand's HTTP API (quicknet's rounds at `{url}/{chain hash}/public/{round}`).
    pub url: String,
    chain: relay_draw::Chain,
    lead: Duration,
}

impl Default for BeaconConfig {
    fn default() -> Self {
        BeaconConfig {
            url: "https://api.drand.sh".into(),
            chain: relay_draw::QUICKNET,
            lead: FREEZE_LEAD,
        }
    }
}

impl BeaconConfig {
    pub fn with_url(url: impl Into<String>) -> BeaconConfig {
        BeaconConfig {
            url: url.into(),
            ..BeaconConfig::default()
        }
    }

    /// A test's beacon: recorded quicknet rounds replayed on a clock starting at
    /// `genesis_unix`, with a shorter lead.
    #[cfg(feature = "test-beacon")]
    pub fn replaying(url: impl Into<String>, genesis_unix: i64, lead: Duration) -> BeaconConfig {
        BeaconConfig {
            url: url.into(),
            chain: relay_draw::Chain::replayed(genesis_unix),
            lead,
        }
    }

    pub fn chain(&self) -> &relay_draw::Chain {
        &self.chain
    }

    pub fn lead(&self) -> Duration {
        self.lead
    }
}

/// The committed round, from drand's API.
pub async fn fetch_round(state: &AppState, round: u64) -> Result<BeaconRound, ApiError> {
    let config = &state.config.beacon;
    let url = format!(
        "{}/{}/public/{round}",
        config.url.trim_end_matches('/'),
        config.chain.hash
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
        .timeout(Duration::from_secs(10))
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
