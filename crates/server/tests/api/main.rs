//! Integration tests of relay-server over real HTTP, each on SQLite and on PostgreSQL.

mod harness;
mod replica;
#[allow(dead_code)]
#[path = "../../../client/tests/engine/sweep.rs"]
mod sweep;

mod boards;
mod cli;
mod concurrency;
mod curation;
mod draw;
mod events;
mod feeds;
mod isolation;
mod linkedin;
mod links;
mod malformed;
mod newsroom;
mod programme;
mod reads;
mod sessions;
mod shares;
mod sources;
mod sync;
