//! The curators' web console: browser sessions and what only the console asks for.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Org, Person};

/// Body of `POST /v1/console/session`: the token of a one-time sign-in link.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsoleSignIn {
    pub token: String,
}

impl std::fmt::Debug for ConsoleSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleSignIn { token: <redacted> }")
    }
}

/// A browser's console session. The session itself travels in an `HttpOnly` cookie; the page
/// sends `csrf_token` back in the `X-CSRF-Token` header of every write.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsoleSession {
    pub person: Person,
    pub org: Org,
    pub csrf_token: String,
    /// The session ends after this long without a request.
    pub idle_timeout_secs: u64,
    /// And at this time whatever happens.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for ConsoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSession")
            .field("person", &self.person.id)
            .field("org", &self.org.slug)
            .finish_non_exhaustive()
    }
}

/// `GET /v1/console/config`: how a browser can sign in here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsoleSignInOptions {
    /// Whether "Sign in with your company account" is offered (`/console/oidc/start`).
    pub oidc: bool,
}

/// One row of a people import that could not be taken, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportRowError {
    /// The row's line in the file (the header is line 1).
    pub line: u32,
    pub error: String,
}

/// Answer to `POST /v1/people/import`: every row's fate. A file with any invalid row imports
/// nothing (`imported` is 0 and `errors` says which rows to fix).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub rows: u32,
    pub imported: u32,
    pub errors: Vec<ImportRowError>,
}
