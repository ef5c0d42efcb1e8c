//! X (Twitter) API v2. OAuth 2.0 authorization code with PKCE as a public client (scopes
//! `tweet.read tweet.write users.read offline.access`); access tokens live two hours and are
//! refreshed before they expire (refresh tokens rotate: the new pair is stored first). Posts are
//! `POST /2/tweets`. X has no idempotency key: a resend is recognised by X's own
//! duplicate-content refusal, then the earlier post is looked up among the account's recent
//! posts.

use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    transient, with_link, without_links, Credentials, Outgoing, PostError, Posted, SocialNetwork,
};
use crate::oauth::{self, Endpoints, Tokens};
use crate::store::Account;

/// Where X is, and Relay's client id there (configurable for tests and self-hosters).
#[derive(Debug, Clone, PartialEq)]
pub struct XConfig {
    /// The API, `https://api.x.com`.
    pub api: String,
    pub oauth: Endpoints,
}

pub const SCOPES: &[&str] = &["tweet.read", "tweet.write", "users.read", "offline.access"];

impl XConfig {
    /// X's documented endpoints for a registered public client.
    pub fn official(client_id: &str) -> XConfig {
        XConfig::at("https://api.x.com", "https://x.com", client_id)
    }

    /// The same API at other addresses (a local stub in tests).
    pub fn at(api: &str, web: &str, client_id: &str) -> XConfig {
        let api = api.trim_end_matches('/');
        XConfig {
            api: api.to_owned(),
            oauth: Endpoints {
                authorize_url: format!("{}/i/oauth2/authorize", web.trim_end_matches('/')),
                token_url: format!("{api}/2/oauth2/token"),
                revoke_url: Some(format!("{api}/2/oauth2/revoke")),
                client_id: client_id.to_owned(),
                client_secret: None,
                scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
                extra: vec![],
            },
        }
    }

    /// From the environment: `RELAY_X_CLIENT_ID` (none: X cannot be connected), and for tests
    /// `RELAY_X_API` and `RELAY_X_WEB`.
    pub fn from_env() -> Option<XConfig> {
        let client_id = std::env::var("RELAY_X_CLIENT_ID").ok()?;
        let api = std::env::var("RELAY_X_API").unwrap_or_else(|_| "https://api.x.com".into());
        let web = std::env::var("RELAY_X_WEB").unwrap_or_else(|_| "https://x.com".into());
        Some(XConfig::at(&api, &web, &client_id))
    }
}

/// What the keychain keeps for an X account.
#[derive(Clone, Serialize, Deserialize)]
pub struct XSecret {
    pub user_id: String,
    pub username: String,
    pub tokens: Tokens,
}

/// The person behind a token (`GET /2/users/me`).
pub async fn me(
    http: &reqwest::Client,
    config: &XConfig,
    tokens: &Tokens,
) -> Result<(String, String), PostError> {
    let response = http
        .get(format!("{}/2/users/me", config.api))
        .bearer_auth(&tokens.access_token)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(transient)?;
    let answer: Value = super::classify(response, None)
        .await?
        .json()
        .await
        .map_err(transient)?;
    let id = answer["data"]["id"].as_str().unwrap_or_default().to_owned();
    let username = answer["data"]["username"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if id.is_empty() {
        return Err(PostError::Rejected("X did not say who this is".into()));
    }
    Ok((id, username))
}

pub struct X {
    http: reqwest::Client,
    config: XConfig,
}

impl X {
    pub fn new(http: reqwest::Client, config: XConfig) -> X {
        X { http, config }
    }

    fn secret(credentials: &Credentials) -> Result<XSecret, PostError> {
        credentials.load()
    }

    /// The account's secret with an access token good for five more minutes, refreshed (and
    /// stored before use) when needed or when `force`d.
    async fn fresh(&self, credentials: &Credentials, force: bool) -> Result<XSecret, PostError> {
        let mut secret = Self::secret(credentials)?;
        if !force && !secret.tokens.expires_within(Duration::from_secs(300)) {
            return Ok(secret);
        }
        let refresh = secret
            .tokens
            .refresh_token
            .clone()
            .ok_or_else(|| PostError::AuthExpired("the sign-in expired".into()))?;
        secret.tokens = match oauth::refresh(&self.config.oauth, &refresh).await {
            Ok(tokens) => tokens,
            Err(oauth::OAuthError::Unreachable(m)) => return Err(PostError::Transient(m)),
            Err(e) => return Err(PostError::AuthExpired(e.to_string())),
        };
        credentials.set(&serde_json::to_string(&secret).expect("serialises"))?;
        Ok(secret)
    }

    /// An authenticated call; a 401 refreshes once and tries again.
    async fn call(
        &self,
        credentials: &Credentials,
        request: impl Fn(&XSecret) -> reqwest::RequestBuilder,
    ) -> Result<(XSecret, reqwest::Response), PostError> {
        let mut secret = self.fresh(credentials, false).await?;
        for attempt in 0..2 {
            let response = request(&secret)
                .bearer_auth(&secret.tokens.access_token)
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .map_err(transient)?;
            if response.status() == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                secret = self.fresh(credentials, true).await?;
                continue;
            }
            return Ok((secret, response));
        }
        unreachable!("the loop returns")
    }

    async fn recent_match(
        &self,
        credentials: &Credentials,
        text: &str,
    ) -> Result<Option<Posted>, PostError> {
        let (secret, response) = self
            .call(credentials, |s| {
                self.http
                    .get(format!("{}/2/users/{}/tweets", self.config.api, s.user_id))
                    .query(&[("max_results", "20")])
            })
            .await?;
        let answer: Value = classified(response)
            .await?
            .json()
            .await
            .map_err(transient)?;
        let wanted = without_links(text);
        Ok(answer["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| {
                t["text"]
                    .as_str()
                    .is_some_and(|t| without_links(t) == wanted)
            })
            .and_then(|t| t["id"].as_str())
            .map(|id| posted(&secret, id)))
    }
}

fn posted(secret: &XSecret, id: &str) -> Posted {
    Posted {
        id: id.to_owned(),
        url: Some(format!("https://x.com/{}/status/{id}", secret.username)),
    }
}

/// X's error answers, sorted: 429 waits for `x-rate-limit-reset`; a duplicate is told apart.
async fn classified(response: reqwest::Response) -> Result<reqwest::Response, PostError> {
    let reset = response
        .headers()
        .get("x-rate-limit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .map(|at| Duration::from_secs((at - Utc::now().timestamp()).clamp(1, 24 * 3600) as u64));
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let detail = body["detail"]
        .as_str()
        .or(body["title"].as_str())
        .unwrap_or("")
        .to_owned();
    Err(match status.as_u16() {
        401 => PostError::AuthExpired(detail),
        429 => PostError::RateLimited {
            retry_after: reset.unwrap_or(Duration::from_secs(900)),
        },
        400..=499 => PostError::Rejected(detail),
        _ => PostError::Transient(format!("{status} {detail}")),
    })
}

impl SocialNetwork for X {
    fn post<'a>(&'a self, out: &'a Outgoing<'a>) -> BoxFuture<'a, Result<Posted, PostError>> {
        Box::pin(async move {
            let text = with_link(&out.share.text, &out.share.item_url);
            let (secret, response) = self
                .call(out.credentials, |_| {
                    self.http
                        .post(format!("{}/2/tweets", self.config.api))
                        .json(&json!({ "text": text }))
                })
                .await?;
            match classified(response).await {
                Ok(response) => {
                    let answer: Value = response.json().await.map_err(transient)?;
                    let id = answer["data"]["id"]
                        .as_str()
                        .ok_or_else(|| PostError::Transient("X answered without an id".into()))?;
                    Ok(posted(&secret, id))
                }
                // The same text went out recently: an earlier attempt of this share, if it is
                // among the account's recent posts.
                Err(PostError::Rejected(detail)) if detail.contains("duplicate") => {
                    match self.recent_match(out.credentials, &text).await? {
                        Some(earlier) => Ok(earlier),
                        None => Err(PostError::Rejected(
                            "X refuses the same text twice in a short time; change the wording"
                                .into(),
                        )),
                    }
                }
                Err(e) => Err(e),
            }
        })
    }

    fn find<'a>(
        &'a self,
        out: &'a Outgoing<'a>,
    ) -> BoxFuture<'a, Result<Option<Posted>, PostError>> {
        Box::pin(async move {
            let text = with_link(&out.share.text, &out.share.item_url);
            self.recent_match(out.credentials, &text).await
        })
    }

    /// `public_metrics.followers_count` of the signed-in user (`GET /2/users/me`).
    fn followers<'a>(&'a self, out: &'a Outgoing<'a>) -> BoxFuture<'a, Option<u64>> {
        Box::pin(async move {
            let (_, response) = self
                .call(out.credentials, |_| {
                    self.http
                        .get(format!("{}/2/users/me", self.config.api))
                        .query(&[("user.fields", "public_metrics")])
                })
                .await
                .ok()?;
            let answer: Value = classified(response).await.ok()?.json().await.ok()?;
            answer["data"]["public_metrics"]["followers_count"].as_u64()
        })
    }

    fn exists<'a>(
        &'a self,
        out: &'a Outgoing<'a>,
        post_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<bool>, PostError>> {
        Box::pin(async move {
            if post_id.is_empty() || !post_id.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(None);
            }
            let (_, response) = self
                .call(out.credentials, |_| {
                    self.http
                        .get(format!("{}/2/tweets/{post_id}", self.config.api))
                })
                .await?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Ok(Some(false));
            }
            // A deleted post is answered 200 with an error and no data.
            let answer: Value = classified(response)
                .await?
                .json()
                .await
                .map_err(transient)?;
            Ok(Some(answer["data"]["id"].as_str() == Some(post_id)))
        })
    }

    fn revoke<'a>(
        &'a self,
        _account: &'a Account,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<(), PostError>> {
        Box::pin(async move {
            let secret = Self::secret(credentials)?;
            let (token, hint) = match &secret.tokens.refresh_token {
                Some(r) => (r.as_str(), "refresh_token"),
                None => (secret.tokens.access_token.as_str(), "access_token"),
            };
            oauth::revoke(&self.config.oauth, token, hint)
                .await
                .map_err(|e| PostError::Transient(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewritten_links_still_match() {
        assert_eq!(
            without_links("Read this https://t.co/abc123"),
            without_links("Read this https://news.contoso.example/a")
        );
    }
}
