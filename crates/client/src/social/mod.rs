//! Posting to social networks, from the device. Each network is a [`SocialNetwork`]; the
//! engine picks one by the account's [`Provider`]. Tokens come from the keychain through
//! [`Credentials`] and never leave this module's requests.
//!
//! - [`bluesky`]: AT Protocol (handle + app password), posts with facets and link cards;
//! - [`intent`]: share pages in the browser, where no account is connected (Facebook);
//! - [`linkedin`]: posts as the member; the code exchange brokered by the central server;
//! - [`mastodon`]: any instance, registered per device, statuses with idempotency keys;
//! - [`x`]: X API v2 with OAuth 2.0 PKCE, refresh before expiry, duplicate-aware resends;
//! - [`test_network`]: a small documented HTTP contract used to exercise the outbox.

pub mod bluesky;
pub mod facets;
pub mod intent;
pub mod linkedin;
pub mod mastodon;
#[cfg(feature = "test-network")]
pub mod test_network;
pub mod tid;
pub mod x;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::secrets::SecretStore;
use crate::store::{Account, Share};

/// Which implementation posts for an account (stored with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The HTTP test network (test builds only: the `test-network` feature).
    Test,
    Bluesky,
    X,
    Mastodon,
    Linkedin,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Test => "test",
            Provider::Bluesky => "bluesky",
            Provider::X => "x",
            Provider::Mastodon => "mastodon",
            Provider::Linkedin => "linkedin",
        }
    }
}

impl std::str::FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "test" => Ok(Provider::Test),
            "bluesky" => Ok(Provider::Bluesky),
            "x" => Ok(Provider::X),
            "mastodon" => Ok(Provider::Mastodon),
            "linkedin" => Ok(Provider::Linkedin),
            other => Err(format!("unknown provider {other:?}")),
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// The shared item as a link card (Bluesky's external embed; others unfurl the link themselves).
#[derive(Debug, Clone, Default)]
pub struct LinkCard {
    pub url: String,
    pub title: String,
    pub description: String,
    /// BCP 47 language of the post's text.
    pub language: String,
    pub image: Option<CardImage>,
}

#[derive(Debug, Clone)]
pub struct CardImage {
    pub bytes: Vec<u8>,
    pub mime: String,
}

/// An account's token in the keychain. Networks that refresh tokens write the new ones back
/// here before using them (rotating refresh tokens are single-use).
#[derive(Clone)]
pub struct Credentials {
    secrets: Arc<dyn SecretStore>,
    key: String,
}

impl Credentials {
    pub fn new(secrets: Arc<dyn SecretStore>, account_id: &str) -> Credentials {
        Credentials {
            secrets,
            key: account_secret(account_id),
        }
    }

    pub fn get(&self) -> Result<Option<String>, PostError> {
        self.secrets
            .get(&self.key)
            .map_err(|e| PostError::Transient(e.to_string()))
    }

    /// The account's saved sign-in, as the network keeps it (JSON). Missing or unreadable:
    /// the account needs reconnecting.
    pub fn load<T: serde::de::DeserializeOwned>(&self) -> Result<T, PostError> {
        let raw = self
            .get()?
            .ok_or_else(|| PostError::AuthExpired("not signed in".into()))?;
        serde_json::from_str(&raw)
            .map_err(|_| PostError::AuthExpired("the saved sign-in is unreadable".into()))
    }

    pub fn set(&self, value: &str) -> Result<(), PostError> {
        self.secrets
            .set(&self.key, value)
            .map_err(|e| PostError::Transient(e.to_string()))
    }

    pub fn delete(&self) -> Result<(), crate::error::ClientError> {
        self.secrets.delete(&self.key)
    }
}

/// A post's text for networks that take the link in the text (Mastodon, X): the share's words,
/// with the item's link when they do not carry it already.
pub fn with_link(text: &str, link: &str) -> String {
    if text.contains(link) {
        text.to_owned()
    } else {
        format!("{} {link}", text.trim_end())
    }
}

/// A post's words without its links, to recognise a post again: networks rewrite links (X's
/// t.co) or render them (Mastodon's HTML).
pub fn without_links(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| !w.starts_with("http://") && !w.starts_with("https://"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The keychain entry of a social account's token.
pub fn account_secret(account_id: &str) -> String {
    format!("account:{account_id}")
}

/// One share on its way out, with what a network may need to post it.
pub struct Outgoing<'a> {
    pub account: &'a Account,
    pub share: &'a Share,
    pub credentials: &'a Credentials,
    /// The item as a card (absent when reconciling).
    pub card: Option<&'a LinkCard>,
}

/// One social network, as the outbox uses it. `share.id` is the idempotency key: posting the
/// same share twice must not make two posts where the network allows it.
pub trait SocialNetwork: Send + Sync {
    fn post<'a>(&'a self, out: &'a Outgoing<'a>) -> BoxFuture<'a, Result<Posted, PostError>>;

    /// After an interruption mid-send: the post, if it went out.
    fn find<'a>(
        &'a self,
        out: &'a Outgoing<'a>,
    ) -> BoxFuture<'a, Result<Option<Posted>, PostError>>;

    /// Whether a post this account made still exists: `Some(false)` when the network says it
    /// is gone, `None` where the network does not let the device read posts (LinkedIn).
    fn exists<'a>(
        &'a self,
        _out: &'a Outgoing<'a>,
        _post_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<bool>, PostError>> {
        Box::pin(async { Ok(None) })
    }

    /// How many followers the account has, where the network says (the share's estimated
    /// reach); `None` where it does not (LinkedIn) or could not be asked. Best effort: a post
    /// never waits on it for long.
    fn followers<'a>(&'a self, _out: &'a Outgoing<'a>) -> BoxFuture<'a, Option<u64>> {
        Box::pin(async { None })
    }

    /// Revokes the account's tokens at the network where it allows that (best effort: the
    /// keychain entry is deleted either way).
    fn revoke<'a>(
        &'a self,
        _account: &'a Account,
        _credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<(), PostError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Implementations by provider.
#[derive(Clone, Default)]
pub struct Networks {
    by_provider: HashMap<Provider, Arc<dyn SocialNetwork>>,
}

impl Networks {
    /// The implementations this build has (X where this installation has a client id).
    pub fn standard(
        http: reqwest::Client,
        x: Option<&x::XConfig>,
        linkedin: &linkedin::LinkedInApi,
    ) -> Networks {
        let mut networks = Networks::default();
        #[cfg(feature = "test-network")]
        networks.register(
            Provider::Test,
            Arc::new(test_network::HttpTestNetwork::new(http.clone())),
        );
        if let Some(config) = x {
            networks.register(
                Provider::X,
                Arc::new(x::X::new(http.clone(), config.clone())),
            );
        }
        networks.register(
            Provider::Linkedin,
            Arc::new(linkedin::LinkedIn::new(http.clone(), linkedin.clone())),
        );
        networks.register(
            Provider::Mastodon,
            Arc::new(mastodon::Mastodon::new(http.clone())),
        );
        networks.register(Provider::Bluesky, Arc::new(bluesky::Bluesky::new(http)));
        networks
    }

    pub fn register(&mut self, provider: Provider, network: Arc<dyn SocialNetwork>) {
        self.by_provider.insert(provider, network);
    }

    pub fn get(&self, provider: Provider) -> Option<Arc<dyn SocialNetwork>> {
        self.by_provider.get(&provider).cloned()
    }
}

/// Sorts a network's error answer by what the outbox should do about it. `retry_after` is how
/// long it asked to wait (networks say it in different headers).
pub(crate) async fn classify(
    response: reqwest::Response,
    retry_after: Option<Duration>,
) -> Result<reqwest::Response, PostError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = retry_after.or_else(|| {
        response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs)
    });
    let message = response.text().await.unwrap_or_default();
    let message: String = message.chars().take(300).collect();
    Err(match status.as_u16() {
        401 | 403 => PostError::AuthExpired(message),
        429 => PostError::RateLimited {
            retry_after: retry_after.unwrap_or(Duration::from_secs(60)),
        },
        400..=499 => PostError::Rejected(message),
        _ => PostError::Transient(format!("{status}: {message}")),
    })
}

/// A read of a post: found, gone (404, or a "not found" refusal), or a failure to report.
pub(crate) async fn existence(response: reqwest::Response) -> Result<Option<bool>, PostError> {
    if response.status() == reqwest::StatusCode::NOT_FOUND
        || response.status() == reqwest::StatusCode::GONE
    {
        return Ok(Some(false));
    }
    classify(response, None).await.map(|_| Some(true))
}

/// A transport error, without its URL (which may carry query parameters).
pub(crate) fn transient(e: reqwest::Error) -> PostError {
    PostError::Transient(e.without_url().to_string())
}

#[cfg(test)]
mod tests {
    use super::with_link;

    #[test]
    fn the_link_is_added_once() {
        let link = "https://news.contoso.example/a";
        assert_eq!(with_link("Read this  ", link), format!("Read this {link}"));
        assert_eq!(
            with_link(&format!("{link} now"), link),
            format!("{link} now")
        );
    }
}
