//! Where the prize draw's beacon rounds come from.

use std::time::Duration;

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
