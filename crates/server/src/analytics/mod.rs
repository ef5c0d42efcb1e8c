//! The programme's analytics for curators and admins: month figures and their trend, and a
//! month's shares broken down by channel, network, language, country or department. Never a
//! person's activity: groups of fewer than 5 people are hidden, with enough others that no
//! subtraction from a total reveals them (`privacy.rs`).
//!
//! Every figure is per month (in the organisation's time zone): a range is a row of months,
//! so two overlapping ranges cannot be subtracted to isolate a small group either.

pub mod adoption;
pub mod disclosure;
mod figures;
mod individual;
pub mod members;
pub mod privacy;
pub mod publication;
mod routes;
mod snapshots;

pub use routes::router;
