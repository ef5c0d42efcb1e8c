//! Device sessions: enrolment codes, access and refresh tokens, and the caller of a request.
//!
//! Only SHA-256 hashes of codes and tokens are stored: a copy of the database opens no session.

pub mod cache;
mod caller;
pub mod cookie;
pub mod limits;
pub mod oidc;
pub mod provider;
mod routes;
pub mod settings;
pub mod store;
pub(crate) mod tokens;

pub use cache::{Invalidation, SessionCache};
pub(crate) use caller::{check as check_session, session_of};
pub use caller::{Admin, Caller, Curator};
pub use limits::{AttemptLimits, AttemptQuota, ClientAddr};
pub use routes::router;
pub use tokens::{
    hash_secret, new_enrolment_code, new_refresh_family, new_refresh_token, new_token,
    normalise_code, refresh_family, seal, unseal, TokenKind,
};
