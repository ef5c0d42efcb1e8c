//! The push services' side, run in the test: a real Web Push receiver (a subscription key pair
//! made here, each body decrypted by RFC 8291 independently of the server's library and its
//! VAPID signature checked), and stubs that follow FCM HTTP v1's and APNs' documented requests
//! and answers (named as stubs: the real services cannot run here).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use relay_protocol::{PushChannel, PushPayload};
use serde_json::{json, Value};
use sha2::Sha256;

/// How a receiver answers one address: its next answers in order, then 201.
pub type Script = Arc<Mutex<HashMap<String, Vec<(u16, Option<u64>)>>>>;

/// One notification as a push service received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The subscription, token or device it was for.
    pub to: String,
    /// What the server answered it (201/200 delivered, else refused).
    pub status: u16,
    pub payload: Option<PushPayload>,
    pub raw: Value,
}

#[derive(Clone, Default)]
pub struct Log(pub Arc<Mutex<Vec<Received>>>);

impl Log {
    pub fn all(&self) -> Vec<Received> {
        self.0.lock().unwrap().clone()
    }
    pub fn delivered(&self) -> Vec<Received> {
        self.all().into_iter().filter(|r| r.status < 300).collect()
    }
    fn push(&self, r: Received) {
        self.0.lock().unwrap().push(r);
    }
}

fn next_answer(script: &Script, to: &str) -> (u16, Option<u64>) {
    let mut script = script.lock().unwrap();
    match script.get_mut(to) {
        Some(answers) if !answers.is_empty() => answers.remove(0),
        _ => (201, None),
    }
}

fn answer(status: u16, retry_after: Option<u64>, body: Value) -> Response {
    let mut response = (StatusCode::from_u16(status).unwrap(), Json(body)).into_response();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", secs.to_string().parse().unwrap());
    }
    response
}

/// A browser's (or UnifiedPush distributor's) subscription: its keys stay here.
pub struct Subscription {
    pub id: String,
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Subscription {
    pub fn new(id: &str) -> Subscription {
        let mut auth = [0u8; 16];
        rand::Rng::fill(&mut rand::thread_rng(), &mut auth);
        Subscription {
            id: id.into(),
            secret: p256::SecretKey::random(&mut rand::thread_rng()),
            auth,
        }
    }

    pub fn channel(&self, receiver: &str) -> PushChannel {
        PushChannel::WebPush {
            endpoint: format!("{receiver}/push/{}", self.id),
            p256dh: URL_SAFE_NO_PAD
                .encode(self.secret.public_key().to_encoded_point(false).as_bytes()),
            auth: URL_SAFE_NO_PAD.encode(self.auth),
        }
    }

    /// RFC 8291 with RFC 8188's `aes128gcm` framing, one record.
    pub fn decrypt(&self, body: &[u8]) -> Vec<u8> {
        let salt = &body[..16];
        let id_len = body[20] as usize;
        let sender_key = &body[21..21 + id_len];
        let ciphertext = &body[21 + id_len..];
        let sender = p256::PublicKey::from_sec1_bytes(sender_key).expect("keyid is a P-256 key");
        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), sender.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(self.secret.public_key().to_encoded_point(false).as_bytes());
        info.extend_from_slice(sender_key);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes().as_slice())
            .expand(&info, &mut ikm)
            .unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let mut cek = [0u8; 16];
        let mut nonce = [0u8; 12];
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
            .unwrap();
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
            .unwrap();
        let mut plain = Aes128Gcm::new_from_slice(&cek)
            .unwrap()
            .decrypt(Nonce::from_slice(&nonce), ciphertext)
            .expect("the notification decrypts with the subscription's keys");
        // The last record ends with the delimiter 2, then padding zeros.
        while plain.last() == Some(&0) {
            plain.pop();
        }
        assert_eq!(plain.pop(), Some(2), "last-record delimiter");
        plain
    }
}

#[derive(Clone)]
struct WebPushState {
    log: Log,
    script: Script,
    subscriptions: Arc<Mutex<HashMap<String, Arc<Subscription>>>>,
    vapid_public: String,
    origin: String,
}

/// A Web Push service and the browsers behind it, on a local port.
pub struct WebPushReceiver {
    pub url: String,
    pub log: Log,
    pub script: Script,
    state: WebPushState,
}

impl WebPushReceiver {
    pub async fn start(vapid_public: &str) -> WebPushReceiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = WebPushState {
            log: Log::default(),
            script: Script::default(),
            subscriptions: Arc::default(),
            vapid_public: vapid_public.into(),
            origin: url.clone(),
        };
        let app = Router::new()
            .route("/push/{id}", post(web_push))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        WebPushReceiver {
            url,
            log: state.log.clone(),
            script: state.script.clone(),
            state,
        }
    }

    /// A new subscription on this service.
    pub fn subscribe(&self, id: &str) -> PushChannel {
        let subscription = Arc::new(Subscription::new(id));
        let channel = subscription.channel(&self.url);
        self.state
            .subscriptions
            .lock()
            .unwrap()
            .insert(id.into(), subscription);
        channel
    }
}

async fn web_push(
    State(state): State<WebPushState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    assert_eq!(header("content-encoding"), "aes128gcm");
    assert!(header("ttl").parse::<u64>().is_ok(), "a TTL header");
    check_vapid(header("authorization"), &state.vapid_public, &state.origin);
    let subscription = state.subscriptions.lock().unwrap().get(&id).cloned();
    let Some(subscription) = subscription else {
        return answer(404, None, json!({}));
    };
    let plain = subscription.decrypt(&body);
    let payload: PushPayload = serde_json::from_slice(&plain).expect("the payload is JSON");
    let (status, retry_after) = next_answer(&state.script, &id);
    state.log.push(Received {
        to: id,
        status,
        raw: serde_json::to_value(&payload).unwrap(),
        payload: Some(payload),
    });
    answer(status, retry_after, json!({}))
}

/// RFC 8292: `vapid t=<JWT signed with the server's key>, k=<that key>`, for this origin.
fn check_vapid(authorization: &str, vapid_public: &str, origin: &str) {
    let rest = authorization
        .strip_prefix("vapid ")
        .expect("a VAPID authorization");
    let mut token = "";
    let mut key = "";
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(t) = part.strip_prefix("t=") {
            token = t;
        } else if let Some(k) = part.strip_prefix("k=") {
            key = k;
        }
    }
    assert_eq!(key, vapid_public, "the server's VAPID public key");
    let point = URL_SAFE_NO_PAD.decode(key).unwrap();
    let decoding = jsonwebtoken::DecodingKey::from_ec_components(
        &URL_SAFE_NO_PAD.encode(&point[1..33]),
        &URL_SAFE_NO_PAD.encode(&point[33..65]),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[origin]);
    let claims = jsonwebtoken::decode::<Value>(token, &decoding, &validation)
        .expect("the VAPID token is signed by the server's key, for this push service");
    assert!(claims.claims["sub"]
        .as_str()
        .unwrap()
        .starts_with("mailto:"));
}

#[derive(Clone)]
struct FcmState {
    log: Log,
    script: Script,
    public_pem: Vec<u8>,
    token_uri: String,
    tokens_issued: Arc<Mutex<Vec<String>>>,
}

/// FCM HTTP v1 stub: Google's OAuth 2.0 token endpoint for service accounts, and
/// `messages:send` with its documented errors (`UNREGISTERED` as a 404 with an `FcmError`).
pub struct FcmStub {
    pub url: String,
    pub log: Log,
    pub script: Script,
    pub tokens_issued: Arc<Mutex<Vec<String>>>,
}

pub const FCM_PROJECT: &str = "relay-test";

impl FcmStub {
    pub async fn start() -> FcmStub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = FcmState {
            log: Log::default(),
            script: Script::default(),
            public_pem: include_bytes!("../fixtures/push/fcm-test-account.pub").to_vec(),
            token_uri: format!("{url}/token"),
            tokens_issued: Arc::default(),
        };
        let app = Router::new()
            .route("/token", post(fcm_token))
            .route("/v1/projects/{project}/messages:send", post(fcm_send))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FcmStub {
            url,
            log: state.log,
            script: state.script,
            tokens_issued: state.tokens_issued,
        }
    }

    pub fn config(&self) -> relay_server::push::FcmConfig {
        relay_server::push::FcmConfig {
            account: relay_server::push::ServiceAccount {
                project_id: FCM_PROJECT.into(),
                client_email: "relay@relay-test.iam.gserviceaccount.com".into(),
                private_key: include_str!("../fixtures/push/fcm-test-account.key").into(),
                token_uri: format!("{}/token", self.url),
            },
            base_url: self.url.clone(),
        }
    }
}

async fn fcm_token(
    State(state): State<FcmState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    assert_eq!(
        form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&state.public_pem).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&state.token_uri]);
    let Ok(claims) = jsonwebtoken::decode::<Value>(&form["assertion"], &key, &validation) else {
        return answer(400, None, json!({ "error": "invalid_grant" }));
    };
    assert_eq!(
        claims.claims["scope"],
        "https://www.googleapis.com/auth/firebase.messaging"
    );
    let token = format!("ya29.stub-{}", uuid::Uuid::new_v4());
    state.tokens_issued.lock().unwrap().push(token.clone());
    Json(json!({ "access_token": token, "expires_in": 3599, "token_type": "Bearer" }))
        .into_response()
}

async fn fcm_send(
    State(state): State<FcmState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let bearer = headers["authorization"]
        .to_str()
        .unwrap()
        .trim_start_matches("Bearer ");
    if project != FCM_PROJECT
        || !state
            .tokens_issued
            .lock()
            .unwrap()
            .iter()
            .any(|t| t == bearer)
    {
        return answer(
            401,
            None,
            json!({ "error": { "code": 401, "status": "UNAUTHENTICATED" } }),
        );
    }
    let message = &body["message"];
    let to = message["token"].as_str().unwrap().to_owned();
    let (status, retry_after) = next_answer(&state.script, &to);
    let reply = match status {
        404 => json!({ "error": { "code": 404, "message": "Requested entity was not found.",
            "status": "NOT_FOUND", "details": [{
                "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                "errorCode": "UNREGISTERED" }] } }),
        429 => json!({ "error": { "code": 429, "status": "RESOURCE_EXHAUSTED", "details": [{
                "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                "errorCode": "QUOTA_EXCEEDED" }] } }),
        _ => json!({ "name": format!("projects/{FCM_PROJECT}/messages/{}", uuid::Uuid::new_v4()) }),
    };
    let payload = PushPayload {
        items: message["data"]["items"]
            .as_str()
            .unwrap_or_default()
            .split(',')
            .map(str::to_owned)
            .collect(),
        title: message["notification"]["title"]
            .as_str()
            .unwrap_or_default()
            .into(),
        open: message["data"]["open"].as_str().unwrap_or_default().into(),
    };
    state.log.push(Received {
        to,
        status: if status == 201 { 200 } else { status },
        payload: Some(payload),
        raw: body.clone(),
    });
    answer(if status == 201 { 200 } else { status }, retry_after, reply)
}

#[derive(Clone)]
struct ApnsState {
    log: Log,
    script: Script,
    public_pem: Vec<u8>,
}

pub const APNS_TOPIC: &str = "com.relay.app";
pub const APNS_TEAM: &str = "TEAM123456";
pub const APNS_KEY_ID: &str = "KEY1234567";

/// APNs stub: HTTP/2 only (h2c here, TLS at Apple), `POST /3/device/{token}` with a provider
/// token, answering 200 with an `apns-id`, or Apple's documented errors.
pub struct ApnsStub {
    pub url: String,
    pub log: Log,
    pub script: Script,
}

impl ApnsStub {
    pub async fn start() -> ApnsStub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = ApnsState {
            log: Log::default(),
            script: Script::default(),
            public_pem: include_bytes!("../fixtures/push/apns-test-key.pub").to_vec(),
        };
        let app = Router::new()
            .route("/3/device/{token}", post(apns_send))
            .with_state(state.clone());
        tokio::spawn(serve_h2c(listener, app));
        ApnsStub {
            url,
            log: state.log,
            script: state.script,
        }
    }

    pub fn config(&self) -> relay_server::push::ApnsConfig {
        relay_server::push::ApnsConfig {
            key_pem: include_str!("../fixtures/push/apns-test-key.p8").into(),
            key_id: APNS_KEY_ID.into(),
            team_id: APNS_TEAM.into(),
            topic: APNS_TOPIC.into(),
            base_url: self.url.clone(),
        }
    }
}

/// Serves HTTP/2 without TLS ("prior knowledge"), as APNs' HTTP/2-only endpoint would be.
async fn serve_h2c(listener: tokio::net::TcpListener, app: Router) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use tower::ServiceExt;
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| app.clone().oneshot(request),
            );
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn apns_send(
    State(state): State<ApnsState>,
    Path(token): Path<String>,
    version: Version,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    assert_eq!(version, Version::HTTP_2, "APNs speaks HTTP/2 only");
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let jwt = header("authorization").trim_start_matches("bearer ");
    let key = jsonwebtoken::DecodingKey::from_ec_pem(&state.public_pem).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let Ok(decoded) = jsonwebtoken::decode::<Value>(jwt, &key, &validation) else {
        return answer(403, None, json!({ "reason": "InvalidProviderToken" }));
    };
    assert_eq!(decoded.header.kid.as_deref(), Some(APNS_KEY_ID));
    assert_eq!(decoded.claims["iss"], APNS_TEAM);
    if header("apns-topic") != APNS_TOPIC {
        return answer(400, None, json!({ "reason": "TopicDisallowed" }));
    }
    assert_eq!(header("apns-push-type"), "alert");
    let (status, retry_after) = next_answer(&state.script, &token);
    let status = if status == 201 { 200 } else { status };
    state.log.push(Received {
        to: token,
        status,
        payload: Some(PushPayload {
            items: serde_json::from_value(body["items"].clone()).unwrap_or_default(),
            title: body["aps"]["alert"]["title"]
                .as_str()
                .unwrap_or_default()
                .into(),
            open: body["open"].as_str().unwrap_or_default().into(),
        }),
        raw: body,
    });
    match status {
        200 => {
            let mut response = StatusCode::OK.into_response();
            response
                .headers_mut()
                .insert("apns-id", uuid::Uuid::new_v4().to_string().parse().unwrap());
            response
        }
        410 => answer(
            410,
            None,
            json!({ "reason": "Unregistered", "timestamp": 0 }),
        ),
        429 => answer(429, retry_after, json!({ "reason": "TooManyRequests" })),
        code => answer(code, retry_after, json!({ "reason": "ServiceUnavailable" })),
    }
}
