use serde::{Deserialize, Serialize};

/// An RFC 9457 problem document (`application/problem+json`): every error the server returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `https://relay.dev/problems/not-found`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short human-readable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this case, written for the person reading it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub detail: Option<String>,
    /// A stable machine-readable code (`invalid_request`, `session_revoked`, ...).
    pub code: String,
}

/// The media type of [`Problem`] responses.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";
