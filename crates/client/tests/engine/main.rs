//! Integration tests of the device engine against the real relay-server over HTTP.

mod harness;
mod pds;
mod peers;

mod bluesky;
mod cli;
mod crash;
mod lifecycle;
mod live;
mod offline;
mod secrets;
