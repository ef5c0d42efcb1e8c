//! Where the draw's beacon rounds come from, and the chain they must belong to. The URL may be
//! any copy of drand's HTTP API (every round's signature is checked against quicknet's key);
//! the chain and its clock are built in. Only test builds (`test-beacon`) replay recorded rounds
//! on a moved clock.

use std::time::Duration;

use relay_protocol::BeaconRound;

pub use super::settings::{BeaconConfig, FREEZE_LEAD};
use crate::error::ApiError;

/// The committed round, from drand's API (the caller checks its signature).
pub async fn fetch_round(
    config: &BeaconConfig,
    http: &reqwest::Client,
    round: u64,
) -> Result<BeaconRound, ApiError> {
    let url = format!(
        "{}/{}/public/{round}",
        config.url.trim_end_matches('/'),
        config.chain().hash
    );
    let unreachable = |e: String| {
        ApiError::BeaconUnavailable(format!(
            "cannot read round {round} from the beacon ({e}); paste the round's JSON instead"
        ))
    };
    let response = http
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
