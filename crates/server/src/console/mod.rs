//! The curators' web console: a single-page app served at `/console`, signed in with a one-time
//! link (`relay-server console-link`) or the company's OpenID provider, in a server-side browser
//! session whose cookie is `HttpOnly`, `SameSite=Strict` and (off loopback) `Secure`. Every
//! write made with that cookie carries the session's CSRF token. The app calls the same `/v1`
//! API as everything else: a console session is one more way to be a [`crate::auth::Caller`].

mod assets;
pub mod links;
mod oidc;
mod routes;
pub mod sessions;

use std::time::Duration;

pub use routes::{pages, router};

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
