//! A person's own data: the download of everything the server holds about them, and erasure.

mod data;
mod erase;
mod routes;

pub use data::export;
pub use erase::{erase, Requester};
pub use routes::router;
