//! Mastodon. Every instance is its own server: the device registers Relay there
//! (`POST /api/v1/apps`, with this sign-in's exact loopback redirect), signs in with the
//! authorization code and PKCE in the browser, and keeps the app's credentials and the token in
//! the keychain. Posts are `POST /api/v1/statuses` with an `Idempotency-Key` derived from the
//! share id: Mastodon answers a repeated key with the status it already made. The instance's own
//! character limit comes from `/api/v2/instance`.

use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    transient, with_link, without_links, Credentials, Outgoing, PostError, Posted, SocialNetwork,
};
use crate::oauth::{self, Authorization, Endpoints, Loopback, Tokens};
use crate::store::Account;

pub const SCOPES: &[&str] = &["read:accounts", "write:statuses"];
const TIMEOUT: Duration = Duration::from_secs(30);
/// Mastodon's own default, for instances that do not say.
pub const DEFAULT_LIMIT: usize = 500;
/// How long Mastodon keeps an `Idempotency-Key` (an hour), with a margin.
const KEY_KEPT: chrono::Duration = chrono::Duration::minutes(50);

/// What the keychain keeps for a Mastodon account.
#[derive(Clone, Serialize, Deserialize)]
pub struct MastodonSecret {
    pub instance: String,
    pub client_id: String,
    pub client_secret: String,
    pub tokens: Tokens,
}

impl MastodonSecret {
    fn endpoints(&self) -> Endpoints {
        endpoints(&self.instance, &self.client_id, Some(&self.client_secret))
    }
}

fn endpoints(instance: &str, client_id: &str, client_secret: Option<&str>) -> Endpoints {
    Endpoints {
        authorize_url: format!("{instance}/oauth/authorize"),
        token_url: format!("{instance}/oauth/token"),
        revoke_url: Some(format!("{instance}/oauth/revoke")),
        client_id: client_id.to_owned(),
        client_secret: client_secret.map(str::to_owned),
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        extra: vec![],
    }
}

/// The instance's address from what the person typed (`mastodon.social`, a URL, or their full
/// handle `@ann@mastodon.social`).
pub fn instance_url(input: &str) -> Result<String, String> {
    let input = input.trim();
    let host = match input.rsplit_once('@') {
        Some((_, host)) if !input.contains("://") => host.to_owned(),
        _ => input.to_owned(),
    };
    let with_scheme = if host.contains("://") {
        host
    } else {
        format!("https://{host}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| format!("{input:?} is not a server"))?;
    if url.host_str().is_none() || !matches!(url.scheme(), "https" | "http") {
        return Err(format!("{input:?} is not a server"));
    }
    Ok(url.origin().ascii_serialization())
}

/// Registers Relay on the instance for this sign-in's redirect, and starts the authorization.
pub async fn start(
    http: &reqwest::Client,
    instance: &str,
) -> Result<(Authorization, MastodonSecret), PostError> {
    let loopback = Loopback::bind()
        .await
        .map_err(|e| PostError::Transient(e.to_string()))?;
    let response = http
        .post(format!("{instance}/api/v1/apps"))
        .form(&[
            ("client_name", "Relay"),
            ("redirect_uris", loopback.redirect_uri.as_str()),
            ("scopes", &SCOPES.join(" ")),
            ("website", "https://relay.example"),
        ])
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(transient)?;
    let app: Value = super::classify(response, None)
        .await?
        .json()
        .await
        .map_err(transient)?;
    let (Some(id), Some(secret)) = (app["client_id"].as_str(), app["client_secret"].as_str())
    else {
        return Err(PostError::Rejected(
            "the server did not register Relay (is it a Mastodon server?)".into(),
        ));
    };
    let authorization = Authorization::start_on(loopback, &endpoints(instance, id, Some(secret)))
        .map_err(|e| PostError::Rejected(e.to_string()))?;
    Ok((
        authorization,
        MastodonSecret {
            instance: instance.to_owned(),
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
            tokens: Tokens {
                access_token: String::new(),
                refresh_token: None,
                expires_at: None,
            },
        },
    ))
}

/// The signed-in account (`verify_credentials`).
async fn me(http: &reqwest::Client, secret: &MastodonSecret) -> Result<Value, PostError> {
    let response = http
        .get(format!(
            "{}/api/v1/accounts/verify_credentials",
            secret.instance
        ))
        .bearer_auth(&secret.tokens.access_token)
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(transient)?;
    super::classify(response, None)
        .await?
        .json()
        .await
        .map_err(transient)
}

/// The signed-in account's `@user@instance`.
pub async fn handle(http: &reqwest::Client, secret: &MastodonSecret) -> Result<String, PostError> {
    let me = me(http, secret).await?;
    let host = url::Url::parse(&secret.instance)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    Ok(format!(
        "@{}@{host}",
        me["username"].as_str().unwrap_or("?")
    ))
}

pub struct Mastodon {
    http: reqwest::Client,
}

impl Mastodon {
    pub fn new(http: reqwest::Client) -> Mastodon {
        Mastodon { http }
    }

    fn secret(credentials: &Credentials) -> Result<MastodonSecret, PostError> {
        credentials.load()
    }

    /// The account's limit: its server's, as read when it was connected (asked again only for
    /// accounts connected before Relay kept it), or Mastodon's default when it does not say.
    async fn limit(&self, account: &Account, instance: &str) -> usize {
        let limit = match account.char_limit {
            Some(known) => Some(known),
            None => instance_limit(&self.http, instance).await,
        };
        limit.map_or(DEFAULT_LIMIT, |n| n as usize)
    }
}

/// The instance's own character limit (`configuration.statuses.max_characters` of
/// `/api/v2/instance`), when it answers.
pub async fn instance_limit(http: &reqwest::Client, instance: &str) -> Option<u32> {
    let answer: Value = http
        .get(format!("{instance}/api/v2/instance"))
        .timeout(TIMEOUT)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    answer["configuration"]["statuses"]["max_characters"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
}

impl Mastodon {
    /// The account's status made for `share`, among its latest public ones.
    async fn recent_match(
        &self,
        secret: &MastodonSecret,
        share: &crate::store::Share,
    ) -> Result<Option<Posted>, PostError> {
        let me = me(&self.http, secret).await?;
        let id = me["id"].as_str().unwrap_or_default();
        // Public statuses need no token (the granted scopes do not include reading them).
        let statuses = self
            .http
            .get(format!("{}/api/v1/accounts/{id}/statuses", secret.instance))
            .query(&[("limit", "40"), ("exclude_reblogs", "true")])
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(transient)?;
        let statuses: Value = super::classify(statuses, None)
            .await?
            .json()
            .await
            .map_err(transient)?;
        // Clocks differ between the device and the server: a few minutes' grace.
        let since = share.created_at - chrono::Duration::minutes(5);
        let wanted = without_links(&with_link(&share.text, &share.item_url));
        Ok(statuses
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| {
                let made = s["created_at"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                made.is_some_and(|m| m >= since)
                    && s["content"]
                        .as_str()
                        .is_some_and(|c| without_links(&status_text(c)) == wanted)
            })
            .map(|s| Posted {
                id: s["id"].as_str().unwrap_or_default().to_owned(),
                url: s["url"].as_str().map(str::to_owned),
            }))
    }
}

/// A status's text out of the HTML Mastodon renders: links and hashtags are split over
/// `<span>`s, which join without a space; paragraphs and line breaks are spaces.
fn status_text(html: &str) -> String {
    let spaced = html.replace("<br", " <br").replace("</p>", "</p> ");
    let mut text = String::with_capacity(spaced.len());
    let mut in_tag = false;
    for c in spaced.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Mastodon counts every link as 23 characters.
fn counted(text: &str) -> usize {
    text.split(' ')
        .map(|w| {
            if w.starts_with("http://") || w.starts_with("https://") {
                23
            } else {
                w.chars().count()
            }
        })
        .sum::<usize>()
        + text.matches(' ').count()
}

impl SocialNetwork for Mastodon {
    fn post<'a>(&'a self, out: &'a Outgoing<'a>) -> BoxFuture<'a, Result<Posted, PostError>> {
        Box::pin(async move {
            let secret = Self::secret(out.credentials)?;
            let text = with_link(&out.share.text, &out.share.item_url);
            let limit = self.limit(out.account, &secret.instance).await;
            if counted(&text) > limit {
                return Err(PostError::Rejected(format!(
                    "the text is {} characters long; this server takes {limit}",
                    counted(&text)
                )));
            }
            let mut body = json!({ "status": text, "visibility": "public" });
            if let Some(language) = out
                .card
                .map(|c| c.language.as_str())
                .filter(|l| !l.is_empty())
            {
                body["language"] = json!(language);
            }
            let response = self
                .http
                .post(format!("{}/api/v1/statuses", secret.instance))
                .bearer_auth(&secret.tokens.access_token)
                // A repeated key gets the status already made, not a second one.
                .header("Idempotency-Key", &out.share.id)
                .json(&body)
                .timeout(TIMEOUT)
                .send()
                .await
                .map_err(transient)?;
            let reset = response
                .headers()
                .get("x-ratelimit-reset")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
                .map(|at| {
                    Duration::from_secs(
                        (at.timestamp() - chrono::Utc::now().timestamp()).clamp(1, 24 * 3600)
                            as u64,
                    )
                });
            let status: Value = super::classify(response, reset)
                .await?
                .json()
                .await
                .map_err(transient)?;
            Ok(Posted {
                id: status["id"].as_str().unwrap_or_default().to_owned(),
                url: status["url"].as_str().map(str::to_owned),
            })
        })
    }

    /// A share interrupted mid-send is looked for among the account's latest public statuses
    /// (made since the share, with its words). Not found: sent again with the same
    /// `Idempotency-Key`, which Mastodon honours for about an hour. Where the server keeps its
    /// statuses from anonymous readers and that hour may have passed, the person decides.
    fn exists<'a>(
        &'a self,
        out: &'a Outgoing<'a>,
        post_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<bool>, PostError>> {
        Box::pin(async move {
            if post_id.is_empty() || !post_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Ok(None);
            }
            let secret = Self::secret(out.credentials)?;
            // A public status: read without the token (its scopes need not include reading).
            let response = self
                .http
                .get(format!("{}/api/v1/statuses/{post_id}", secret.instance))
                .timeout(TIMEOUT)
                .send()
                .await
                .map_err(transient)?;
            super::existence(response).await
        })
    }

    /// `followers_count` of the signed-in account (`verify_credentials`).
    fn followers<'a>(&'a self, out: &'a Outgoing<'a>) -> BoxFuture<'a, Option<u64>> {
        Box::pin(async move {
            let secret = Self::secret(out.credentials).ok()?;
            me(&self.http, &secret).await.ok()?["followers_count"].as_u64()
        })
    }

    fn find<'a>(
        &'a self,
        out: &'a Outgoing<'a>,
    ) -> BoxFuture<'a, Result<Option<Posted>, PostError>> {
        Box::pin(async move {
            let secret = Self::secret(out.credentials)?;
            match self.recent_match(&secret, out.share).await {
                Ok(found) => Ok(found),
                Err(e) if Utc::now() - out.share.created_at < KEY_KEPT => {
                    tracing::info!(error = %e, "cannot read the account's statuses; the key protects the resend");
                    Ok(None)
                }
                Err(_) => Err(PostError::Rejected(
                    "Relay could not check whether this share reached Mastodon: look at your profile, and Retry if it is not there".into(),
                )),
            }
        })
    }

    fn revoke<'a>(
        &'a self,
        _account: &'a Account,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<(), PostError>> {
        Box::pin(async move {
            let secret = Self::secret(credentials)?;
            oauth::revoke(
                &secret.endpoints(),
                &secret.tokens.access_token,
                "access_token",
            )
            .await
            .map_err(|e| PostError::Transient(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_from_what_people_type() {
        for typed in [
            "mastodon.social",
            "https://mastodon.social/",
            "@ann@mastodon.social",
            " ann@mastodon.social ",
        ] {
            assert_eq!(
                instance_url(typed).unwrap(),
                "https://mastodon.social",
                "{typed}"
            );
        }
        assert!(instance_url("not a server").is_err());
    }

    #[test]
    fn statuses_read_back_as_their_words() {
        // As Mastodon renders "Bonne lecture https://news.contoso.example/fr/energie #Relay".
        let html = r#"<p>Bonne lecture <a href="https://news.contoso.example/fr/energie" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span><span class="ellipsis">news.contoso.example/fr/ener</span><span class="invisible">gie</span></a> <a href="https://social.test/tags/Relay" class="mention hashtag" rel="tag">#<span>Relay</span></a></p><p>L&#39;équipe &amp; vous</p>"#;
        assert_eq!(
            without_links(&status_text(html)),
            "Bonne lecture #Relay L'équipe & vous"
        );
        assert!(status_text(html).contains("https://news.contoso.example/fr/energie"));
    }

    #[test]
    fn links_count_as_23() {
        let text = with_link(
            "Read",
            "https://news.contoso.example/a/very/long/path/indeed",
        );
        assert_eq!(counted(&text), 4 + 1 + 23);
    }
}
