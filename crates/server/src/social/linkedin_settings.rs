//! Relay's LinkedIn app, for the code exchange the server brokers (`linkedin.rs`).

/// Relay's LinkedIn app, where the operator configured one.
#[derive(Clone)]
pub struct LinkedInConfig {
    pub client_id: String,
    pub client_secret: String,
    pub authorize_url: String,
    pub token_url: String,
    /// The redirect URL registered with LinkedIn: this server's `/v1/oauth/callback`
    /// (default: under the public URL).
    pub redirect_url: Option<String>,
}

impl std::fmt::Debug for LinkedInConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedInConfig")
            .field("client_id", &self.client_id)
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}
