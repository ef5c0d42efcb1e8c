//! Posting to social networks, from the device. Each network is a [`SocialNetwork`]; the
//! engine picks one by the account's provider. The real networks arrive with the networks
//! issue; [`HttpTestNetwork`] is a small documented HTTP contract used to exercise the outbox.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::store::{Account, Share};

/// A post that went out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Posted {
    pub id: String,
    pub url: Option<String>,
}

/// Why a post did not go out, sorted by what the outbox should do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum PostError {
    /// Network trouble or a server error: retry with backoff.
    Transient(String),
    /// The network asks to wait.
    RateLimited { retry_after: Duration },
    /// The account's token expired or was revoked: the account needs reconnecting; its shares wait.
    AuthExpired(String),
    /// The network refused this post for good (too long, duplicate...): the person decides.
    Rejected(String),
}

impl std::fmt::Display for PostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PostError::Transient(m) => write!(f, "network problem: {m}"),
            PostError::RateLimited { retry_after } => {
                write!(f, "rate limited; retrying in {} s", retry_after.as_secs())
            }
            PostError::AuthExpired(m) => write!(f, "the account needs reconnecting: {m}"),
            PostError::Rejected(m) => write!(f, "refused by the network: {m}"),
        }
    }
}

/// One social network, as the outbox uses it. `share.id` is the idempotency key: posting the
/// same share twice must not make two posts where the network allows it.
pub trait SocialNetwork: Send + Sync {
    fn post<'a>(
        &'a self,
        account: &'a Account,
        token: Option<&'a str>,
        share: &'a Share,
    ) -> BoxFuture<'a, Result<Posted, PostError>>;

    /// After an interruption mid-send: the post, if it went out.
    fn find<'a>(
        &'a self,
        account: &'a Account,
        token: Option<&'a str>,
        share: &'a Share,
    ) -> BoxFuture<'a, Result<Option<Posted>, PostError>>;
}

/// Implementations by provider name.
#[derive(Clone, Default)]
pub struct Networks {
    by_provider: HashMap<String, Arc<dyn SocialNetwork>>,
}

impl Networks {
    /// The implementations this build has.
    pub fn standard(http: reqwest::Client) -> Networks {
        let mut networks = Networks::default();
        networks.register("test", Arc::new(HttpTestNetwork { http }));
        networks
    }

    pub fn register(&mut self, provider: &str, network: Arc<dyn SocialNetwork>) {
        self.by_provider.insert(provider.to_owned(), network);
    }

    pub fn get(&self, provider: &str) -> Option<Arc<dyn SocialNetwork>> {
        self.by_provider.get(provider).cloned()
    }
}

/// A test network over HTTP, at the account's `base_url`:
/// - `POST /posts` with `Authorization: Bearer <token>`, `Idempotency-Key: <share id>` and
///   `{"text", "url"}` answers `{"id", "url"}` (the same post again for a repeated key);
/// - `GET /posts/by-key/<share id>` answers the post or 404;
/// - 401 means the token is bad, 429 with `Retry-After` asks to wait, other 4xx refuse.
pub struct HttpTestNetwork {
    http: reqwest::Client,
}

#[derive(Serialize)]
struct TestPost<'a> {
    text: &'a str,
    url: &'a str,
}

impl HttpTestNetwork {
    fn base(account: &Account) -> Result<&str, PostError> {
        account
            .base_url
            .as_deref()
            .map(|b| b.trim_end_matches('/'))
            .ok_or_else(|| PostError::Rejected("the account has no server".into()))
    }
}

async fn classify(response: reqwest::Response) -> Result<reqwest::Response, PostError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let message = response.text().await.unwrap_or_default();
    let message: String = message.chars().take(300).collect();
    Err(match status.as_u16() {
        401 | 403 => PostError::AuthExpired(message),
        429 => PostError::RateLimited {
            retry_after: Duration::from_secs(retry_after.unwrap_or(60)),
        },
        400..=499 => PostError::Rejected(message),
        _ => PostError::Transient(format!("{status}: {message}")),
    })
}

fn transient(e: reqwest::Error) -> PostError {
    PostError::Transient(e.without_url().to_string())
}

impl SocialNetwork for HttpTestNetwork {
    fn post<'a>(
        &'a self,
        account: &'a Account,
        token: Option<&'a str>,
        share: &'a Share,
    ) -> BoxFuture<'a, Result<Posted, PostError>> {
        Box::pin(async move {
            let base = Self::base(account)?;
            let response = self
                .http
                .post(format!("{base}/posts"))
                .bearer_auth(token.unwrap_or_default())
                .header("Idempotency-Key", &share.id)
                .json(&TestPost {
                    text: &share.text,
                    url: &share.item_url,
                })
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .map_err(transient)?;
            classify(response).await?.json().await.map_err(transient)
        })
    }

    fn find<'a>(
        &'a self,
        account: &'a Account,
        token: Option<&'a str>,
        share: &'a Share,
    ) -> BoxFuture<'a, Result<Option<Posted>, PostError>> {
        Box::pin(async move {
            let base = Self::base(account)?;
            let response = self
                .http
                .get(format!("{base}/posts/by-key/{}", share.id))
                .bearer_auth(token.unwrap_or_default())
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .map_err(transient)?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            Ok(Some(
                classify(response).await?.json().await.map_err(transient)?,
            ))
        })
    }
}
