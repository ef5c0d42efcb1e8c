//! A local stub of X's documented API (no X server can run here): OAuth 2.0 with PKCE
//! (`/i/oauth2/authorize` approving at once, `/2/oauth2/token` checking the S256 verifier and
//! rotating refresh tokens, `/2/oauth2/revoke`), `GET /2/users/me`, `POST /2/tweets` (403 on
//! duplicate content, 429 with `x-rate-limit-reset` when asked) and `GET /2/users/:id/tweets`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[derive(Clone, Default)]
pub struct XStub {
    inner: Arc<Mutex<Inner>>,
    /// Answer posts with 429 until this is cleared.
    pub rate_limited: Arc<AtomicBool>,
    /// Access token lifetime in seconds (X's is 7,200).
    pub expires_in: Arc<AtomicU64>,
    pub refreshes: Arc<AtomicU64>,
}

#[derive(Default)]
struct Inner {
    challenges: HashMap<String, String>,
    access: Vec<String>,
    refresh: Vec<String>,
    tweets: Vec<(String, String)>,
    issued: Vec<String>,
    next: u64,
}

impl XStub {
    pub async fn start() -> (XStub, String) {
        let stub = XStub::default();
        stub.expires_in.store(7200, Ordering::SeqCst);
        let app = Router::new()
            .route("/i/oauth2/authorize", get(authorize))
            .route("/2/oauth2/token", post(token))
            .route("/2/oauth2/revoke", post(revoke))
            .route("/2/users/me", get(me))
            .route("/2/tweets", post(tweet))
            .route("/2/tweets/{id}", get(one_tweet))
            .route("/2/users/{id}/tweets", get(timeline))
            .with_state(stub.clone());
        (stub, crate::peers::serve(app).await)
    }

    pub fn tweets(&self) -> Vec<String> {
        let inner = self.inner.lock().unwrap();
        inner.tweets.iter().map(|(_, t)| t.clone()).collect()
    }

    /// The person deletes a post on X's site.
    pub fn delete_tweet(&self, id: &str) {
        self.inner.lock().unwrap().tweets.retain(|(t, _)| t != id);
    }

    /// Every token X issued so far (to search for them where they must not be).
    pub fn issued_tokens(&self) -> Vec<String> {
        let inner = self.inner.lock().unwrap();
        inner.issued.clone()
    }

    /// The person revoked Relay's access on X's site.
    pub fn revoke_all(&self) {
        let mut inner = self.inner.lock().unwrap();
        inner.access.clear();
        inner.refresh.clear();
    }

    fn authorised(&self, headers: &HeaderMap) -> bool {
        let token = crate::peers::bearer(headers);
        self.inner.lock().unwrap().access.iter().any(|t| t == token)
    }

    fn issue(&self) -> Value {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        let access = format!("x-access-{}-{}", inner.next, uuid::Uuid::new_v4());
        let refresh = format!("x-refresh-{}-{}", inner.next, uuid::Uuid::new_v4());
        inner.access.push(access.clone());
        inner.refresh.push(refresh.clone());
        crate::sweep::note(&access);
        crate::sweep::note(&refresh);
        inner.issued.extend([access.clone(), refresh.clone()]);
        json!({
            "token_type": "bearer",
            "expires_in": self.expires_in.load(Ordering::SeqCst),
            "access_token": access,
            "refresh_token": refresh,
            "scope": "tweet.read tweet.write users.read offline.access",
        })
    }
}

async fn authorize(State(x): State<XStub>, Query(q): Query<HashMap<String, String>>) -> Response {
    let ok = q.get("response_type").map(String::as_str) == Some("code")
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && q.get("scope").is_some_and(|s| s.contains("offline.access"));
    if !ok {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = uuid::Uuid::new_v4().to_string();
    x.inner
        .lock()
        .unwrap()
        .challenges
        .insert(code.clone(), q["code_challenge"].clone());
    let mut to = reqwest::Url::parse(&q["redirect_uri"]).unwrap();
    to.query_pairs_mut()
        .append_pair("state", &q["state"])
        .append_pair("code", &code);
    Redirect::to(to.as_str()).into_response()
}

async fn token(State(x): State<XStub>, Form(f): Form<HashMap<String, String>>) -> Response {
    let refused = || {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_request", "error_description": "Value passed for the token was invalid."})),
        )
            .into_response()
    };
    match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let challenge = x.inner.lock().unwrap().challenges.remove(&f["code"]);
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes()));
            if challenge != Some(computed) {
                return refused();
            }
            Json(x.issue()).into_response()
        }
        Some("refresh_token") => {
            {
                let mut inner = x.inner.lock().unwrap();
                let Some(i) = inner.refresh.iter().position(|r| *r == f["refresh_token"]) else {
                    return refused();
                };
                // Rotation: the old refresh token is spent.
                inner.refresh.remove(i);
            }
            x.refreshes.fetch_add(1, Ordering::SeqCst);
            Json(x.issue()).into_response()
        }
        _ => refused(),
    }
}

async fn revoke(State(x): State<XStub>, Form(f): Form<HashMap<String, String>>) -> Json<Value> {
    let mut inner = x.inner.lock().unwrap();
    let token = f.get("token").cloned().unwrap_or_default();
    inner.refresh.retain(|t| *t != token);
    inner.access.retain(|t| *t != token);
    Json(json!({"revoked": true}))
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})),
    )
        .into_response()
}

async fn me(
    State(x): State<XStub>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    if !x.authorised(&headers) {
        return unauthorized();
    }
    let mut user = json!({"id": "1460", "name": "Ann Lee", "username": "ann_contoso"});
    // As X answers `user.fields=public_metrics`: the counts come only when asked for.
    if query.is_some_and(|q| q.contains("public_metrics")) {
        user["public_metrics"] = json!({"followers_count": 1234, "following_count": 56,
            "tweet_count": 789, "listed_count": 3});
    }
    Json(json!({ "data": user })).into_response()
}

async fn tweet(State(x): State<XStub>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !x.authorised(&headers) {
        return unauthorized();
    }
    if x.rate_limited.load(Ordering::SeqCst) {
        let reset = chrono::Utc::now().timestamp() + 600;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-rate-limit-reset", reset.to_string())],
            Json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})),
        )
            .into_response();
    }
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    let mut inner = x.inner.lock().unwrap();
    if inner.tweets.iter().any(|(_, t)| *t == text) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank", "title": "Forbidden", "status": 403})),
        )
            .into_response();
    }
    inner.next += 1;
    let id = format!("18{:08}", inner.next);
    inner.tweets.push((id.clone(), text.clone()));
    (
        StatusCode::CREATED,
        Json(json!({"data": {"id": id, "text": text, "edit_history_tweet_ids": [id]}})),
    )
        .into_response()
}

/// `GET /2/tweets/:id`: the post, or (as X answers for a deleted one) 200 with an error.
async fn one_tweet(State(x): State<XStub>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !x.authorised(&headers) {
        return unauthorized();
    }
    let inner = x.inner.lock().unwrap();
    match inner.tweets.iter().find(|(t, _)| *t == id) {
        Some((id, text)) => Json(json!({"data": {"id": id, "text": text}})).into_response(),
        None => Json(json!({"errors": [{
            "value": id,
            "detail": format!("Could not find tweet with id: [{id}]."),
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": "id",
            "resource_id": id,
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }]}))
        .into_response(),
    }
}

async fn timeline(State(x): State<XStub>, headers: HeaderMap, Path(_id): Path<String>) -> Response {
    if !x.authorised(&headers) {
        return unauthorized();
    }
    let inner = x.inner.lock().unwrap();
    // X shortens links to t.co in what it returns.
    let data: Vec<Value> = inner
        .tweets
        .iter()
        .rev()
        .map(|(id, t)| {
            let shown: Vec<String> = t
                .split(' ')
                .map(|w| {
                    if w.starts_with("http") {
                        "https://t.co/xyz".to_owned()
                    } else {
                        w.to_owned()
                    }
                })
                .collect();
            json!({"id": id, "text": shown.join(" ")})
        })
        .collect();
    let count = data.len();
    Json(json!({"data": data, "meta": {"result_count": count}})).into_response()
}
