//! Relay's device engine, with no Tauri dependency: the desktop app, a future mobile app and
//! the `relay` command line share it.
//!
//! - [`store`]: the SQLite cache (content, FTS5 search, marks) and the person's own data
//!   (outbox, accounts);
//! - [`sync`]: the feed, page by page, and live mode;
//! - [`dispatch`]: sending the outbox and recording shares on the server;
//! - [`secrets`]: the OS keychain behind [`secrets::SecretStore`];
//! - [`social`]: the networks behind [`social::SocialNetwork`]; [`connect`]: connecting and
//!   disconnecting accounts;
//! - [`oauth`]: OAuth for native apps (loopback redirect, PKCE);
//! - [`notify`]: which syncs deserve a notification.

pub mod api;
pub mod connect;
pub mod dispatch;
pub mod engine;
pub mod error;
pub mod html;
pub mod images;
pub mod notify;
pub mod oauth;
pub mod personal;
pub mod programme;
pub mod push;
pub mod reports;
pub mod secrets;
pub mod social;
pub mod store;
pub mod sync;

pub use engine::{Engine, Status};
pub use error::ClientError;

/// Logs to stderr, filtered by `RELAY_LOG` (default: warnings), for the CLI and the app.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RELAY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}
