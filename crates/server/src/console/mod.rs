//! The curators' web console: a single-page app served at `/console`, signed in with a one-time
//! link (`relay-server console-link`) or the company's OpenID provider, in a server-side browser
//! session whose cookie is `HttpOnly`, `SameSite=Strict` and (off loopback) `Secure`. Every
//! write made with that cookie carries the session's CSRF token. The app calls the same `/v1`
//! API as everything else: a console session is one more way to be a [`crate::auth::Caller`].

mod assets;
pub mod links;
mod oidc;
mod routes;
pub mod sessions;
pub mod settings;

pub use settings::ConsoleConfig;

pub use routes::{pages, router};
