//! The server's shared state and its settings: what every handler and background task reads.
//! It knows no route, so that any module can take it without taking the router with it.

use std::sync::Arc;

use crate::auth::cache::SessionCache;
use crate::auth::limits::{AttemptLimits, AttemptQuota};
use crate::auth::settings::TokenLifetimes;
use crate::db::Db;
use crate::sync::events::Events;

/// Settings that shape the API's answers.
#[derive(Debug, Clone)]
pub struct Config {
    /// The URL devices reach this server at (put in enrolment links).
    pub public_url: String,
    pub tokens: TokenLifetimes,
    /// Relay's LinkedIn app, for the brokered code exchange (none: LinkedIn is not offered).
    pub linkedin: Option<crate::social::linkedin_settings::LinkedInConfig>,
    /// The company's OpenID Connect provider (none: enrolment codes only).
    pub oidc: Option<crate::auth::settings::OidcConfig>,
    /// Attempts allowed on enrolment, refresh and sign-in.
    pub attempts: AttemptQuota,
    /// How long a retracted or expired item stays in the feed as a tombstone.
    pub tombstone_max_age: chrono::Duration,
    /// How long after a programme month ends its share records are still taken.
    pub month_grace: chrono::Duration,
    /// Where the prize draw's beacon rounds come from.
    pub beacon: crate::programme::draw::settings::BeaconConfig,
    /// What sources may reach, and how often they are looked at. Shares are confirmed through
    /// the same guard and addresses (PLC directory, AppView, Mastodon's scheme).
    pub sources: crate::sources::settings::SourcesConfig,
    /// How often posts are read to confirm shares, and read again.
    pub confirm: crate::shares::confirm::settings::ConfirmConfig,
    /// How long console sessions and sign-in links last.
    pub console: crate::console::settings::ConsoleConfig,
    /// Push services and their keys, the batch window.
    pub push: crate::push::settings::PushSettings,
    /// Reverse proxies whose `X-Forwarded-For` names the client (none: the peer is the client).
    pub trusted_proxies: crate::proxies::TrustedProxies,
}

impl Config {
    /// Every default, at `public_url`, without limits on attempts: for tests, benchmarks and
    /// load runs, which enrol many devices from one address.
    pub fn unlimited(public_url: &str) -> Config {
        Config {
            public_url: public_url.into(),
            tokens: TokenLifetimes::default(),
            linkedin: None,
            oidc: None,
            attempts: AttemptQuota {
                per_address: u32::MAX,
                per_org: u32::MAX,
            },
            tombstone_max_age: chrono::Duration::days(DEFAULT_TOMBSTONE_DAYS),
            month_grace: chrono::Duration::hours(DEFAULT_MONTH_GRACE_HOURS),
            beacon: Default::default(),
            sources: Default::default(),
            confirm: Default::default(),
            console: Default::default(),
            push: Default::default(),
            trusted_proxies: Default::default(),
        }
    }
}

/// A month's records are taken until 72 hours after it ends (devices that were offline).
pub const DEFAULT_MONTH_GRACE_HOURS: i64 = 72;

/// Tombstones are fed for 90 days: a device offline longer rebuilds its cache.
pub const DEFAULT_TOMBSTONE_DAYS: i64 = 90;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub events: Events,
    pub sessions: SessionCache,
    pub attempts: Arc<AttemptLimits>,
    pub config: Arc<Config>,
    pub shutdown: crate::shutdown::Shutdown,
    /// The company provider's discovery document and keys, cached.
    pub provider: Arc<crate::auth::provider::ProviderCache>,
    /// Tracked links, today's salt and today's visitors, kept in memory.
    pub link_cache: crate::links::cache::LinkCache,
    /// The HTTP client of sources (SSRF-safe, bounded).
    pub fetcher: crate::sources::fetch::Fetcher,
    /// Share records arriving together, written in one transaction.
    pub recorder: crate::shares::recorder::Recorder,
    /// The points rules of months that have begun (frozen).
    pub rules_cache: crate::programme::rules_cache::RulesCache,
    /// This instance's counters, served to Prometheus (`serve --metrics-bind`).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    pub fn new(db: Db, config: Config) -> AppState {
        let config_fetch = config.sources.fetch.clone();
        AppState {
            db,
            events: Events::default(),
            sessions: SessionCache::default(),
            attempts: Arc::new(AttemptLimits::new(config.attempts)),
            config: Arc::new(config),
            shutdown: Default::default(),
            provider: Default::default(),
            link_cache: Default::default(),
            fetcher: crate::sources::fetch::Fetcher::new(config_fetch),
            recorder: Default::default(),
            rules_cache: Default::default(),
            metrics: Default::default(),
        }
    }
}
