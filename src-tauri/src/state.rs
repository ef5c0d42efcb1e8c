//! What every command reaches: the engine and the live loop's shared flags.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use relay_client::Engine;
use tokio::sync::Notify;

pub struct AppState {
    pub engine: Engine,
    pub live: Arc<Live>,
}

/// Shared with the live loop.
#[derive(Default)]
pub struct Live {
    /// "Sync now": wakes the live loop at once, also out of a reconnection wait.
    pub nudge: Notify,
    /// Whether the server answered the last time the live loop tried.
    pub online: AtomicBool,
    /// Whether the live loop runs (it ends when the device is signed out).
    pub running: AtomicBool,
}

impl Live {
    pub fn online(&self) -> bool {
        self.online.load(Ordering::Relaxed)
    }
}
