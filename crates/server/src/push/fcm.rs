//! Firebase Cloud Messaging, HTTP v1 API: `POST {base}/v1/projects/{project}/messages:send`
//! with an OAuth 2.0 access token obtained from the service account's key (a signed JWT
//! exchanged at the account's `token_uri`, kept until shortly before it expires).

use std::time::{Duration, Instant};

use relay_protocol::PushPayload;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use super::transport::{retry_after, Outcome, Target};

/// The fields of a Google service-account key file that FCM needs.
#[derive(Clone, Deserialize)]
pub struct ServiceAccount {
    pub project_id: String,
    pub client_email: String,
    /// PKCS#8 PEM.
    pub private_key: String,
    pub token_uri: String,
}

#[derive(Clone)]
pub struct FcmConfig {
    pub account: ServiceAccount,
    /// `https://fcm.googleapis.com` (configurable for tests).
    pub base_url: String,
}

impl FcmConfig {
    /// `RELAY_FCM_SERVICE_ACCOUNT` (the key file's JSON, or `_FILE`: its path) and
    /// `RELAY_FCM_BASE_URL`.
    pub fn from_env() -> anyhow::Result<Option<FcmConfig>> {
        let Some(json) = super::env_or_file("RELAY_FCM_SERVICE_ACCOUNT")? else {
            return Ok(None);
        };
        let account: ServiceAccount = serde_json::from_str(&json)
            .map_err(|e| anyhow::anyhow!("the FCM service account is not a key file: {e}"))?;
        jsonwebtoken::EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|_| anyhow::anyhow!("the FCM service account's private key is not RSA PEM"))?;
        Ok(Some(FcmConfig {
            account,
            base_url: std::env::var("RELAY_FCM_BASE_URL")
                .unwrap_or_else(|_| "https://fcm.googleapis.com".into()),
        }))
    }
}

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

pub struct Fcm {
    config: FcmConfig,
    token: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

impl Fcm {
    pub fn new(config: &FcmConfig) -> Fcm {
        Fcm {
            config: config.clone(),
            token: Mutex::new(None),
        }
    }

    /// A valid access token: the cached one, or a new one (one request at a time).
    async fn access_token(&self, http: &reqwest::Client) -> Result<String, String> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let account = &self.config.account;
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": account.client_email,
            "scope": SCOPE,
            "aud": account.token_uri,
            "iat": now,
            "exp": now + 3600,
        });
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|_| "the service account's key is unreadable".to_owned())?;
        let assertion = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &claims,
            &key,
        )
        .map_err(|e| format!("cannot sign the token request: {e}"))?;
        let answer = http
            .post(&account.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|e| format!("the token endpoint cannot be reached: {e}"))?;
        if !answer.status().is_success() {
            return Err(format!("the token endpoint answered {}", answer.status()));
        }
        let answer: TokenAnswer = answer
            .json()
            .await
            .map_err(|e| format!("the token endpoint's answer is unreadable: {e}"))?;
        let until = Instant::now() + Duration::from_secs(answer.expires_in.saturating_sub(60));
        *cached = Some((answer.access_token.clone(), until));
        Ok(answer.access_token)
    }

    pub async fn send(
        &self,
        http: &reqwest::Client,
        target: &Target,
        payload: &PushPayload,
    ) -> Outcome {
        let token = match self.access_token(http).await {
            Ok(token) => token,
            Err(reason) => {
                tracing::warn!(%reason, "no FCM access token");
                return Outcome::Retry { after: None };
            }
        };
        let url = format!(
            "{}/v1/projects/{}/messages:send",
            self.config.base_url.trim_end_matches('/'),
            self.config.account.project_id
        );
        let body = json!({
            "message": {
                "token": target.address,
                "notification": { "title": payload.title },
                "data": { "items": payload.items.join(","), "open": payload.open },
                "android": { "collapse_key": "relay-new-content", "priority": "normal" },
            }
        });
        let response = match http.post(url).bearer_auth(token).json(&body).send().await {
            Ok(response) => response,
            Err(_) => return Outcome::Retry { after: None },
        };
        let status = response.status();
        let headers = response.headers().clone();
        if status.is_success() {
            return Outcome::Delivered;
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            // The access token was refused: get a new one next time.
            *self.token.lock().await = None;
            return Outcome::Retry { after: None };
        }
        let error: serde_json::Value = response.json().await.unwrap_or_default();
        if error_code(&error).as_deref() == Some("UNREGISTERED") {
            return Outcome::Gone;
        }
        match status.as_u16() {
            // UNREGISTERED said it; a bare 404 is the project, not the token.
            404 => Outcome::Refused("FCM answered 404".into()),
            429 | 500..=599 => Outcome::Retry {
                after: retry_after(&headers),
            },
            code => Outcome::Refused(format!("FCM answered {code}")),
        }
    }
}

/// The `FcmError` code of an error answer (`UNREGISTERED`, `QUOTA_EXCEEDED`...).
fn error_code(error: &serde_json::Value) -> Option<String> {
    error["error"]["details"]
        .as_array()?
        .iter()
        .find_map(|detail| detail["errorCode"].as_str().map(str::to_owned))
}
