//! How often posts are read to confirm shares, and read again.

use std::time::Duration;

/// How the confirmer paces itself.
#[derive(Debug, Clone)]
pub struct ConfirmConfig {
    /// How often it looks for posts due.
    pub every: Duration,
    /// How often a confirmed post is read again while its month is open.
    pub recheck_every: Duration,
    /// The first wait after a post could not be read; it doubles, up to an hour.
    pub retry_after: Duration,
}

impl Default for ConfirmConfig {
    fn default() -> Self {
        ConfirmConfig {
            every: Duration::from_secs(2),
            recheck_every: Duration::from_secs(12 * 3600),
            retry_after: Duration::from_secs(30),
        }
    }
}
