//! Integration tests of relay-server over real HTTP, each on SQLite and on PostgreSQL.

mod harness;
// The peers, shared with the engine's and the app's tests.
use relay_testkit::{mastodon_stub, pds, push_peers, sweep};
mod replica;

mod adversary;
mod analytics;
mod backup;
mod boards;
mod cli;
mod concurrency;
mod confirm;
mod console;
mod curation;
mod draw;
mod events;
mod feeds;
mod isolation;
mod linkedin;
mod links;
mod malformed;
mod metrics;
mod newsroom;
mod packaging;
mod people;
mod people_import;
mod personal;
mod programme;
mod push;
mod readiness;
mod reads;
mod scim;
mod sessions;
mod settings_file;
mod shares;
mod sources;
mod sync;
mod upgrade;
