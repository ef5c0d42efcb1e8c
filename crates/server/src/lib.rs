//! Relay's central server: organisations, people, curated content and its approval, the sync
//! change feed with live events, and share records. `docs/api.md` describes the API and
//! `docs/architecture.md` the modules and the protocol.

pub mod analytics;
pub mod app;
pub mod audit;
pub mod auth;
pub mod background;
pub mod backup;
pub mod body;
pub mod channels;
pub mod cli;
pub mod console;
#[cfg(test)]
mod console_types;
pub mod content;
pub mod db;
pub mod demo;
pub mod error;
pub mod links;
pub mod metrics;
pub mod orgs;
pub mod paging;
pub mod people;
pub mod personal;
pub mod programme;
pub mod proxies;
pub mod push;
pub mod reads;
pub mod request_limits;
pub mod scim;
pub mod serve;
pub mod settings_check;
pub mod settings_file;
pub mod settings_list;
pub mod shares;
pub mod shutdown;
pub mod social;
pub mod sources;
pub mod state;
pub mod sync;

pub use app::{app, AppState, Config};
pub use db::Db;
