//! How long console sessions and sign-in links last.

use std::time::Duration;

/// How long console sessions last.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleConfig {
    /// A session ends after this long without a request.
    pub idle: Duration,
    /// And this long after sign-in whatever happens.
    pub lifetime: Duration,
    /// How long a sign-in link stays valid.
    pub link_valid: Duration,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            idle: Duration::from_secs(30 * 60),
            lifetime: Duration::from_secs(12 * 3600),
            link_valid: Duration::from_secs(15 * 60),
        }
    }
}

impl ConsoleConfig {
    /// `RELAY_CONSOLE_IDLE_MINUTES` (30) and `RELAY_CONSOLE_SESSION_HOURS` (12).
    pub fn from_env() -> ConsoleConfig {
        let number = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
        let mut config = ConsoleConfig::default();
        if let Some(m) = number("RELAY_CONSOLE_IDLE_MINUTES").filter(|m| *m > 0) {
            config.idle = Duration::from_secs(m * 60);
        }
        if let Some(h) = number("RELAY_CONSOLE_SESSION_HOURS").filter(|h| *h > 0) {
            config.lifetime = Duration::from_secs(h * 3600);
        }
        config
    }
}
