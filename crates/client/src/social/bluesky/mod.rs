//! Bluesky (AT Protocol). The person signs in with their handle and an app password at their
//! hosting service; the session's own `didDoc` names their PDS, which every later call goes to.
//! The keychain keeps the session's JWTs (never the password). Posts are
//! `com.atproto.repo.createRecord` calls with record keys derived from the share id
//! ([`super::tid`]): a resend collides with the first post instead of duplicating it.

mod record;
mod session;

use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::SocialNetwork;
use super::{tid, transient, Credentials, LinkCard, Outgoing, PostError, Posted};
use crate::store::Account;
pub use record::{check_length, record, MAX_GRAPHEMES};
use session::{expires_soon, session_from, SessionAnswer, XrpcError};
pub use session::{sign_in, Session, SignInError};

/// Where people without their own PDS sign in (the entryway forwards to their PDS).
pub const DEFAULT_SERVICE: &str = "https://bsky.social";
/// The lexicon's limit for a link card's thumbnail.
const MAX_THUMB_BYTES: usize = 1_000_000;
const POST: &str = "app.bsky.feed.post";
const TIMEOUT: Duration = Duration::from_secs(30);

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

    /// `followersCount` of the account's profile (`app.bsky.actor.getProfile`, which the PDS
    /// answers through its AppView; a PDS without one gives no count).
    fn followers<'a>(&'a self, out: &'a Outgoing<'a>) -> BoxFuture<'a, Option<u64>> {
        Box::pin(async move {
            let (_, response) = self
                .call(out.credentials, |s| {
                    self.http
                        .get(format!("{}/xrpc/app.bsky.actor.getProfile", s.pds))
                        .query(&[("actor", s.did.as_str())])
                })
                .await
                .ok()?;
            let answer: Value = response.json().await.ok()?;
            answer["followersCount"].as_u64()
        })
    }

    fn exists<'a>(
        &'a self,
        out: &'a Outgoing<'a>,
        post_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<bool>, PostError>> {
        Box::pin(async move {
            // `at://<did>/app.bsky.feed.post/<rkey>`: the record, read from the account's PDS.
            let Some(rkey) = post_id.rsplit('/').next().filter(|k| !k.is_empty()) else {
                return Ok(None);
            };
            let result = self
                .call(out.credentials, |s| {
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
                Ok(_) => Ok(Some(true)),
                Err(PostError::Rejected(m))
                    if m.contains("not found")
                        || m.contains("RecordNotFound")
                        || m.contains("Could not locate record") =>
                {
                    Ok(Some(false))
                }
                Err(e) => Err(e),
            }
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
    use std::sync::Arc;

    use axum::extract::Query;
    use axum::http::HeaderMap;
    use axum::routing::get;
    use base64::Engine as _;
    use relay_protocol::Network;

    use super::*;
    use crate::secrets::MemoryStore;
    use crate::social::Provider;
    use crate::store::{AccountStatus, LinkChoice, Share, ShareState};

    fn jwt(exp: i64) -> String {
        let part = |v: Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        format!(
            "{}.{}.sig",
            part(json!({"alg": "HS256"})),
            part(json!({ "exp": exp }))
        )
    }

    /// A stub of `app.bsky.actor.getProfile` as Bluesky documents it, answered where an AppView
    /// is (the real PDS these tests run has none: it answers 502, and the reach stays unknown).
    async fn profile_stub(with_appview: bool) -> String {
        let token = jwt(Utc::now().timestamp() + 3600);
        let app = axum::Router::new().route(
            "/xrpc/app.bsky.actor.getProfile",
            get(
                move |Query(q): Query<std::collections::HashMap<String, String>>,
                      headers: HeaderMap| {
                    let token = token.clone();
                    async move {
                        let authorised = headers.get("authorization").and_then(|v| v.to_str().ok())
                            == Some(format!("Bearer {token}").as_str());
                        if !with_appview
                            || !authorised
                            || q.get("actor").map(String::as_str) != Some("did:plc:ann")
                        {
                            return (
                                axum::http::StatusCode::BAD_GATEWAY,
                                axum::Json(
                                    json!({"error": "UpstreamFailure", "message": "no AppView"}),
                                ),
                            );
                        }
                        (
                            axum::http::StatusCode::OK,
                            axum::Json(json!({"did": "did:plc:ann", "handle": "ann.test",
                                "followersCount": 4821, "followsCount": 310, "postsCount": 57})),
                        )
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    async fn followers_at(pds: String) -> Option<u64> {
        let credentials = Credentials::new(Arc::new(MemoryStore::default()), "acct-1");
        let session = session::Session {
            did: "did:plc:ann".into(),
            handle: "ann.test".into(),
            pds,
            access_jwt: jwt(Utc::now().timestamp() + 3600),
            refresh_jwt: jwt(Utc::now().timestamp() + 86400),
        };
        credentials
            .set(&serde_json::to_string(&session).unwrap())
            .unwrap();
        let account = Account {
            id: "acct-1".into(),
            network: Network::Bluesky,
            provider: Provider::Bluesky,
            handle: "@ann.test".into(),
            base_url: None,
            status: AccountStatus::Connected,
            char_limit: None,
        };
        let share = Share {
            id: "share-1".into(),
            item_id: "item-1".into(),
            item_title: "Story".into(),
            item_url: "https://example.com/story".into(),
            network: Network::Bluesky,
            account_id: "acct-1".into(),
            text: "Worth a read".into(),
            scheduled_at: None,
            state: ShareState::Posted,
            attempts: 1,
            next_attempt_at: None,
            reason: None,
            retryable: false,
            post_id: None,
            post_url: None,
            posted_at: None,
            recorded_at: None,
            created_at: Utc::now(),
            points: None,
            refused: None,
            link: LinkChoice::Tracked,
            link_code: None,
            link_url: None,
            link_fallback: false,
            followers: None,
        };
        let out = Outgoing {
            account: &account,
            share: &share,
            credentials: &credentials,
            card: None,
        };
        Bluesky::new(reqwest::Client::new()).followers(&out).await
    }

    #[tokio::test]
    async fn the_reach_is_the_profiles_follower_count_or_unknown() {
        assert_eq!(followers_at(profile_stub(true).await).await, Some(4821));
        assert_eq!(followers_at(profile_stub(false).await).await, None);
    }
}
