//! The device's session with the server: kept in the keychain (never SQLite), read again
//! patiently while another process of the device replaces it, and refreshed once at a time
//! across the device's processes (refresh tokens rotate; a replayed one signs the device out).

use std::path::Path;

use chrono::{DateTime, Utc};
use relay_protocol::{RefreshRequest, SessionTokens};
use serde::{Deserialize, Serialize};

use super::{decode, ServerApi};
use crate::error::ClientError;

/// The keychain entry holding the device session.
pub const SESSION_SECRET: &str = "server-session";

/// What the keychain holds for the server session.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSession {
    access_token: String,
    access_expires_at: DateTime<Utc>,
    refresh_token: String,
}

impl From<&SessionTokens> for StoredSession {
    fn from(t: &SessionTokens) -> Self {
        StoredSession {
            access_token: t.access_token.clone(),
            access_expires_at: t.access_expires_at,
            refresh_token: t.refresh_token.clone(),
        }
    }
}

impl ServerApi {
    /// Refreshes only while holding the lock file at `path`, shared by every process of the
    /// device.
    pub fn with_refresh_lock(mut self, path: &Path) -> ServerApi {
        self.refresh_lock = Some(path.to_owned());
        self
    }

    /// Waits for the device-wide refresh lock (none: this process's mutex is enough).
    pub(super) async fn lock_device(&self) -> Result<Option<std::fs::File>, ClientError> {
        let Some(path) = self.refresh_lock.clone() else {
            return Ok(None);
        };
        let file = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)?;
            // Released when the file closes, also when the process dies holding it.
            file.lock()?;
            Ok(file)
        })
        .await
        .map_err(|e| ClientError::Io(std::io::Error::other(e)))??;
        Ok(Some(file))
    }

    pub fn has_session(&self) -> Result<bool, ClientError> {
        Ok(self.secrets.get(SESSION_SECRET)?.is_some())
    }

    /// Forgets the session (the outbox and the rest of the device's data stay).
    pub fn forget_session(&self) -> Result<(), ClientError> {
        self.secrets.delete(SESSION_SECRET)
    }

    pub(super) fn store_session(&self, tokens: &SessionTokens) -> Result<(), ClientError> {
        self.secrets.set(
            SESSION_SECRET,
            &serde_json::to_string(&StoredSession::from(tokens))?,
        )
    }

    fn session(&self) -> Result<StoredSession, ClientError> {
        let raw = self
            .secrets
            .get(SESSION_SECRET)?
            .ok_or(ClientError::NotEnrolled)?;
        serde_json::from_str(&raw).map_err(|_| ClientError::NotEnrolled)
    }

    /// The session, read again a few times within a second when it is missing: the keychain
    /// daemon can show no item for a moment after another process replaced it, even once that
    /// process let go of the device's lock (seen on the Secret Service under load in CI).
    async fn session_patiently(&self) -> Result<StoredSession, ClientError> {
        let mut tries = 0;
        loop {
            match self.session() {
                Err(ClientError::NotEnrolled | ClientError::Keychain(_)) if tries < 5 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                read => return read,
            }
        }
    }

    /// An access token good for at least a minute, refreshing it when needed.
    pub(super) async fn access_token(&self, force_refresh: bool) -> Result<String, ClientError> {
        let session = match self.session() {
            Ok(session) => session,
            // Another process of the device may be replacing the session this instant (the
            // keychain holds no item between the old one and the new): read it again once
            // that process lets go of the device's lock.
            Err(ClientError::NotEnrolled | ClientError::Keychain(_))
                if self.refresh_lock.is_some() =>
            {
                let _device = self.lock_device().await?;
                self.session_patiently().await?
            }
            Err(e) => return Err(e),
        };
        if !force_refresh && session.access_expires_at > Utc::now() + chrono::Duration::seconds(60)
        {
            return Ok(session.access_token);
        }
        let _guard = self.refreshing.lock().await;
        let _device = self.lock_device().await?;
        // Another task or process may have refreshed while this one waited.
        let current = self.session_patiently().await?;
        if current.access_token != session.access_token {
            return Ok(current.access_token);
        }
        let response = self
            .http
            .post(self.url("/v1/session/refresh"))
            .json(&RefreshRequest {
                refresh_token: current.refresh_token,
            })
            .send()
            .await?;
        let tokens: SessionTokens = decode(response).await?;
        // Stored before use: if the process dies now, the new pair is what survives.
        self.store_session(&tokens)?;
        Ok(tokens.access_token)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::api::http_client;
    use crate::secrets::{MemoryStore, SecretStore};

    fn stored(access: &str) -> String {
        serde_json::to_string(&StoredSession {
            access_token: access.into(),
            access_expires_at: Utc::now() + chrono::Duration::hours(1),
            refresh_token: format!("{access}-refresh"),
        })
        .unwrap()
    }

    /// What CI once saw: the command line read the keychain in the instant the app had taken
    /// the old session out to put the new one in, and said "not signed in".
    #[tokio::test]
    async fn a_session_being_replaced_by_another_process_is_waited_for_not_signed_out() {
        let folder = tempfile::tempdir().unwrap();
        let lock = folder.path().join("session.lock");
        let secrets = MemoryStore::default();
        let api = ServerApi::new(
            "http://127.0.0.1:9",
            http_client(),
            Arc::new(secrets.clone()),
        )
        .with_refresh_lock(&lock);

        // The other process holds the device's lock, and the keychain holds no session.
        let other = std::fs::File::create(&lock).unwrap();
        other.lock().unwrap();
        let reading = tokio::spawn({
            let api = api.clone();
            async move { api.access_token(false).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!reading.is_finished(), "it read while the lock was held");
        secrets.set(SESSION_SECRET, &stored("new")).unwrap();
        drop(other);
        assert_eq!(reading.await.unwrap().unwrap(), "new");

        // With nobody replacing it, a missing session still means not enrolled.
        secrets.delete(SESSION_SECRET).unwrap();
        assert!(matches!(
            api.access_token(false).await,
            Err(ClientError::NotEnrolled)
        ));
    }
}
