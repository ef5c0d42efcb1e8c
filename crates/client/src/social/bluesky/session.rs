//! Signing in to Bluesky: the session kept in the keychain (its JWTs never printed), the
//! account's PDS from its DID document, and when the access token needs refreshing.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::TIMEOUT;

/// A signed-in session, as kept in the keychain.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub did: String,
    pub handle: String,
    /// The account's own PDS.
    pub pds: String,
    pub(super) access_jwt: String,
    pub(super) refresh_jwt: String,
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
pub(super) struct SessionAnswer {
    did: String,
    handle: String,
    access_jwt: String,
    refresh_jwt: String,
    did_doc: Option<Value>,
}

/// An XRPC error body.
#[derive(Deserialize, Default)]
pub(super) struct XrpcError {
    #[serde(default)]
    pub(super) error: String,
    #[serde(default)]
    pub(super) message: String,
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

pub(super) fn session_from(answer: SessionAnswer, fallback_pds: &str) -> Session {
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

/// Whether a JWT's `exp` is within a minute (unreadable: assume not, the PDS will say).
pub(super) fn expires_soon(jwt: &str) -> bool {
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
