//! Bluesky (AT Protocol). The person signs in with their handle and an app password at their
//! hosting service; the session's own `didDoc` names their PDS, which every later call goes to.
//! The keychain keeps the session's JWTs (never the password). Posts are
//! `com.atproto.repo.createRecord` calls with record keys derived from the share id
//! ([`super::tid`]): a resend collides with the first post instead of duplicating it.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use unicode_segmentation::UnicodeSegmentation;

use super::SocialNetwork;
use super::{facets, tid, transient, Credentials, LinkCard, Outgoing, PostError, Posted};
use crate::store::Account;

/// Where people without their own PDS sign in (the entryway forwards to their PDS).
pub const DEFAULT_SERVICE: &str = "https://bsky.social";
/// The lexicon's limits for a post's text.
pub const MAX_GRAPHEMES: usize = 300;
const MAX_BYTES: usize = 3000;
/// The lexicon's limit for a link card's thumbnail.
const MAX_THUMB_BYTES: usize = 1_000_000;
const POST: &str = "app.bsky.feed.post";
const TIMEOUT: Duration = Duration::from_secs(30);

/// A signed-in session, as kept in the keychain.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub did: String,
    pub handle: String,
    /// The account's own PDS.
    pub pds: String,
    access_jwt: String,
    refresh_jwt: String,
}

impl std::fmt::Debug for Session {
    // The JWTs stay out of every debug print and log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("pds", &self.pds)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionAnswer {
    did: String,
    handle: String,
    access_jwt: String,
    refresh_jwt: String,
    did_doc: Option<Value>,
}

/// An XRPC error body.
#[derive(Deserialize, Default)]
struct XrpcError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

/// Why signing in failed, in words for the person.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignInError {
    #[error("Bluesky did not accept this handle and app password")]
    Refused,
    #[error("this account asks for a code sent by e-mail: create an app password in Bluesky's settings (Privacy and security > App passwords) and use that instead")]
    NeedsAppPassword,
    #[error("this Bluesky account is {0}")]
    Inactive(String),
    #[error("could not reach {service}: {reason}")]
    Unreachable { service: String, reason: String },
}

/// Signs in at `service` (the hosting service, `bsky.social` for most people) and finds the
/// account's PDS in the answer.
pub async fn sign_in(
    http: &reqwest::Client,
    service: &str,
    identifier: &str,
    password: &str,
) -> Result<Session, SignInError> {
    let service = service.trim().trim_end_matches('/');
    let unreachable = |reason: String| SignInError::Unreachable {
        service: service.to_owned(),
        reason,
    };
    let identifier = identifier.trim().trim_start_matches('@');
    let response = http
        .post(format!("{service}/xrpc/com.atproto.server.createSession"))
        .json(&json!({ "identifier": identifier, "password": password }))
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| unreachable(e.without_url().to_string()))?;
    let status = response.status();
    if !status.is_success() {
        let error: XrpcError = response.json().await.unwrap_or_default();
        return Err(match (status.as_u16(), error.error.as_str()) {
            (_, "AuthFactorTokenRequired") => SignInError::NeedsAppPassword,
            (_, "AccountTakedown") => SignInError::Inactive("suspended".into()),
            (400 | 401, _) => SignInError::Refused,
            _ => unreachable(format!("{status} {}", error.message)),
        });
    }
    let answer: SessionAnswer = response
        .json()
        .await
        .map_err(|e| unreachable(e.without_url().to_string()))?;
    Ok(session_from(answer, service))
}

fn session_from(answer: SessionAnswer, fallback_pds: &str) -> Session {
    let pds = answer
        .did_doc
        .as_ref()
        .and_then(pds_of)
        .unwrap_or_else(|| fallback_pds.to_owned());
    Session {
        did: answer.did,
        handle: answer.handle,
        pds: pds.trim_end_matches('/').to_owned(),
        access_jwt: answer.access_jwt,
        refresh_jwt: answer.refresh_jwt,
    }
}

/// The `#atproto_pds` service endpoint of a DID document.
fn pds_of(did_doc: &Value) -> Option<String> {
    did_doc["service"].as_array()?.iter().find_map(|s| {
        let id = s["id"].as_str()?;
        (id == "#atproto_pds" || id.ends_with("#atproto_pds"))
            .then(|| s["serviceEndpoint"].as_str().map(str::to_owned))
            .flatten()
    })
}

/// The Bluesky network.
pub struct Bluesky {
    http: reqwest::Client,
}

impl Bluesky {
    pub fn new(http: reqwest::Client) -> Bluesky {
        Bluesky { http }
    }

    fn session(credentials: &Credentials) -> Result<Session, PostError> {
        credentials.load()
    }

    /// A session whose access token is good for at least another minute, refreshed (and saved
    /// before use: refresh tokens are single-use) when it is not.
    async fn fresh(&self, credentials: &Credentials, force: bool) -> Result<Session, PostError> {
        let session = Self::session(credentials)?;
        if !force && !expires_soon(&session.access_jwt) {
            return Ok(session);
        }
        let response = self
            .http
            .post(format!(
                "{}/xrpc/com.atproto.server.refreshSession",
                session.pds
            ))
            .bearer_auth(&session.refresh_jwt)
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(transient)?;
        let status = response.status();
        if !status.is_success() {
            let error: XrpcError = response.json().await.unwrap_or_default();
            return Err(match status.as_u16() {
                400 | 401 => {
                    PostError::AuthExpired(format!("Bluesky ended the session ({})", error.error))
                }
                _ => PostError::Transient(format!("{status} {}", error.message)),
            });
        }
        let answer: SessionAnswer = response.json().await.map_err(transient)?;
        let renewed = session_from(answer, &session.pds);
        credentials.set(&serde_json::to_string(&renewed).expect("a session serialises"))?;
        Ok(renewed)
    }

    /// An authenticated XRPC call, refreshing the session once if the PDS says it expired.
    async fn call(
        &self,
        credentials: &Credentials,
        request: impl Fn(&Session) -> reqwest::RequestBuilder,
    ) -> Result<(Session, reqwest::Response), PostError> {
        let mut session = self.fresh(credentials, false).await?;
        for attempt in 0..2 {
            let response = request(&session)
                .bearer_auth(&session.access_jwt)
                .timeout(TIMEOUT)
                .send()
                .await
                .map_err(transient)?;
            let status = response.status();
            if status.is_success() {
                return Ok((session, response));
            }
            let reset = rate_limit_reset(&response);
            let error: XrpcError = response.json().await.unwrap_or_default();
            let expired =
                status == 401 || matches!(error.error.as_str(), "ExpiredToken" | "InvalidToken");
            if expired && attempt == 0 {
                session = self.fresh(credentials, true).await?;
                continue;
            }
            return Err(match status.as_u16() {
                _ if expired => PostError::AuthExpired(error.message),
                429 => PostError::RateLimited {
                    retry_after: reset.unwrap_or(Duration::from_secs(60)),
                },
                400..=499 => PostError::Rejected(if error.message.is_empty() {
                    error.error
                } else {
                    error.message
                }),
                _ => PostError::Transient(format!("{status} {}", error.message)),
            });
        }
        unreachable!("the loop returns")
    }

    async fn upload_thumb(&self, credentials: &Credentials, card: &LinkCard) -> Option<Value> {
        let image = card.image.as_ref()?;
        if image.bytes.len() > MAX_THUMB_BYTES || !image.mime.starts_with("image/") {
            return None;
        }
        let uploaded = self
            .call(credentials, |s| {
                self.http
                    .post(format!("{}/xrpc/com.atproto.repo.uploadBlob", s.pds))
                    .header(reqwest::header::CONTENT_TYPE, &image.mime)
                    .body(image.bytes.clone())
            })
            .await;
        match uploaded {
            Ok((_, response)) => response.json::<Value>().await.ok()?.get("blob").cloned(),
            // A card without its picture is better than no post.
            Err(e) => {
                tracing::info!(error = %e, "could not upload the link card's picture");
                None
            }
        }
    }

    /// Who holds a record key: nobody, this share (its text), or another post.
    async fn key_holder(
        &self,
        credentials: &Credentials,
        rkey: &str,
        text: &str,
    ) -> Result<KeyHolder, PostError> {
        let result = self
            .call(credentials, |s| {
                self.http
                    .get(format!("{}/xrpc/com.atproto.repo.getRecord", s.pds))
                    .query(&[
                        ("repo", s.did.as_str()),
                        ("collection", POST),
                        ("rkey", rkey),
                    ])
            })
            .await;
        match result {
            Ok((session, response)) => {
                let record: Value = response.json().await.map_err(transient)?;
                // The key is this share's only if the post is its text: another share's post
                // holding it is never taken for a success.
                Ok(if record["value"]["text"].as_str() == Some(text) {
                    KeyHolder::ThisShare(posted(&session, &record, rkey))
                } else {
                    KeyHolder::Other
                })
            }
            Err(PostError::Rejected(m))
                if m.contains("not found")
                    || m == "RecordNotFound"
                    || m.contains("Could not locate record") =>
            {
                Ok(KeyHolder::Free)
            }
            Err(e) => Err(e),
        }
    }
}

enum KeyHolder {
    Free,
    ThisShare(Posted),
    Other,
}

fn posted(session: &Session, answer: &Value, rkey: &str) -> Posted {
    Posted {
        id: answer["uri"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("at://{}/{POST}/{rkey}", session.did)),
        url: Some(format!(
            "https://bsky.app/profile/{}/post/{rkey}",
            session.did
        )),
    }
}

/// Whether a JWT's `exp` is within a minute (unreadable: assume not, the PDS will say).
fn expires_soon(jwt: &str) -> bool {
    use base64::Engine as _;
    let exp = jwt
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|c| c["exp"].as_i64());
    exp.is_some_and(|exp| exp - 60 < Utc::now().timestamp())
}

/// `ratelimit-reset` (Unix seconds) as a wait.
fn rate_limit_reset(response: &reqwest::Response) -> Option<Duration> {
    let reset: i64 = response
        .headers()
        .get("ratelimit-reset")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    Some(Duration::from_secs(
        (reset - Utc::now().timestamp()).clamp(1, 24 * 3600) as u64,
    ))
}

/// The post record for a share's text and card.
pub fn record(text: &str, card: Option<&LinkCard>, thumb: Option<Value>) -> Value {
    let mut record = json!({
        "$type": POST,
        "text": text,
        "createdAt": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    let facets = facets::detect(text);
    if !facets.is_empty() {
        record["facets"] = json!(facets);
    }
    if let Some(card) = card {
        if !card.language.is_empty() {
            record["langs"] = json!([card.language]);
        }
        let mut external = json!({
            "uri": card.url,
            "title": card.title,
            "description": card.description,
        });
        if let Some(thumb) = thumb {
            external["thumb"] = thumb;
        }
        record["embed"] = json!({ "$type": "app.bsky.embed.external", "external": external });
    }
    record
}

/// Why a text cannot be posted to Bluesky, if it cannot.
pub fn check_length(text: &str) -> Result<(), PostError> {
    let graphemes = text.graphemes(true).count();
    if graphemes > MAX_GRAPHEMES || text.len() > MAX_BYTES {
        return Err(PostError::Rejected(format!(
            "the text is {graphemes} characters long; Bluesky takes {MAX_GRAPHEMES}"
        )));
    }
    Ok(())
}

impl SocialNetwork for Bluesky {
    fn post<'a>(&'a self, out: &'a Outgoing<'a>) -> BoxFuture<'a, Result<Posted, PostError>> {
        Box::pin(async move {
            check_length(&out.share.text)?;
            let thumb = match out.card {
                Some(card) => self.upload_thumb(out.credentials, card).await,
                None => None,
            };
            let record = record(&out.share.text, out.card, thumb);
            for attempt in 0..tid::KEYS_PER_SHARE {
                let rkey = tid::for_share(&out.share.id, attempt);
                let created = self
                    .call(out.credentials, |s| {
                        self.http
                            .post(format!("{}/xrpc/com.atproto.repo.createRecord", s.pds))
                            .json(&json!({
                                "repo": s.did,
                                "collection": POST,
                                "rkey": rkey,
                                "record": record,
                            }))
                    })
                    .await;
                match created {
                    Ok((session, response)) => {
                        let answer: Value = response.json().await.map_err(transient)?;
                        return Ok(posted(&session, &answer, &rkey));
                    }
                    // Refused or failed: maybe because the record key is taken (the PDS
                    // answers a taken key with a 500), by an earlier attempt of this share
                    // (then that post is this share's) or by another post (then the next key).
                    Err(e @ (PostError::Rejected(_) | PostError::Transient(_))) => {
                        match self
                            .key_holder(out.credentials, &rkey, &out.share.text)
                            .await
                        {
                            Ok(KeyHolder::ThisShare(existing)) => return Ok(existing),
                            Ok(KeyHolder::Other) => continue,
                            Ok(KeyHolder::Free) | Err(_) => return Err(e),
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(PostError::Rejected(
                "other posts already hold this share's record keys".into(),
            ))
        })
    }

    fn find<'a>(
        &'a self,
        out: &'a Outgoing<'a>,
    ) -> BoxFuture<'a, Result<Option<Posted>, PostError>> {
        Box::pin(async move {
            for attempt in 0..tid::KEYS_PER_SHARE {
                let rkey = tid::for_share(&out.share.id, attempt);
                match self
                    .key_holder(out.credentials, &rkey, &out.share.text)
                    .await?
                {
                    KeyHolder::ThisShare(existing) => return Ok(Some(existing)),
                    KeyHolder::Free => return Ok(None),
                    KeyHolder::Other => continue,
                }
            }
            Ok(None)
        })
    }

    fn revoke<'a>(
        &'a self,
        _account: &'a Account,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<(), PostError>> {
        Box::pin(async move {
            let session = Self::session(credentials)?;
            let response = self
                .http
                .post(format!(
                    "{}/xrpc/com.atproto.server.deleteSession",
                    session.pds
                ))
                .bearer_auth(&session.refresh_jwt)
                .timeout(TIMEOUT)
                .send()
                .await
                .map_err(transient)?;
            super::classify(response, None).await.map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pds_comes_from_the_did_document() {
        let doc = json!({"service": [
            {"id": "#atproto_labeler", "serviceEndpoint": "https://l.example"},
            {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "https://pds.example/"}
        ]});
        assert_eq!(pds_of(&doc).as_deref(), Some("https://pds.example/"));
        assert_eq!(pds_of(&json!({})), None);
    }

    #[test]
    fn graphemes_not_bytes_count() {
        // 300 family emoji are 300 graphemes (and 7,500 bytes: over the byte cap).
        assert!(check_length(&"é".repeat(300)).is_ok());
        assert!(check_length(&"é".repeat(301)).is_err());
        assert!(check_length(&"👩🏽‍💻".repeat(100)).is_ok());
    }

    #[test]
    fn the_session_never_prints_its_tokens() {
        let s = Session {
            did: "did:plc:x".into(),
            handle: "ann.test".into(),
            pds: "http://127.0.0.1:1".into(),
            access_jwt: "SECRET-A".into(),
            refresh_jwt: "SECRET-R".into(),
        };
        let printed = format!("{s:?}");
        assert!(!printed.contains("SECRET"), "{printed}");
    }
}
