//! What the operator sets for sessions and company sign-in.

use chrono::Duration;

/// The company's provider, as the operator configured it.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    /// The organisation its people belong to.
    pub org_slug: String,
    /// Whether a first sign-in creates the person (from the token's name and e-mail).
    pub create_people: bool,
    /// For people created at sign-in whose token has no `locale`.
    pub default_country: String,
    pub default_language: String,
    /// The console's client at the provider (a browser redirected to this server's
    /// `/console/oidc/callback`); the devices' client when unset.
    pub console_client_id: Option<String>,
}

impl OidcConfig {
    /// `RELAY_OIDC_ISSUER`, `RELAY_OIDC_CLIENT_ID` and `RELAY_OIDC_ORG` (all three, or company
    /// sign-in is off); `RELAY_OIDC_CREATE_PEOPLE=true` to create people at first sign-in;
    /// `RELAY_OIDC_DEFAULT_COUNTRY` (US) and `RELAY_OIDC_DEFAULT_LANGUAGE` (en) for them;
    /// `RELAY_OIDC_CONSOLE_CLIENT_ID` for the console's own client.
    pub fn from_env() -> Option<OidcConfig> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Some(OidcConfig {
            issuer: var("RELAY_OIDC_ISSUER")?.trim_end_matches('/').to_owned(),
            client_id: var("RELAY_OIDC_CLIENT_ID")?,
            org_slug: var("RELAY_OIDC_ORG")?,
            create_people: var("RELAY_OIDC_CREATE_PEOPLE").as_deref() == Some("true"),
            default_country: var("RELAY_OIDC_DEFAULT_COUNTRY").unwrap_or_else(|| "US".into()),
            default_language: var("RELAY_OIDC_DEFAULT_LANGUAGE").unwrap_or_else(|| "en".into()),
            console_client_id: var("RELAY_OIDC_CONSOLE_CLIENT_ID"),
        })
    }
}

/// How long access and refresh tokens live.
#[derive(Debug, Clone, Copy)]
pub struct TokenLifetimes {
    pub access: Duration,
    pub refresh: Duration,
    /// How long a just-rotated refresh token, presented again, gets the same new pair instead
    /// of revoking the session (two processes of one device refreshing at once, or an answer
    /// lost on the way).
    pub refresh_grace: Duration,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        TokenLifetimes {
            access: Duration::hours(1),
            refresh: Duration::days(90),
            refresh_grace: Duration::seconds(60),
        }
    }
}
