//! Secrets (the server session's tokens, social tokens) live in the OS keychain, behind a
//! trait so tests and headless tools can use memory instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::ClientError;

/// A place for secrets, keyed by name within the app's service.
pub trait SecretStore: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<String>, ClientError>;
    fn set(&self, key: &str, value: &str) -> Result<(), ClientError>;
    fn delete(&self, key: &str) -> Result<(), ClientError>;
}

/// The OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows).
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// `service` separates installations (one per data folder), e.g. `relay:/home/ann/.local/...`.
    pub fn new(service: impl Into<String>) -> KeyringStore {
        KeyringStore {
            service: service.into(),
        }
    }

    fn entry(&self, key: &str) -> Result<keyring::Entry, ClientError> {
        keyring::Entry::new(&self.service, key).map_err(|e| ClientError::Keychain(e.to_string()))
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, key: &str) -> Result<Option<String>, ClientError> {
        match self.entry(key)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(ClientError::Keychain(e.to_string())),
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<(), ClientError> {
        self.entry(key)?
            .set_password(value)
            .map_err(|e| ClientError::Keychain(e.to_string()))
    }

    fn delete(&self, key: &str) -> Result<(), ClientError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(ClientError::Keychain(e.to_string())),
        }
    }
}

/// Secrets in memory, for tests (and nothing else: they vanish with the process).
#[derive(Clone, Default)]
pub struct MemoryStore {
    values: Arc<Mutex<HashMap<String, String>>>,
}

impl SecretStore for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<String>, ClientError> {
        Ok(self
            .values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<(), ClientError> {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), ClientError> {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        Ok(())
    }
}
