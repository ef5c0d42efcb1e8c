//! Token exchanges the server brokers for devices: LinkedIn's code exchange needs Relay's
//! client secret, which no device may hold. The server passes the token straight through: it
//! never stores or logs it.

use serde::{Deserialize, Serialize};

/// `GET /v1/linkedin`: what a device needs to start LinkedIn's sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkedInApp {
    pub client_id: String,
    pub authorize_url: String,
    pub scopes: Vec<String>,
    /// The server's page registered with LinkedIn as the redirect URL: it forwards the browser
    /// to the device's loopback port (carried in `state` as `<port>.<random>`).
    pub redirect_uri: String,
}

/// Body of `POST /v1/linkedin/token`: the code the browser brought back to the device.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkedInCode {
    pub code: String,
    pub redirect_uri: String,
    pub code_verifier: Option<String>,
}

/// LinkedIn's answer, passed through to the device (`Cache-Control: no-store`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkedInTokens {
    pub access_token: String,
    /// Seconds (LinkedIn: 60 days).
    pub expires_in: i64,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

// Debug without the secrets: these types pass through logs' reach.
impl std::fmt::Debug for LinkedInCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedInCode")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LinkedInTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedInTokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}
