//! Device sessions: enrolment codes, access and refresh tokens, and the caller of a request.
//!
//! Only SHA-256 hashes of codes and tokens are stored: a copy of the database opens no session.

pub mod cache;
mod caller;
pub mod oidc;
mod routes;
pub mod store;
mod tokens;

pub use cache::{Invalidation, SessionCache};
pub use caller::Caller;
pub use routes::router;
pub use tokens::{hash_secret, new_enrolment_code, new_token, normalise_code, TokenKind};
