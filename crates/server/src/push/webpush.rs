//! Web Push (RFC 8030), the payload encrypted for the subscription (RFC 8291, `aes128gcm`) and
//! the request signed with the server's VAPID key (RFC 8292). UnifiedPush distributors take the
//! same requests.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use relay_protocol::PushPayload;
use web_push_native::jwt_simple::algorithms::{ECDSAP256KeyPairLike, ES256KeyPair};
use web_push_native::jwt_simple::claims::Claims;
use web_push_native::p256::PublicKey;
use web_push_native::{Auth, WebPushBuilder};

use super::transport::{Outcome, Target};

/// The server's VAPID identity.
#[derive(Clone)]
pub struct WebPushConfig {
    /// The P-256 private key, base64url of its 32 bytes.
    pub private_key: String,
    /// Who to contact about this server's pushes (`mailto:` or `https:`).
    pub subject: String,
}

impl WebPushConfig {
    /// `RELAY_VAPID_PRIVATE_KEY` (or `_FILE`) and `RELAY_VAPID_SUBJECT`.
    pub fn from_env() -> anyhow::Result<Option<WebPushConfig>> {
        let Some(key) = super::env_or_file("RELAY_VAPID_PRIVATE_KEY")? else {
            return Ok(None);
        };
        let config = WebPushConfig {
            private_key: key.trim().to_owned(),
            subject: std::env::var("RELAY_VAPID_SUBJECT").map_err(|_| {
                anyhow::anyhow!("RELAY_VAPID_SUBJECT (mailto:...) must be set with the VAPID key")
            })?,
        };
        config.key_pair()?;
        Ok(Some(config))
    }

    fn key_pair(&self) -> anyhow::Result<ES256KeyPair> {
        let bytes = URL_SAFE_NO_PAD
            .decode(self.private_key.trim_end_matches('='))
            .map_err(|_| anyhow::anyhow!("the VAPID private key is not base64url"))?;
        ES256KeyPair::from_bytes(&bytes)
            .map_err(|_| anyhow::anyhow!("the VAPID private key is not a P-256 key"))
    }

    /// The public key devices subscribe with (`applicationServerKey`), base64url.
    pub fn public_key(&self) -> anyhow::Result<String> {
        let pair = self.key_pair()?;
        let point = pair.key_pair().public_key().to_bytes_uncompressed();
        Ok(URL_SAFE_NO_PAD.encode(point))
    }

    /// A new VAPID key pair: (private, public), base64url.
    pub fn generate() -> (String, String) {
        let pair = ES256KeyPair::generate();
        let private = URL_SAFE_NO_PAD.encode(pair.to_bytes());
        let public = URL_SAFE_NO_PAD.encode(pair.key_pair().public_key().to_bytes_uncompressed());
        (private, public)
    }
}

pub struct WebPush {
    key: ES256KeyPair,
    public_key: String,
    subject: String,
}

/// Push services keep an undelivered notification this long (a phone that is off for a day
/// still hears of today's news).
const TTL: Duration = Duration::from_secs(24 * 3600);

impl WebPush {
    pub fn new(config: &WebPushConfig) -> WebPush {
        WebPush {
            key: config
                .key_pair()
                .expect("the VAPID key was checked at start"),
            public_key: config
                .public_key()
                .expect("the VAPID key was checked at start"),
            subject: config.subject.clone(),
        }
    }

    pub async fn send(
        &self,
        http: &reqwest::Client,
        target: &Target,
        payload: &PushPayload,
    ) -> Outcome {
        let request = match self.request(target, payload) {
            Ok(request) => request,
            Err(reason) => return Outcome::Refused(reason),
        };
        match http.execute(request).await {
            Ok(response) => Outcome::from_status(response.status(), response.headers()),
            // A name that leads only to internal addresses: never a push service.
            Err(err) if crate::sources::fetch::refused_by_guard(&err) => Outcome::Gone,
            Err(err) => {
                tracing::debug!(error = %err, "a Web Push service could not be reached");
                Outcome::Retry { after: None }
            }
        }
    }

    fn request(&self, target: &Target, payload: &PushPayload) -> Result<reqwest::Request, String> {
        let (Some(p256dh), Some(auth)) = (&target.p256dh, &target.auth) else {
            return Err("the subscription has no keys".into());
        };
        let key = decode_key(p256dh).ok_or("the subscription's p256dh is not a P-256 key")?;
        let auth = decode_auth(auth).ok_or("the subscription's auth is not 16 bytes")?;
        let endpoint = target
            .address
            .parse()
            .map_err(|_| "the subscription's endpoint is not a URL".to_owned())?;
        let body = serde_json::to_vec(payload).map_err(|e| e.to_string())?;
        let mut request = WebPushBuilder::new(endpoint, key, auth)
            .with_valid_duration(TTL)
            .build(body)
            .map_err(|e| format!("cannot encrypt the notification: {e}"))?;
        let vapid = self.vapid(&target.address)?;
        request.headers_mut().insert(
            "Authorization",
            axum::http::HeaderValue::from_str(&vapid).map_err(|e| e.to_string())?,
        );
        // A newer announcement replaces an undelivered one on the push service.
        request.headers_mut().insert(
            "Topic",
            axum::http::HeaderValue::from_static("relay-new-content"),
        );
        request
            .headers_mut()
            .insert("Urgency", axum::http::HeaderValue::from_static("normal"));
        reqwest::Request::try_from(request).map_err(|e| e.to_string())
    }
}

impl WebPush {
    /// RFC 8292's `vapid t=..., k=...`: a JWT for the push service's origin (its port
    /// included when not the default one), signed with the server's key.
    fn vapid(&self, endpoint: &str) -> Result<String, String> {
        let origin = url::Url::parse(endpoint)
            .map_err(|_| "the subscription's endpoint is not a URL".to_owned())?
            .origin()
            .ascii_serialization();
        let claims = Claims::create(VAPID_LIFE.into())
            .with_audience(origin)
            .with_subject(&self.subject);
        let token = self
            .key
            .sign(claims)
            .map_err(|e| format!("cannot sign the VAPID token: {e}"))?;
        Ok(format!("vapid t={token}, k={}", self.public_key))
    }
}

/// A VAPID token is good for 12 hours (RFC 8292 allows 24 at most).
const VAPID_LIFE: Duration = Duration::from_secs(12 * 3600);

pub fn decode_key(p256dh: &str) -> Option<PublicKey> {
    let bytes = URL_SAFE_NO_PAD.decode(p256dh.trim_end_matches('=')).ok()?;
    PublicKey::from_sec1_bytes(&bytes).ok()
}

pub fn decode_auth(auth: &str) -> Option<Auth> {
    let bytes = URL_SAFE_NO_PAD.decode(auth.trim_end_matches('=')).ok()?;
    (bytes.len() == 16).then(|| Auth::clone_from_slice(&bytes))
}
