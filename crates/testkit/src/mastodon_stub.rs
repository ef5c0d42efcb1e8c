//! A local stub of Mastodon's documented API (no Mastodon server can be installed here):
//! `POST /api/v1/apps`, `/oauth/authorize` (approving at once, exact redirect URI match),
//! `/oauth/token` (client secret and PKCE S256 checked), `/oauth/revoke`,
//! `GET /api/v1/accounts/verify_credentials`, `GET /api/v2/instance` (the character limit),
//! `POST /api/v1/statuses` honouring `Idempotency-Key` as Mastodon does (for a while: a test can
//! let the keys lapse), statuses rendered as Mastodon's HTML, and
//! `GET /api/v1/accounts/:id/statuses` (public, or closed to anonymous readers as some servers
//! are), `GET /api/v1/statuses/:id` as anyone reads it (the Status entity with its `account`,
//! `visibility` and `created_at`; 404 once deleted).

use std::collections::HashMap;
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
pub struct MastodonStub {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// client id -> (secret, redirect uri)
    apps: HashMap<String, (String, String)>,
    /// code -> (client id, challenge)
    codes: HashMap<String, (String, String)>,
    tokens: Vec<String>,
    issued: Vec<String>,
    /// idempotency key -> status
    by_key: HashMap<String, Value>,
    statuses: Vec<Value>,
    limit: usize,
    /// Whether anonymous readers may list statuses.
    closed: bool,
}

impl MastodonStub {
    pub async fn start(limit: usize) -> (MastodonStub, String) {
        let stub = MastodonStub::default();
        stub.inner.lock().unwrap().limit = limit;
        let app = Router::new()
            .route("/api/v1/apps", post(apps))
            .route("/oauth/authorize", get(authorize))
            .route("/oauth/token", post(token))
            .route("/oauth/revoke", post(revoke))
            .route("/api/v1/accounts/verify_credentials", get(me))
            .route("/api/v2/instance", get(instance))
            .route("/api/v1/statuses", post(status))
            .route("/api/v1/statuses/{id}", get(one_status))
            .route("/api/v1/accounts/{id}/statuses", get(account_statuses))
            .with_state(stub.clone());
        (stub, crate::peers::serve(app).await)
    }

    pub fn statuses(&self) -> Vec<Value> {
        self.inner.lock().unwrap().statuses.clone()
    }

    /// A status written on the server's own site by `username` (a local account, or `user@other`
    /// for another server's status as this one shows it), made `ago` before now; its id.
    #[allow(dead_code)] // The server's confirmation tests'.
    pub fn publish(
        &self,
        username: &str,
        text: &str,
        visibility: &str,
        followers: u64,
        ago: chrono::Duration,
    ) -> String {
        let mut inner = self.inner.lock().unwrap();
        let id = format!("2260{}", inner.statuses.len());
        let local = username.split('@').next().unwrap_or(username);
        inner.statuses.push(json!({
            "id": id,
            "url": format!("https://social.test/@{local}/{id}"),
            "created_at": (chrono::Utc::now() - ago).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "content": render(text),
            "visibility": visibility,
            "account": {"id": format!("id-{local}"), "username": local, "acct": username,
                        "url": format!("https://social.test/@{local}"), "followers_count": followers},
        }));
        id
    }

    /// The person deletes a status on the server's site.
    pub fn delete_status(&self, id: &str) {
        self.inner
            .lock()
            .unwrap()
            .statuses
            .retain(|s| s["id"].as_str() != Some(id));
    }

    /// Mastodon forgets idempotency keys after an hour: here, at once.
    pub fn forget_keys(&self) {
        self.inner.lock().unwrap().by_key.clear();
    }

    /// The person revoked Relay's access on the server's site.
    #[allow(dead_code)] // The end-to-end tests' (they share this stub).
    pub fn revoke_all(&self) {
        self.inner.lock().unwrap().tokens.clear();
    }

    /// Closes (or opens) account timelines to anonymous readers.
    pub fn close_timelines(&self, closed: bool) {
        self.inner.lock().unwrap().closed = closed;
    }

    pub fn issued_tokens(&self) -> Vec<String> {
        self.inner.lock().unwrap().issued.clone()
    }

    pub fn token_active(&self, token: &str) -> bool {
        self.inner.lock().unwrap().tokens.iter().any(|t| t == token)
    }

    fn authorised(&self, headers: &HeaderMap) -> bool {
        let token = crate::peers::bearer(headers);
        self.token_active(token)
    }
}

/// The account the stub's OAuth client posts as (id 109), as the Status entity shows it.
static ANN: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    json!({"id": "109", "username": "ann", "acct": "ann", "url": "https://social.test/@ann",
           "followers_count": 321})
});

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

async fn apps(State(m): State<MastodonStub>, Form(f): Form<HashMap<String, String>>) -> Response {
    let id = format!("app-{}", uuid::Uuid::new_v4());
    let secret = format!("secret-{}", uuid::Uuid::new_v4());
    crate::sweep::note(&secret);
    m.inner
        .lock()
        .unwrap()
        .apps
        .insert(id.clone(), (secret.clone(), f["redirect_uris"].clone()));
    Json(json!({"id": "1", "name": f["client_name"], "redirect_uri": f["redirect_uris"], "client_id": id, "client_secret": secret}))
        .into_response()
}

async fn authorize(
    State(m): State<MastodonStub>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut inner = m.inner.lock().unwrap();
    let Some((_, redirect)) = inner.apps.get(&q["client_id"]).cloned() else {
        return error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    if q.get("redirect_uri") != Some(&redirect) {
        return error(
            StatusCode::BAD_REQUEST,
            "The redirect uri included is not valid.",
        );
    }
    let code = uuid::Uuid::new_v4().to_string();
    inner.codes.insert(
        code.clone(),
        (
            q["client_id"].clone(),
            q.get("code_challenge").cloned().unwrap_or_default(),
        ),
    );
    let mut to = reqwest::Url::parse(&redirect).unwrap();
    to.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &q["state"]);
    Redirect::to(to.as_str()).into_response()
}

async fn token(
    State(m): State<MastodonStub>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut inner = m.inner.lock().unwrap();
    // The client authenticates with HTTP Basic (the oauth2 crate's default) or in the form.
    let (id, secret) = match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(basic) if basic.starts_with("Basic ") => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(&basic[6..])
                .unwrap_or_default();
            let decoded = String::from_utf8(decoded).unwrap_or_default();
            let (i, s) = decoded.split_once(':').unwrap_or_default();
            (
                url::form_urlencoded::parse(i.as_bytes())
                    .map(|(k, v)| format!("{k}{v}"))
                    .collect::<String>(),
                url::form_urlencoded::parse(s.as_bytes())
                    .map(|(k, v)| format!("{k}{v}"))
                    .collect::<String>(),
            )
        }
        _ => (
            f.get("client_id").cloned().unwrap_or_default(),
            f.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if inner.apps.get(&id).map(|(s, _)| s) != Some(&secret) {
        return error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let Some((client, challenge)) = inner
        .codes
        .remove(f.get("code").map(String::as_str).unwrap_or(""))
    else {
        return error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if client != id || computed != challenge {
        return error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let access = format!("masto-{}", uuid::Uuid::new_v4());
    inner.tokens.push(access.clone());
    inner.issued.push(access.clone());
    crate::sweep::note(&access);
    Json(json!({"access_token": access, "token_type": "Bearer", "scope": "read:accounts write:statuses", "created_at": 1}))
        .into_response()
}

async fn revoke(
    State(m): State<MastodonStub>,
    Form(f): Form<HashMap<String, String>>,
) -> Json<Value> {
    let mut inner = m.inner.lock().unwrap();
    let token = f.get("token").cloned().unwrap_or_default();
    inner.tokens.retain(|t| *t != token);
    Json(json!({}))
}

async fn me(State(m): State<MastodonStub>, headers: HeaderMap) -> Response {
    if !m.authorised(&headers) {
        return error(StatusCode::UNAUTHORIZED, "The access token is invalid");
    }
    // Mastodon's Account entity carries the follower count.
    Json(json!({"id": "109", "username": "ann", "acct": "ann", "followers_count": 321}))
        .into_response()
}

async fn instance(State(m): State<MastodonStub>) -> Json<Value> {
    let limit = m.inner.lock().unwrap().limit;
    Json(json!({"domain": "social.test", "configuration": {"statuses": {"max_characters": limit}}}))
}

async fn status(
    State(m): State<MastodonStub>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !m.authorised(&headers) {
        return error(StatusCode::UNAUTHORIZED, "The access token is invalid");
    }
    let mut inner = m.inner.lock().unwrap();
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(existing) = key.as_ref().and_then(|k| inner.by_key.get(k)) {
        return Json(existing.clone()).into_response();
    }
    let text = body["status"].as_str().unwrap_or_default();
    if text.chars().count() > inner.limit + 40 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: Text character limit of 500 exceeded",
        );
    }
    let id = format!("1130{}", inner.statuses.len());
    let status = json!({
        "id": id,
        "url": format!("https://social.test/@ann/{id}"),
        "created_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "content": render(text),
        "language": body["language"],
        "visibility": body["visibility"].as_str().unwrap_or("public"),
        "account": ANN.clone(),
    });
    inner.statuses.push(status.clone());
    if let Some(k) = key {
        inner.by_key.insert(k, status.clone());
    }
    Json(status).into_response()
}

/// `GET /api/v1/statuses/:id`: a public status, or 404 once deleted.
async fn one_status(State(m): State<MastodonStub>, Path(id): Path<String>) -> Response {
    let inner = m.inner.lock().unwrap();
    match inner
        .statuses
        .iter()
        .find(|s| s["id"].as_str() == Some(&id))
    {
        Some(status) => Json(status.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "Record not found"),
    }
}

async fn account_statuses(State(m): State<MastodonStub>, Path(id): Path<String>) -> Response {
    let inner = m.inner.lock().unwrap();
    if inner.closed {
        return error(
            StatusCode::UNAUTHORIZED,
            "This API requires an authenticated user",
        );
    }
    if id != "109" {
        return error(StatusCode::NOT_FOUND, "Record not found");
    }
    // Newest first.
    Json(Value::Array(inner.statuses.iter().rev().cloned().collect())).into_response()
}

/// A status's HTML as Mastodon renders it: escaped text in a paragraph, links shortened with
/// invisible spans, hashtags linked.
fn render(text: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;")
    };
    let words: Vec<String> = text
        .split(' ')
        .map(|w| {
            if let Some((scheme, rest)) = w
                .strip_prefix("https://")
                .map(|r| ("https://", r))
                .or_else(|| w.strip_prefix("http://").map(|r| ("http://", r)))
            {
                let (shown, hidden) = rest.split_at(rest.len().min(30));
                format!(
                    r#"<a href="{}" rel="nofollow noopener" target="_blank"><span class="invisible">{scheme}</span><span class="ellipsis">{}</span><span class="invisible">{}</span></a>"#,
                    escape(w),
                    escape(shown),
                    escape(hidden)
                )
            } else if let Some(tag) = w.strip_prefix('#') {
                format!(
                    r#"<a href="https://social.test/tags/{0}" class="mention hashtag" rel="tag">#<span>{0}</span></a>"#,
                    escape(tag)
                )
            } else {
                escape(w).replace('\n', "<br />")
            }
        })
        .collect();
    format!("<p>{}</p>", words.join(" "))
}
