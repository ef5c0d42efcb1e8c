//! LinkedIn. Sign-in is OpenID Connect in the browser; the code exchange needs Relay's client
//! secret, so the central server brokers it and passes the token through (it keeps nothing).
//! The member id comes from `/v2/userinfo` (`urn:li:person:{sub}`). Posts are `POST /rest/posts`
//! with `LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0`; the post id is the
//! `x-restli-id` header. Tokens last 60 days and are not refreshed for most apps: past that the
//! account asks to be reconnected.

use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{transient, Outgoing, PostError, Posted, SocialNetwork};

/// The API version sent as `LinkedIn-Version` (YYYYMM; LinkedIn supports each for a year).
pub const DEFAULT_VERSION: &str = "202510";
const TIMEOUT: Duration = Duration::from_secs(30);

/// Where LinkedIn's API is (a stub in tests: `RELAY_LINKEDIN_API`).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedInApi {
    pub base: String,
    pub version: String,
}

impl LinkedInApi {
    pub fn from_env() -> LinkedInApi {
        LinkedInApi {
            base: std::env::var("RELAY_LINKEDIN_API")
                .unwrap_or_else(|_| "https://api.linkedin.com".into()),
            version: std::env::var("RELAY_LINKEDIN_VERSION")
                .unwrap_or_else(|_| DEFAULT_VERSION.into()),
        }
    }
}

/// What the keychain keeps for a LinkedIn account.
#[derive(Clone, Serialize, Deserialize)]
pub struct LinkedInSecret {
    /// `urn:li:person:{sub}`.
    pub author: String,
    pub access_token: String,
    pub expires_at: Option<chrono::DateTime<Utc>>,
}

/// The member behind a token: (`urn:li:person:{sub}`, name).
pub async fn member(
    http: &reqwest::Client,
    api: &LinkedInApi,
    access_token: &str,
) -> Result<(String, String), PostError> {
    let response = http
        .get(format!("{}/v2/userinfo", api.base))
        .bearer_auth(access_token)
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(transient)?;
    let me: Value = super::classify(response, None)
        .await?
        .json()
        .await
        .map_err(transient)?;
    let sub = me["sub"]
        .as_str()
        .ok_or_else(|| PostError::Rejected("LinkedIn did not say who this is".into()))?;
    let name = me["name"].as_str().unwrap_or(sub).to_owned();
    Ok((format!("urn:li:person:{sub}"), name))
}

pub struct LinkedIn {
    http: reqwest::Client,
    api: LinkedInApi,
}

impl LinkedIn {
    pub fn new(http: reqwest::Client, api: LinkedInApi) -> LinkedIn {
        LinkedIn { http, api }
    }
}

impl SocialNetwork for LinkedIn {
    fn post<'a>(&'a self, out: &'a Outgoing<'a>) -> BoxFuture<'a, Result<Posted, PostError>> {
        Box::pin(async move {
            let secret: LinkedInSecret = out.credentials.load()?;
            if secret.expires_at.is_some_and(|at| at <= Utc::now()) {
                return Err(PostError::AuthExpired(
                    "LinkedIn sign-ins last 60 days".into(),
                ));
            }
            let mut article = json!({ "source": out.share.item_url });
            if let Some(card) = out.card {
                article["title"] = json!(card.title);
                article["description"] = json!(card.description);
            }
            let body = json!({
                "author": secret.author,
                "commentary": escape_little_text(&out.share.text),
                "visibility": "PUBLIC",
                "distribution": {
                    "feedDistribution": "MAIN_FEED",
                    "targetEntities": [],
                    "thirdPartyDistributionChannels": []
                },
                "content": { "article": article },
                "lifecycleState": "PUBLISHED",
                "isReshareDisabledByAuthor": false
            });
            let response = self
                .http
                .post(format!("{}/rest/posts", self.api.base))
                .bearer_auth(&secret.access_token)
                .header("LinkedIn-Version", &self.api.version)
                .header("X-Restli-Protocol-Version", "2.0.0")
                .json(&body)
                .timeout(TIMEOUT)
                .send()
                .await
                .map_err(transient)?;
            let response = super::classify(response, None).await?;
            let id = response
                .headers()
                .get("x-restli-id")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| PostError::Transient("LinkedIn answered without a post id".into()))?
                .to_owned();
            Ok(Posted {
                url: Some(format!("https://www.linkedin.com/feed/update/{id}/")),
                id,
            })
        })
    }

    /// LinkedIn has no idempotency key, and member apps may not read posts back: after an
    /// interruption mid-send nobody can tell whether the post went out. Rather than risk a
    /// second post, the share stops and the person looks (Retry is one click).
    fn find<'a>(
        &'a self,
        _out: &'a Outgoing<'a>,
    ) -> BoxFuture<'a, Result<Option<Posted>, PostError>> {
        Box::pin(async {
            Err(PostError::Rejected(
                "interrupted while posting to LinkedIn: check your LinkedIn feed, and Retry if the post is not there".into(),
            ))
        })
    }
}

/// The commentary in LinkedIn's "little text" format: its reserved characters are escaped so
/// they show as typed (unescaped, LinkedIn cuts the post at the first one), except where they
/// mean what the person meant: `#word` stays a hashtag (little's HashtagElement) and links stay
/// intact so that LinkedIn links them.
pub fn escape_little_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let at_word_start = out.is_empty() || out.ends_with(char::is_whitespace);
        if at_word_start && (rest.starts_with("https://") || rest.starts_with("http://")) {
            let mut end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            // Punctuation after a link, or a bracket closing around it, is text, not link.
            while let Some(last) = rest[..end].chars().last() {
                let url = &rest[..end];
                let unbalanced = match last {
                    ')' => url.matches('(').count() < url.matches(')').count(),
                    ']' => url.matches('[').count() < url.matches(']').count(),
                    '.' | ',' | ';' | ':' | '!' | '?' | '>' | '"' | '\'' => true,
                    _ => false,
                };
                if !unbalanced {
                    break;
                }
                end -= last.len_utf8();
            }
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        if c == '#' && at_word_start {
            let tag_len: usize = rest[1..]
                .chars()
                .take_while(|t| t.is_alphanumeric())
                .map(char::len_utf8)
                .sum();
            if tag_len > 0 {
                out.push_str(&rest[..1 + tag_len]);
                rest = &rest[1 + tag_len..];
                continue;
            }
        }
        if matches!(
            c,
            '\\' | '|'
                | '{'
                | '}'
                | '@'
                | '['
                | ']'
                | '('
                | ')'
                | '<'
                | '>'
                | '#'
                | '*'
                | '_'
                | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_little_text;

    #[test]
    fn reserved_characters_are_escaped() {
        assert_eq!(
            escape_little_text("Fier (très) @team *vraiment* a_b {x} [y] <z> ~ | \\ C#"),
            "Fier \\(très\\) \\@team \\*vraiment\\* a\\_b \\{x\\} \\[y\\] \\<z\\> \\~ \\| \\\\ C\\#"
        );
    }

    #[test]
    fn hashtags_stay_hashtags_and_links_stay_links() {
        assert_eq!(
            escape_little_text(
                "#Énergie! #Relay_2026 # seul https://news.contoso.example/a_b?(x)=1 #"
            ),
            "#Énergie! #Relay\\_2026 \\# seul https://news.contoso.example/a_b?(x)=1 \\#"
        );
        assert_eq!(
            escape_little_text("Lire https://x.example/a. (voir https://x.example/a_b)"),
            "Lire https://x.example/a. \\(voir https://x.example/a_b\\)"
        );
    }
}
