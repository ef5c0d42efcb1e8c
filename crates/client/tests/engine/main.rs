//! Integration tests of the device engine against the real relay-server over HTTP.

mod harness;
// The peers (the server, the stubs, the PDS, the OpenID provider), shared with the server's and
// the app's tests.
use relay_testkit::{draws, linkedin_stub, mastodon_stub, oidc, pds, peers, sweep, x_stub};

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
