//! The central server's API as the device speaks it: enrolment, the feed, share records, the
//! programme and live events. The session it signs them with, and its refresh, are in
//! `api/session.rs`; tokens come from and go to the [`SecretStore`], never SQLite.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use futures::StreamExt;
use relay_protocol::{
    EnrolRequest, EnrolResponse, NewShareRecord, Problem, ShareRecord, SyncPage, VersionEvent,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ClientError;
use crate::secrets::SecretStore;

mod session;
pub use session::SESSION_SECRET;

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

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
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
                            (Some("draw"), Some(data)) => {
                                match serde_json::from_str::<relay_protocol::DrawEvent>(data) {
                                    Ok(d) if month_path(&d.month).is_ok() => {
                                        Ok(ServerEvent::Draw { month: d.month })
                                    }
                                    // A month this device cannot name is no event for it.
                                    _ => continue,
                                }
                            }
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// The content feed reached this version: sync, after `wait` (a random moment within the
    /// server's spread).
    Version { version: i64, wait: Duration },
    /// Points, boards or the top ten moved: ask for the programme again.
    Programme,
    /// A month's draw moved (committed, its list frozen, drawn): fetch and pin it now.
    Draw { month: String },
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
