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

/// Runs a keychain call, trying again when the keychain itself failed (not when it answered):
/// a Secret Service daemon that has just started, as at login with start-at-login on, can fail
/// a call or two ("result not returned from SS API") and then work.
fn patiently<T>(mut call: impl FnMut() -> keyring::Result<T>) -> keyring::Result<T> {
    let mut wait = std::time::Duration::from_millis(100);
    for _ in 0..5 {
        match call() {
            Err(keyring::Error::PlatformFailure(e) | keyring::Error::NoStorageAccess(e)) => {
                tracing::info!(error = %e, "the keychain failed; trying again");
                std::thread::sleep(wait);
                wait *= 2;
            }
            done => return done,
        }
    }
    call()
}

impl SecretStore for KeyringStore {
    fn get(&self, key: &str) -> Result<Option<String>, ClientError> {
        let entry = self.entry(key)?;
        match patiently(|| entry.get_password()) {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(ClientError::Keychain(e.to_string())),
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<(), ClientError> {
        let entry = self.entry(key)?;
        patiently(|| entry.set_password(value)).map_err(|e| ClientError::Keychain(e.to_string()))
    }

    fn delete(&self, key: &str) -> Result<(), ClientError> {
        let entry = self.entry(key)?;
        match patiently(|| entry.delete_credential()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn flaky(fails: usize) -> impl FnMut() -> keyring::Result<&'static str> {
        let mut calls = 0;
        move || {
            calls += 1;
            if calls <= fails {
                Err(keyring::Error::NoStorageAccess(
                    "SS error: result not returned from SS API".into(),
                ))
            } else {
                Ok("secret")
            }
        }
    }

    #[test]
    fn a_keychain_that_fails_a_few_times_is_asked_again() {
        assert_eq!(patiently(flaky(0)).unwrap(), "secret");
        assert_eq!(patiently(flaky(3)).unwrap(), "secret");
        assert!(matches!(
            patiently(flaky(10)),
            Err(keyring::Error::NoStorageAccess(_))
        ));
        // An answer is not retried.
        let mut calls = 0;
        let missing = patiently(|| -> keyring::Result<()> {
            calls += 1;
            Err(keyring::Error::NoEntry)
        });
        assert!(matches!(missing, Err(keyring::Error::NoEntry)));
        assert_eq!(calls, 1);
    }
}
