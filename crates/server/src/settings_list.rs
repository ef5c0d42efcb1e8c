//! Every setting the server reads: its key in the settings file, its variable, its default,
//! and what its value may reveal. `settings_file.rs` reads the file against this list and
//! `settings_check.rs` prints it.

/// What a setting's value may reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitivity {
    Plain,
    /// Never printed; may come from a file (`key_file`, `VARIABLE_FILE`).
    Secret,
    /// A URL whose password is masked when printed; may come from a file too.
    UrlWithPassword,
}

/// One setting: where it sits in the file, the variable it stands for, and what its value
/// may reveal.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The table it sits in (`None`: the top level).
    pub table: Option<&'static str>,
    pub key: &'static str,
    pub env: &'static str,
    pub sensitivity: Sensitivity,
    /// What applies when it is set nowhere.
    pub default: &'static str,
}

impl Setting {
    /// Whether its value may come from a file (`key_file`, `VARIABLE_FILE`).
    pub fn from_file(&self) -> bool {
        self.sensitivity != Sensitivity::Plain
    }
}

const fn setting(
    table: Option<&'static str>,
    key: &'static str,
    env: &'static str,
    default: &'static str,
) -> Setting {
    Setting {
        table,
        key,
        env,
        sensitivity: Sensitivity::Plain,
        default,
    }
}

const fn secret(table: &'static str, key: &'static str, env: &'static str) -> Setting {
    Setting {
        table: Some(table),
        key,
        env,
        sensitivity: Sensitivity::Secret,
        default: "unset",
    }
}

/// Every setting the server reads, in the order `config check` prints them.
pub const SETTINGS: &[Setting] = &[
    Setting {
        table: None,
        key: "database_url",
        env: "DATABASE_URL",
        sensitivity: Sensitivity::UrlWithPassword,
        default: "sqlite:relay-server.db",
    },
    setting(None, "bind", "RELAY_BIND", "127.0.0.1:8080"),
    setting(None, "public_url", "RELAY_PUBLIC_URL", "http:// + bind"),
    setting(None, "log", "RELAY_LOG", "info,sqlx=warn"),
    setting(None, "log_format", "RELAY_LOG_FORMAT", "text"),
    setting(
        None,
        "metrics_bind",
        "RELAY_METRICS_BIND",
        "unset (no metrics)",
    ),
    setting(None, "trusted_proxies", "RELAY_TRUSTED_PROXIES", "none"),
    setting(
        Some("sessions"),
        "access_ttl_secs",
        "RELAY_ACCESS_TTL_SECS",
        "3600",
    ),
    setting(
        Some("sessions"),
        "console_idle_minutes",
        "RELAY_CONSOLE_IDLE_MINUTES",
        "30",
    ),
    setting(
        Some("sessions"),
        "console_session_hours",
        "RELAY_CONSOLE_SESSION_HOURS",
        "12",
    ),
    setting(
        Some("limits"),
        "attempts_per_address",
        "RELAY_ATTEMPTS_PER_ADDRESS",
        "60",
    ),
    setting(
        Some("limits"),
        "attempts_per_org",
        "RELAY_ATTEMPTS_PER_ORG",
        "3000",
    ),
    setting(
        Some("content"),
        "tombstone_days",
        "RELAY_TOMBSTONE_DAYS",
        "90",
    ),
    setting(
        Some("content"),
        "clock_interval_ms",
        "RELAY_CLOCK_INTERVAL_MS",
        "1000",
    ),
    setting(
        Some("programme"),
        "month_grace_hours",
        "RELAY_MONTH_GRACE_HOURS",
        "72",
    ),
    setting(
        Some("programme"),
        "drand_url",
        "RELAY_DRAND_URL",
        "https://api.drand.sh",
    ),
    setting(
        Some("sources"),
        "allow_private",
        "RELAY_SOURCES_ALLOW_PRIVATE",
        "false",
    ),
    setting(
        Some("oidc"),
        "issuer",
        "RELAY_OIDC_ISSUER",
        "unset: codes only",
    ),
    setting(Some("oidc"), "client_id", "RELAY_OIDC_CLIENT_ID", "unset"),
    setting(Some("oidc"), "org", "RELAY_OIDC_ORG", "unset"),
    setting(
        Some("oidc"),
        "create_people",
        "RELAY_OIDC_CREATE_PEOPLE",
        "false",
    ),
    setting(
        Some("oidc"),
        "default_country",
        "RELAY_OIDC_DEFAULT_COUNTRY",
        "US",
    ),
    setting(
        Some("oidc"),
        "default_language",
        "RELAY_OIDC_DEFAULT_LANGUAGE",
        "en",
    ),
    setting(
        Some("oidc"),
        "console_client_id",
        "RELAY_OIDC_CONSOLE_CLIENT_ID",
        "the devices' client",
    ),
    setting(
        Some("linkedin"),
        "client_id",
        "RELAY_LINKEDIN_CLIENT_ID",
        "unset: LinkedIn through its share page",
    ),
    secret("linkedin", "client_secret", "RELAY_LINKEDIN_CLIENT_SECRET"),
    setting(
        Some("linkedin"),
        "redirect_url",
        "RELAY_LINKEDIN_REDIRECT_URL",
        "public_url + /v1/oauth/callback",
    ),
    setting(
        Some("linkedin"),
        "authorize_url",
        "RELAY_LINKEDIN_AUTHORIZE_URL",
        "https://www.linkedin.com/oauth/v2/authorization",
    ),
    setting(
        Some("linkedin"),
        "token_url",
        "RELAY_LINKEDIN_TOKEN_URL",
        "https://www.linkedin.com/oauth/v2/accessToken",
    ),
    setting(Some("push"), "batch_secs", "RELAY_PUSH_BATCH_SECS", "120"),
    secret("push", "vapid_private_key", "RELAY_VAPID_PRIVATE_KEY"),
    setting(
        Some("push"),
        "vapid_subject",
        "RELAY_VAPID_SUBJECT",
        "unset",
    ),
    secret("push", "fcm_service_account", "RELAY_FCM_SERVICE_ACCOUNT"),
    setting(
        Some("push"),
        "fcm_base_url",
        "RELAY_FCM_BASE_URL",
        "https://fcm.googleapis.com",
    ),
    secret("push", "apns_key", "RELAY_APNS_KEY"),
    setting(Some("push"), "apns_key_id", "RELAY_APNS_KEY_ID", "unset"),
    setting(Some("push"), "apns_team_id", "RELAY_APNS_TEAM_ID", "unset"),
    setting(Some("push"), "apns_topic", "RELAY_APNS_TOPIC", "unset"),
    setting(
        Some("push"),
        "apns_base_url",
        "RELAY_APNS_BASE_URL",
        "https://api.push.apple.com",
    ),
];
