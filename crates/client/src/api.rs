//! The central server's API as the device speaks it: enrolment, token refresh, the feed, share
//! records and live events. Tokens come from and go to the [`SecretStore`], never SQLite.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::StreamExt;
use relay_protocol::{
    EnrolRequest, EnrolResponse, NewShareRecord, Problem, RefreshRequest, SessionTokens,
    ShareRecord, SyncPage, VersionEvent,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ClientError;
use crate::secrets::SecretStore;

/// The keychain entry holding the device session.
pub const SESSION_SECRET: &str = "server-session";

/// What the keychain holds for the server session.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSession {
    access_token: String,
    access_expires_at: DateTime<Utc>,
    refresh_token: String,
}

impl From<&SessionTokens> for StoredSession {
    fn from(t: &SessionTokens) -> Self {
        StoredSession {
            access_token: t.access_token.clone(),
            access_expires_at: t.access_expires_at,
            refresh_token: t.refresh_token.clone(),
        }
    }
}

/// A client of one server, for one enrolled device.
#[derive(Clone)]
pub struct ServerApi {
    base: String,
    http: reqwest::Client,
    secrets: Arc<dyn SecretStore>,
    /// One refresh at a time in this process: refresh tokens rotate, and a replayed one
    /// signs the device out.
    refreshing: Arc<tokio::sync::Mutex<()>>,
    /// And one at a time across the device's processes (the app and the `relay` command line
    /// on one data folder): a lock file beside the database.
    refresh_lock: Option<PathBuf>,
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("relay-client/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("HTTP client")
}

impl ServerApi {
    pub fn new(base: &str, http: reqwest::Client, secrets: Arc<dyn SecretStore>) -> ServerApi {
        ServerApi {
            base: base.trim_end_matches('/').to_owned(),
            http,
            secrets,
            refreshing: Arc::default(),
            refresh_lock: None,
        }
    }

    /// Refreshes only while holding the lock file at `path`, shared by every process of the
    /// device.
    pub fn with_refresh_lock(mut self, path: &Path) -> ServerApi {
        self.refresh_lock = Some(path.to_owned());
        self
    }

    /// Waits for the device-wide refresh lock (none: this process's mutex is enough).
    async fn lock_device(&self) -> Result<Option<std::fs::File>, ClientError> {
        let Some(path) = self.refresh_lock.clone() else {
            return Ok(None);
        };
        let file = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)?;
            // Released when the file closes, also when the process dies holding it.
            file.lock()?;
            Ok(file)
        })
        .await
        .map_err(|e| ClientError::Io(std::io::Error::other(e)))??;
        Ok(Some(file))
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Redeems an enrolment code and keeps the session in the keychain.
    pub async fn enrol(
        &self,
        code: &str,
        device_name: &str,
        platform: &str,
    ) -> Result<EnrolResponse, ClientError> {
        let request = EnrolRequest {
            code: code.to_owned(),
            device_name: device_name.to_owned(),
            platform: platform.to_owned(),
        };
        let response = self
            .http
            .post(self.url("/v1/enrol"))
            .json(&request)
            .send()
            .await?;
        let enrolled: EnrolResponse = decode(response).await?;
        self.store_session(&enrolled.session)?;
        Ok(enrolled)
    }

    /// The company's identity provider, where the server offers company sign-in.
    pub async fn oidc_provider(&self) -> Result<relay_protocol::OidcProvider, ClientError> {
        let response = self.http.get(self.url("/v1/auth/oidc")).send().await?;
        decode(response).await
    }

    /// Signs in with a code from the company's provider and keeps the session in the keychain.
    pub async fn oidc_sign_in(
        &self,
        request: &relay_protocol::OidcSignIn,
    ) -> Result<EnrolResponse, ClientError> {
        let response = self
            .http
            .post(self.url("/v1/auth/oidc"))
            .json(request)
            .send()
            .await?;
        let enrolled: EnrolResponse = decode(response).await?;
        self.store_session(&enrolled.session)?;
        Ok(enrolled)
    }

    pub fn has_session(&self) -> Result<bool, ClientError> {
        Ok(self.secrets.get(SESSION_SECRET)?.is_some())
    }

    /// Forgets the session (the outbox and the rest of the device's data stay).
    pub fn forget_session(&self) -> Result<(), ClientError> {
        self.secrets.delete(SESSION_SECRET)
    }

    fn store_session(&self, tokens: &SessionTokens) -> Result<(), ClientError> {
        self.secrets.set(
            SESSION_SECRET,
            &serde_json::to_string(&StoredSession::from(tokens))?,
        )
    }

    fn session(&self) -> Result<StoredSession, ClientError> {
        let raw = self
            .secrets
            .get(SESSION_SECRET)?
            .ok_or(ClientError::NotEnrolled)?;
        serde_json::from_str(&raw).map_err(|_| ClientError::NotEnrolled)
    }

    /// The session, read again a few times within a second when it is missing: the keychain
    /// daemon can show no item for a moment after another process replaced it, even once that
    /// process let go of the device's lock (seen on the Secret Service under load in CI).
    async fn session_patiently(&self) -> Result<StoredSession, ClientError> {
        let mut tries = 0;
        loop {
            match self.session() {
                Err(ClientError::NotEnrolled | ClientError::Keychain(_)) if tries < 5 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                read => return read,
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// An access token good for at least a minute, refreshing it when needed.
    async fn access_token(&self, force_refresh: bool) -> Result<String, ClientError> {
        let session = match self.session() {
            Ok(session) => session,
            // Another process of the device may be replacing the session this instant (the
            // keychain holds no item between the old one and the new): read it again once
            // that process lets go of the device's lock.
            Err(ClientError::NotEnrolled | ClientError::Keychain(_))
                if self.refresh_lock.is_some() =>
            {
                let _device = self.lock_device().await?;
                self.session_patiently().await?
            }
            Err(e) => return Err(e),
        };
        if !force_refresh && session.access_expires_at > Utc::now() + chrono::Duration::seconds(60)
        {
            return Ok(session.access_token);
        }
        let _guard = self.refreshing.lock().await;
        let _device = self.lock_device().await?;
        // Another task or process may have refreshed while this one waited.
        let current = self.session_patiently().await?;
        if current.access_token != session.access_token {
            return Ok(current.access_token);
        }
        let response = self
            .http
            .post(self.url("/v1/session/refresh"))
            .json(&RefreshRequest {
                refresh_token: current.refresh_token,
            })
            .send()
            .await?;
        let tokens: SessionTokens = decode(response).await?;
        // Stored before use: if the process dies now, the new pair is what survives.
        self.store_session(&tokens)?;
        Ok(tokens.access_token)
    }

    /// Sends an authenticated request, refreshing an expired token once.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&dyn erased::Body>,
    ) -> Result<reqwest::Response, ClientError> {
        self.send_with(method, path, body, None).await
    }

    /// `send`, with an `If-None-Match` validator.
    async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&dyn erased::Body>,
        if_none_match: Option<&str>,
    ) -> Result<reqwest::Response, ClientError> {
        let mut refreshed = false;
        loop {
            let token = self.access_token(refreshed).await?;
            let mut request = self
                .http
                .request(method.clone(), self.url(path))
                .bearer_auth(token);
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_json()?);
            }
            if let Some(etag) = if_none_match {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            let response = request.send().await?;
            if response.status() == StatusCode::UNAUTHORIZED && !refreshed {
                let problem = problem_of(response).await;
                if problem.code == "token_expired" {
                    refreshed = true;
                    continue;
                }
                return Err(signed_out_or(problem));
            }
            return Ok(response);
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&dyn erased::Body>,
    ) -> Result<T, ClientError> {
        decode(self.send(method, path, body).await?).await
    }

    pub async fn sync_page(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<SyncPage, ClientError> {
        let mut path = format!("/v1/sync?limit={limit}");
        if let Some(c) = cursor {
            path.push_str("&cursor=");
            path.extend(url::form_urlencoded::byte_serialize(c.as_bytes()));
        }
        self.call(Method::GET, &path, None).await
    }

    pub async fn record_share(&self, record: &NewShareRecord) -> Result<ShareRecord, ClientError> {
        self.call(Method::POST, "/v1/shares", Some(record)).await
    }

    /// The person's tracked link for an item on a network (made on first ask).
    pub async fn tracked_link(
        &self,
        item_id: &str,
        network: relay_protocol::Network,
    ) -> Result<relay_protocol::TrackedLink, ClientError> {
        let body = relay_protocol::NewLink {
            item_id: item_id.to_owned(),
            network,
        };
        self.call(Method::POST, "/v1/links", Some(&body)).await
    }

    /// The programme summary, or `None` when it is unchanged since `etag`.
    pub async fn programme_summary(
        &self,
        etag: Option<&str>,
    ) -> Result<Option<(relay_protocol::ProgrammeSummary, Option<String>)>, ClientError> {
        let response = self
            .send_with(Method::GET, "/v1/programme/summary", None, etag)
            .await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Some((decode(response).await?, etag)))
    }

    /// This device's verified records whose month has not closed, to re-check.
    pub async fn to_recheck(&self) -> Result<Vec<relay_protocol::RecheckItem>, ClientError> {
        self.call(Method::GET, "/v1/programme/recheck", None).await
    }

    /// Withdraws the record of a share whose post was deleted.
    pub async fn withdraw_share(&self, share_id: &str) -> Result<ShareRecord, ClientError> {
        let id: String = url::form_urlencoded::byte_serialize(share_id.as_bytes()).collect();
        self.call(Method::POST, &format!("/v1/shares/{id}/withdraw"), None)
            .await
    }

    /// Reports the items opened on a past day.
    pub async fn report_reads(
        &self,
        report: &relay_protocol::ReadReport,
    ) -> Result<relay_protocol::ReadsCounted, ClientError> {
        self.call(Method::POST, "/v1/reads", Some(report)).await
    }

    /// A month's prize draw (`YYYY-MM`).
    pub async fn draw(&self, month: &str) -> Result<relay_protocol::Draw, ClientError> {
        self.call(
            Method::GET,
            &format!("/v1/programme/draws/{}", month_path(month)?),
            None,
        )
        .await
    }

    /// Opts out of (or back into) a month's draw.
    pub async fn draw_participation(
        &self,
        month: &str,
        opted_out: bool,
    ) -> Result<relay_protocol::Draw, ClientError> {
        let body = relay_protocol::DrawParticipation { opted_out };
        self.call(
            Method::PUT,
            &format!("/v1/programme/draws/{}/me", month_path(month)?),
            Some(&body),
        )
        .await
    }

    /// Joins the leaderboard (under a pseudonym, or the person's name).
    pub async fn join_board(
        &self,
        pseudonym: Option<String>,
    ) -> Result<relay_protocol::BoardMembership, ClientError> {
        let body = relay_protocol::BoardMembership { pseudonym };
        self.call(Method::PUT, "/v1/programme/board/me", Some(&body))
            .await
    }

    /// Leaves the leaderboard.
    pub async fn leave_board(&self) -> Result<(), ClientError> {
        let response = self
            .send(Method::DELETE, "/v1/programme/board/me", None)
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ClientError::Server(problem_of(response).await))
        }
    }

    /// Relay's LinkedIn app (404 where the operator configured none).
    pub async fn linkedin_app(&self) -> Result<relay_protocol::LinkedInApp, ClientError> {
        self.call(Method::GET, "/v1/linkedin", None).await
    }

    /// LinkedIn's code exchange, brokered by the server (which holds the client secret).
    pub async fn linkedin_token(
        &self,
        code: &relay_protocol::LinkedInCode,
    ) -> Result<relay_protocol::LinkedInTokens, ClientError> {
        self.call(Method::POST, "/v1/linkedin/token", Some(code))
            .await
    }

    /// The networks this device has accounts on (kinds only).
    pub async fn report_accounts(
        &self,
        networks: &[relay_protocol::Network],
    ) -> Result<(), ClientError> {
        let body = relay_protocol::ConnectedNetworks {
            networks: networks.to_vec(),
        };
        let response = self
            .send(Method::PUT, "/v1/me/accounts", Some(&body))
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ClientError::Server(problem_of(response).await))
        }
    }

    /// The push services the server delivers through, and its VAPID key.
    pub async fn push_config(&self) -> Result<relay_protocol::PushConfig, ClientError> {
        self.call(Method::GET, "/v1/push/config", None).await
    }

    /// Where this device receives push notifications (`None`: nowhere any more).
    pub async fn set_push_channel(
        &self,
        channel: Option<&relay_protocol::PushChannel>,
    ) -> Result<(), ClientError> {
        let response = match channel {
            Some(channel) => self.send(Method::PUT, "/v1/me/push", Some(channel)).await?,
            None => self.send(Method::DELETE, "/v1/me/push", None).await?,
        };
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ClientError::Server(problem_of(response).await))
        }
    }

    /// The person's notification preferences (for all their devices).
    pub async fn notification_prefs(
        &self,
    ) -> Result<relay_protocol::NotificationPrefs, ClientError> {
        self.call(Method::GET, "/v1/me/notifications", None).await
    }

    pub async fn set_notification_prefs(
        &self,
        prefs: &relay_protocol::NotificationPrefs,
    ) -> Result<relay_protocol::NotificationPrefs, ClientError> {
        self.call(Method::PUT, "/v1/me/notifications", Some(prefs))
            .await
    }

    /// Everything the server holds about the person, as the server wrote it.
    pub async fn my_data(&self) -> Result<serde_json::Value, ClientError> {
        self.call(Method::GET, "/v1/me/data", None).await
    }

    /// Erases the person on the server (every device of theirs is signed out).
    pub async fn erase_me(&self) -> Result<relay_protocol::Erasure, ClientError> {
        let body = relay_protocol::ErasureRequest { confirm: true };
        self.call(Method::POST, "/v1/me/erasure", Some(&body)).await
    }

    /// The organisation's privacy settings (whether individual exports are on, and why).
    pub async fn privacy(&self) -> Result<relay_protocol::PrivacySettings, ClientError> {
        self.call(Method::GET, "/v1/privacy", None).await
    }

    pub async fn me(&self) -> Result<relay_protocol::Me, ClientError> {
        self.call(Method::GET, "/v1/me", None).await
    }

    /// The server's live events, until the connection drops.
    pub async fn events(
        &self,
    ) -> Result<BoxStream<'static, Result<ServerEvent, ClientError>>, ClientError> {
        let response = self.send(Method::GET, "/v1/events", None).await?;
        if !response.status().is_success() {
            return Err(ClientError::Server(problem_of(response).await));
        }
        let bytes = response.bytes_stream();
        let stream = futures::stream::unfold(
            (bytes, String::new()),
            |(mut bytes, mut buffer)| async move {
                loop {
                    if let Some(end) = buffer.find("\n\n") {
                        let event: String = buffer.drain(..end + 2).collect();
                        let name = event.lines().find_map(|l| l.strip_prefix("event: "));
                        let data = event.lines().find_map(|l| l.strip_prefix("data: "));
                        let parsed = match (name, data) {
                            (Some("version"), Some(data)) => {
                                serde_json::from_str::<VersionEvent>(data)
                                    .map(|v| ServerEvent::Version {
                                        version: v.version,
                                        wait: v.wait(rand::random::<f64>()),
                                    })
                                    .map_err(ClientError::from)
                            }
                            (Some("programme"), _) => Ok(ServerEvent::Programme),
                            (Some("reconnect"), Some(data)) => {
                                serde_json::from_str::<relay_protocol::ReconnectEvent>(data)
                                    .map(|r| ServerEvent::Reconnect {
                                        wait: r.wait(rand::random::<f64>()),
                                    })
                                    .map_err(ClientError::from)
                            }
                            // Events of later servers, keep-alive comments.
                            _ => continue,
                        };
                        return Some((parsed, (bytes, buffer)));
                    }
                    match bytes.next().await {
                        Some(Ok(chunk)) => buffer.push_str(&String::from_utf8_lossy(&chunk)),
                        Some(Err(e)) => return Some((Err(ClientError::from(e)), (bytes, buffer))),
                        None => return None,
                    }
                }
            },
        );
        Ok(stream.boxed())
    }
}

/// A month as a path segment: `YYYY-MM`, nothing else.
fn month_path(month: &str) -> Result<&str, ClientError> {
    let ok = month.len() == 7
        && month.bytes().enumerate().all(|(i, b)| {
            if i == 4 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if ok {
        Ok(month)
    } else {
        Err(ClientError::Invalid(format!(
            "{month:?} is not a month (YYYY-MM)"
        )))
    }
}

/// What the server's live event stream says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerEvent {
    /// The content feed reached this version: sync, after `wait` (a random moment within the
    /// server's spread).
    Version { version: i64, wait: Duration },
    /// Points, boards or the top ten moved: ask for the programme again.
    Programme,
    /// The instance stops (the stream ends next): reconnect after `wait`, a random moment
    /// within the window it gave, so its devices reach the other instances spread out.
    Reconnect { wait: Duration },
}

/// Serialisable request bodies, behind a trait object so `send` is not generic.
mod erased {
    pub trait Body: Sync {
        fn to_json(&self) -> Result<Vec<u8>, serde_json::Error>;
    }
    impl<T: serde::Serialize + Sync> Body for T {
        fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
            serde_json::to_vec(self)
        }
    }
}

async fn problem_of(response: reqwest::Response) -> Problem {
    let status = response.status();
    let fallback = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("error").into(),
        status: status.as_u16(),
        detail: None,
        code: "unknown".into(),
    };
    match response.bytes().await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(fallback),
        Err(_) => fallback,
    }
}

fn signed_out_or(problem: Problem) -> ClientError {
    match problem.code.as_str() {
        "session_revoked" | "session_expired" | "invalid_token" | "missing_token" => {
            ClientError::SignedOut(problem.detail.unwrap_or(problem.code))
        }
        _ => ClientError::Server(problem),
    }
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ClientError> {
    let status = response.status();
    if status.is_success() {
        let bytes = response.bytes().await?;
        return serde_json::from_slice(&bytes).map_err(|_| {
            ClientError::NotRelay(format!(
                "it answered {status} with something else than Relay's JSON"
            ))
        });
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
        let wait = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(5);
        return Err(ClientError::RetryAfter(wait.min(3600)));
    }
    // A Relay server explains every refusal in a problem document. A refusal without one
    // comes from something else (a 5xx may be a proxy in front of Relay: that is transient).
    let is_problem = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(relay_protocol::PROBLEM_CONTENT_TYPE));
    if !is_problem && status.is_client_error() {
        return Err(ClientError::NotRelay(format!(
            "it answered {status} without a Relay problem document"
        )));
    }
    let problem = problem_of(response).await;
    if status == StatusCode::UNAUTHORIZED {
        return Err(match problem.code.as_str() {
            "invalid_code" => ClientError::Invalid(
                problem
                    .detail
                    .unwrap_or_else(|| "invalid enrolment code".into()),
            ),
            _ => signed_out_or(problem),
        });
    }
    Err(ClientError::Server(problem))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MemoryStore;

    fn stored(access: &str) -> String {
        serde_json::to_string(&StoredSession {
            access_token: access.into(),
            access_expires_at: Utc::now() + chrono::Duration::hours(1),
            refresh_token: format!("{access}-refresh"),
        })
        .unwrap()
    }

    /// What CI once saw: the command line read the keychain in the instant the app had taken
    /// the old session out to put the new one in, and said "not signed in".
    #[tokio::test]
    async fn a_session_being_replaced_by_another_process_is_waited_for_not_signed_out() {
        let folder = tempfile::tempdir().unwrap();
        let lock = folder.path().join("session.lock");
        let secrets = MemoryStore::default();
        let api = ServerApi::new(
            "http://127.0.0.1:9",
            http_client(),
            Arc::new(secrets.clone()),
        )
        .with_refresh_lock(&lock);

        // The other process holds the device's lock, and the keychain holds no session.
        let other = std::fs::File::create(&lock).unwrap();
        other.lock().unwrap();
        let reading = tokio::spawn({
            let api = api.clone();
            async move { api.access_token(false).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!reading.is_finished(), "it read while the lock was held");
        secrets.set(SESSION_SECRET, &stored("new")).unwrap();
        drop(other);
        assert_eq!(reading.await.unwrap().unwrap(), "new");

        // With nobody replacing it, a missing session still means not enrolled.
        secrets.delete(SESSION_SECRET).unwrap();
        assert!(matches!(
            api.access_token(false).await,
            Err(ClientError::NotEnrolled)
        ));
    }
}
