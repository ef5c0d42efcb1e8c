//! Integration tests of the device engine against the real relay-server over HTTP.

mod harness;
mod peers;

mod cli;
mod crash;
mod lifecycle;
mod live;
mod offline;
mod secrets;
