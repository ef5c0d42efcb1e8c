//! The engine's one error type, worded for the person using the app or the CLI. Never carries
//! a token: server problems are reduced to their code and detail.

use relay_protocol::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("not signed in: enrol this device first")]
    NotEnrolled,
    #[error("this device was signed out by the server ({0}); enrol it again")]
    SignedOut(String),
    #[error("cannot reach the server: {0}")]
    Offline(String),
    #[error("the server is busy; retry in {0} s")]
    RetryAfter(u64),
    #[error("this is not a Relay server ({0}): check the address")]
    NotRelay(String),
    #[error("the server refused: {}", .0.detail.as_deref().unwrap_or(&.0.title))]
    Server(Problem),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the keychain failed: {0}")]
    Keychain(String),
    #[error("local database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    #[error("unexpected data: {0}")]
    Data(#[from] serde_json::Error),
}

impl ClientError {
    /// Whether trying again later may work (network trouble, a busy server).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Offline(_) | ClientError::RetryAfter(_) => true,
            ClientError::Server(p) => p.status >= 500,
            _ => false,
        }
    }
}

/// A sign-in that failed in the browser or at the provider: its reason, for the person.
impl From<crate::oauth::OAuthError> for ClientError {
    fn from(err: crate::oauth::OAuthError) -> Self {
        ClientError::Invalid(err.to_string())
    }
}

/// A network's answer while connecting an account (its refusal, in its words).
impl From<crate::social::PostError> for ClientError {
    fn from(err: crate::social::PostError) -> Self {
        ClientError::Invalid(err.to_string())
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(err: reqwest::Error) -> Self {
        // reqwest errors name the URL, never headers: no token can leak through them.
        ClientError::Offline(err.without_url().to_string())
    }
}
