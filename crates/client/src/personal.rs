//! The person's own data on the server: the download of all of it, erasure, and the
//! organisation's privacy settings (shown in the About screen).

use std::path::{Path, PathBuf};

use relay_protocol::{Erasure, PrivacySettings};

use crate::engine::Engine;
use crate::error::ClientError;

/// Why the device is signed out after an erasure (shown on the enrolment screen).
pub const ERASED_REASON: &str = "your data was erased from the server";

impl Engine {
    /// Downloads everything the server holds about the person into `folder`, as
    /// `relay-my-data-YYYY-MM-DD.json` (a new name rather than over an earlier download);
    /// returns the file's path. Written whole or not at all.
    pub async fn download_my_data(&self, folder: &Path) -> Result<PathBuf, ClientError> {
        let api = self.api()?;
        let data = self.check(api.my_data().await)?;
        let day = chrono::Local::now().format("%Y-%m-%d");
        std::fs::create_dir_all(folder)?;
        let mut path = folder.join(format!("relay-my-data-{day}.json"));
        let mut n = 2;
        while path.exists() {
            path = folder.join(format!("relay-my-data-{day}-{n}.json"));
            n += 1;
        }
        let partial = path.with_extension("json.part");
        std::fs::write(&partial, serde_json::to_vec_pretty(&data)?)?;
        std::fs::rename(&partial, &path)?;
        Ok(path)
    }

    /// Erases the person on the server, then forgets the session and the cache here. What the
    /// person wrote on this device (the outbox, drafts) stays on it.
    pub async fn erase_me(&self) -> Result<Erasure, ClientError> {
        let api = self.api()?;
        let erasure = self.check(api.erase_me().await)?;
        self.signed_out(ERASED_REASON)?;
        Ok(erasure)
    }

    /// The organisation's privacy settings, from the server.
    pub async fn privacy(&self) -> Result<PrivacySettings, ClientError> {
        let api = self.api()?;
        self.check(api.privacy().await)
    }
}
