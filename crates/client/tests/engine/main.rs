//! Integration tests of the device engine against the real relay-server over HTTP.

mod draws;
mod harness;
mod linkedin_stub;
mod mastodon_stub;
mod oidc;
mod pds;
mod peers;
mod sweep;
mod x_stub;

mod bluesky;
mod cli;
mod company;
mod crash;
mod lifecycle;
mod linkedin;
mod live;
mod mastodon;
mod oauth;
mod offline;
mod programme;
mod push;
mod recheck;
mod secrets;
mod two_processes;
mod x;
