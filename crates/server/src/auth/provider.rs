//! The company provider's documents (discovery and signing keys), fetched with one HTTP client
//! and kept as long as the provider's `Cache-Control` allows (an hour when it says nothing, a
//! day at most). A token signed with a key id the cached set lacks (the provider rotated its
//! keys) refetches the set once, and at most once a minute, so forged key ids cannot make
//! Relay hammer the provider.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::ApiError;

#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

/// Kept when the provider gives no freshness of its own.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);
const LONGEST_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// Unknown key ids refetch the key set at most this often.
const REFETCH_UNKNOWN_KEY_EVERY: Duration = Duration::from_secs(60);

struct Fresh<T> {
    value: T,
    fetched: Instant,
    max_age: Duration,
}

impl<T: Clone> Fresh<T> {
    fn get(&self) -> Option<T> {
        (self.fetched.elapsed() < self.max_age).then(|| self.value.clone())
    }
}

/// One provider's cached documents. Lives as long as the server.
pub struct ProviderCache {
    http: reqwest::Client,
    discovery: Mutex<Option<Fresh<Discovery>>>,
    keys: Mutex<Option<Fresh<JwkSet>>>,
    /// When a key id the cached set lacked last made us fetch the set again.
    refetched_for_unknown: Mutex<Option<Instant>>,
}

impl Default for ProviderCache {
    fn default() -> Self {
        ProviderCache {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(15))
                .build()
                .expect("an HTTP client"),
            discovery: Mutex::new(None),
            keys: Mutex::new(None),
            refetched_for_unknown: Mutex::new(None),
        }
    }
}

pub fn provider_down(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("the identity provider's {what}: {e}"))
}

impl ProviderCache {
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The discovery document of `issuer` (checked to name that issuer).
    pub async fn discovery(&self, issuer: &str) -> Result<Discovery, ApiError> {
        if let Some(d) = lock(&self.discovery).as_ref().and_then(Fresh::get) {
            return Ok(d);
        }
        let url = format!("{issuer}/.well-known/openid-configuration");
        let (discovery, max_age): (Discovery, _) = self.fetch("discovery", &url).await?;
        if discovery.issuer.trim_end_matches('/') != issuer {
            return Err(provider_down("discovery", "it names another issuer"));
        }
        *lock(&self.discovery) = Some(Fresh {
            value: discovery.clone(),
            fetched: Instant::now(),
            max_age,
        });
        Ok(discovery)
    }

    /// The key `kid` names (the first key when the token names none), from the cached set, or
    /// from a fresh one when the cached set lacks it.
    pub async fn key(&self, jwks_uri: &str, kid: Option<&str>) -> Result<Option<Jwk>, ApiError> {
        let cached = lock(&self.keys).as_ref().and_then(Fresh::get);
        if let Some(set) = cached {
            if let Some(key) = pick(&set, kid) {
                return Ok(Some(key));
            }
            // Fresh, but without this key: the provider may have rotated its keys.
            let mut last = lock(&self.refetched_for_unknown);
            if last.is_some_and(|at| at.elapsed() < REFETCH_UNKNOWN_KEY_EVERY) {
                return Ok(None);
            }
            *last = Some(Instant::now());
        }
        let (set, max_age): (JwkSet, _) = self.fetch("keys", jwks_uri).await?;
        let key = pick(&set, kid);
        *lock(&self.keys) = Some(Fresh {
            value: set,
            fetched: Instant::now(),
            max_age,
        });
        Ok(key)
    }

    async fn fetch<T: DeserializeOwned>(
        &self,
        what: &str,
        url: &str,
    ) -> Result<(T, Duration), ApiError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| provider_down(what, e.without_url()))?
            .error_for_status()
            .map_err(|e| provider_down(what, e.without_url()))?;
        let max_age = max_age(
            response
                .headers()
                .get(reqwest::header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
        );
        let value = response.json().await.map_err(|e| provider_down(what, e))?;
        Ok((value, max_age))
    }
}

fn pick(set: &JwkSet, kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => set.find(kid).cloned(),
        None => set.keys.first().cloned(),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long a response may be reused, from its `Cache-Control`.
fn max_age(cache_control: Option<&str>) -> Duration {
    let Some(header) = cache_control else {
        return DEFAULT_MAX_AGE;
    };
    let mut max_age = None;
    for directive in header.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Duration::ZERO;
        }
        if let Some(secs) = lower.strip_prefix("max-age=") {
            max_age = secs.trim_matches('"').parse::<u64>().ok();
        }
    }
    max_age
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_MAX_AGE)
        .min(LONGEST_MAX_AGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_follows_cache_control() {
        assert_eq!(max_age(None), DEFAULT_MAX_AGE);
        assert_eq!(
            max_age(Some("public, max-age=300")),
            Duration::from_secs(300)
        );
        assert_eq!(max_age(Some("no-store")), Duration::ZERO);
        assert_eq!(max_age(Some("max-age=60, no-cache")), Duration::ZERO);
        assert_eq!(max_age(Some("max-age=99999999")), LONGEST_MAX_AGE);
        assert_eq!(max_age(Some("private")), DEFAULT_MAX_AGE);
    }

    /// A key set served over HTTP (a stand-in for the provider's `jwks_uri`), whose key ids the
    /// test changes as a provider rotating its keys would, counting fetches.
    async fn key_server(
        kids: std::sync::Arc<Mutex<Vec<&'static str>>>,
        fetched: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let app = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let kids = kids.lock().unwrap().clone();
                fetched.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async move {
                    let keys: Vec<serde_json::Value> = kids
                        .iter()
                        .map(|kid| {
                            serde_json::json!({
                                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                                "kid": kid, "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
                            })
                        })
                        .collect();
                    (
                        [("cache-control", "max-age=3600")],
                        axum::Json(serde_json::json!({ "keys": keys })),
                    )
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    #[tokio::test]
    async fn an_unknown_key_id_refetches_the_keys_once_and_not_again_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let kids = std::sync::Arc::new(Mutex::new(vec!["2026-11"]));
        let fetched = std::sync::Arc::new(AtomicUsize::new(0));
        let url = key_server(kids.clone(), fetched.clone()).await;
        let cache = ProviderCache::default();

        let key = cache.key(&url, Some("2026-11")).await.unwrap().unwrap();
        assert_eq!(key.common.key_id.as_deref(), Some("2026-11"));
        assert!(cache.key(&url, Some("2026-11")).await.unwrap().is_some());
        assert_eq!(
            fetched.load(Ordering::SeqCst),
            1,
            "a cached key is not fetched again"
        );

        // The provider rotates: a token names the new key, which the cache lacks.
        kids.lock().unwrap().push("2026-12");
        let key = cache.key(&url, Some("2026-12")).await.unwrap().unwrap();
        assert_eq!(key.common.key_id.as_deref(), Some("2026-12"));
        assert_eq!(
            fetched.load(Ordering::SeqCst),
            2,
            "one refetch for the unknown key"
        );

        // Forged key ids do not make Relay ask the provider again and again.
        for _ in 0..5 {
            assert!(cache.key(&url, Some("forged")).await.unwrap().is_none());
        }
        assert_eq!(fetched.load(Ordering::SeqCst), 2);
    }
}
