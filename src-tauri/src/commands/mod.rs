//! The commands the UI calls (typed for TypeScript by specta). Thin: each one asks the engine
//! and reshapes the answer.
//!
//! Every command that touches the database or the keychain is `async` (or `command(async)`),
//! so Tauri runs it off the main thread: the window keeps painting and taking input while a
//! sync applies a page. Reads use the store's own read connection, which never waits for one.
//!
//! One module per screen: `session.rs`, `feed.rs`, `shares.rs`, `settings.rs` (the accounts,
//! programme and personal-data screens have theirs beside: `accounts.rs`, `programme.rs`,
//! `personal.rs`).

mod feed;
mod session;
mod settings;
mod shares;

pub use feed::*;
pub use session::*;
pub use settings::*;
pub use shares::*;
