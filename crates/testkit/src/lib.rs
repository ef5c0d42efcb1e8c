//! The peers Relay's tests start, shared by the server's API tests, the device engine's tests,
//! the app's end-to-end tests and the benchmarks (a dev-dependency only: never in a release).
//!
//! Real peers wherever one runs here: the relay-server itself (`peers::TestServer`), a Bluesky
//! PDS (`pds`), an OpenID provider (`oidc`), a Web Push service with its browsers
//! (`push_peers`). Local stubs that follow the documented APIs where none can run (`x_stub`,
//! `linkedin_stub`, and `mastodon_stub` for what the real server cannot be made to do). `sweep`
//! notes every secret a test handles, for the sweep after the suite.
//!
//! Every peer ends with the test that started it, failed or not: servers are tasks of the
//! test's runtime, child processes are killed when their handle drops.

pub mod draws;
pub mod linkedin_stub;
pub mod mastodon_stub;
pub mod oidc;
pub mod pds;
pub mod peers;
pub mod push_peers;
pub mod sweep;
pub mod x_stub;
