//! Apple Push Notification service over HTTP/2 with token-based authentication: each request
//! carries a provider token (an ES256 JWT from the team's `.p8` key), renewed every 50 minutes
//! as Apple asks (not more often than every 20, not less than every 60).

use std::time::{Duration, Instant};

use relay_protocol::PushPayload;
use serde_json::json;
use tokio::sync::Mutex;

use super::transport::{retry_after, Outcome, Target, SEND_TIMEOUT};

#[derive(Clone)]
pub struct ApnsConfig {
    /// The `.p8` key's PEM (PKCS#8, P-256).
    pub key_pem: String,
    pub key_id: String,
    pub team_id: String,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// `https://api.push.apple.com` or the sandbox's (configurable for tests).
    pub base_url: String,
}

impl ApnsConfig {
    /// `RELAY_APNS_KEY` (or `_FILE`), `RELAY_APNS_KEY_ID`, `RELAY_APNS_TEAM_ID`,
    /// `RELAY_APNS_TOPIC` and `RELAY_APNS_BASE_URL`.
    pub fn from_env() -> anyhow::Result<Option<ApnsConfig>> {
        let Some(key_pem) = super::env_or_file("RELAY_APNS_KEY")? else {
            return Ok(None);
        };
        let var = |name: &str| {
            std::env::var(name)
                .map_err(|_| anyhow::anyhow!("{name} must be set with RELAY_APNS_KEY"))
        };
        jsonwebtoken::EncodingKey::from_ec_pem(key_pem.as_bytes())
            .map_err(|_| anyhow::anyhow!("the APNs key is not a P-256 PEM (.p8) key"))?;
        Ok(Some(ApnsConfig {
            key_pem,
            key_id: var("RELAY_APNS_KEY_ID")?,
            team_id: var("RELAY_APNS_TEAM_ID")?,
            topic: var("RELAY_APNS_TOPIC")?,
            base_url: std::env::var("RELAY_APNS_BASE_URL")
                .unwrap_or_else(|_| "https://api.push.apple.com".into()),
        }))
    }
}

const TOKEN_LIFE: Duration = Duration::from_secs(50 * 60);

pub struct Apns {
    config: ApnsConfig,
    /// APNs speaks HTTP/2 only: over TLS it is negotiated; a plain `http` base (a test's
    /// local server) is spoken to in HTTP/2 from the first byte.
    http: reqwest::Client,
    token: Mutex<Option<(String, Instant)>>,
}

impl Apns {
    pub fn new(config: &ApnsConfig) -> Apns {
        let mut builder = reqwest::Client::builder().timeout(SEND_TIMEOUT);
        if config.base_url.starts_with("http://") {
            builder = builder.http2_prior_knowledge();
        }
        Apns {
            config: config.clone(),
            http: builder.build().expect("an HTTP/2 client"),
            token: Mutex::new(None),
        }
    }

    async fn provider_token(&self) -> Result<String, String> {
        let mut cached = self.token.lock().await;
        if let Some((token, made)) = cached.as_ref() {
            if made.elapsed() < TOKEN_LIFE {
                return Ok(token.clone());
            }
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.config.key_id.clone());
        let claims = json!({ "iss": self.config.team_id, "iat": chrono::Utc::now().timestamp() });
        let key = jsonwebtoken::EncodingKey::from_ec_pem(self.config.key_pem.as_bytes())
            .map_err(|_| "the APNs key is unreadable".to_owned())?;
        let token = jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|e| format!("cannot sign the provider token: {e}"))?;
        *cached = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    pub async fn send(&self, target: &Target, payload: &PushPayload) -> Outcome {
        let token = match self.provider_token().await {
            Ok(token) => token,
            Err(reason) => return Outcome::Refused(reason),
        };
        let url = format!(
            "{}/3/device/{}",
            self.config.base_url.trim_end_matches('/'),
            target.address
        );
        let body = json!({
            "aps": { "alert": { "title": payload.title }, "sound": "default" },
            "items": payload.items,
            "open": payload.open,
        });
        let response = self
            .http
            .post(url)
            .header("authorization", format!("bearer {token}"))
            .header("apns-topic", &self.config.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", "5")
            .header("apns-collapse-id", "relay-new-content")
            .json(&body)
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(_) => return Outcome::Retry { after: None },
        };
        let status = response.status();
        let headers = response.headers().clone();
        if status.is_success() {
            return Outcome::Delivered;
        }
        let reason = response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["reason"].as_str().map(str::to_owned))
            .unwrap_or_default();
        match (status.as_u16(), reason.as_str()) {
            (410, _) | (400, "BadDeviceToken") | (400, "DeviceTokenNotForTopic") => Outcome::Gone,
            (403, "ExpiredProviderToken") | (403, "InvalidProviderToken") => {
                *self.token.lock().await = None;
                Outcome::Retry { after: None }
            }
            (429, _) | (500..=599, _) => Outcome::Retry {
                after: retry_after(&headers),
            },
            (code, reason) => Outcome::Refused(format!("APNs answered {code} {reason}")),
        }
    }
}
