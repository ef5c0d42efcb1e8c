//! A local stub of LinkedIn's documented API (no LinkedIn server can run here): the OpenID
//! authorization page (approving at once), the token endpoint (the client secret required),
//! `/v2/userinfo`, and `POST /rest/posts` (requiring `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0`, answering the post id in `x-restli-id`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub const CLIENT_SECRET: &str = "linkedin-client-secret-for-tests";

#[derive(Clone, Default)]
pub struct LinkedInStub {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    codes: Vec<String>,
    tokens: Vec<String>,
    pub posts: Vec<(HeaderMap, Value)>,
}

impl LinkedInStub {
    pub async fn start() -> (LinkedInStub, String) {
        let stub = LinkedInStub::default();
        let app = Router::new()
            .route("/oauth/v2/authorization", get(authorize))
            .route("/oauth/v2/accessToken", post(token))
            .route("/v2/userinfo", get(userinfo))
            .route("/rest/posts", post(create_post))
            .with_state(stub.clone());
        (stub, crate::peers::serve(app).await)
    }

    pub fn config(base: &str) -> relay_server::social::linkedin::LinkedInConfig {
        relay_server::social::linkedin::LinkedInConfig {
            client_id: "relay-linkedin".into(),
            client_secret: CLIENT_SECRET.into(),
            authorize_url: format!("{base}/oauth/v2/authorization"),
            token_url: format!("{base}/oauth/v2/accessToken"),
            // Set once the server's address is known (see the test).
            redirect_url: None,
        }
    }

    pub fn posts(&self) -> Vec<(HeaderMap, Value)> {
        self.inner.lock().unwrap().posts.clone()
    }

    pub fn tokens(&self) -> Vec<String> {
        self.inner.lock().unwrap().tokens.clone()
    }

    fn authorised(&self, headers: &HeaderMap) -> bool {
        let token = crate::peers::bearer(headers);
        self.inner.lock().unwrap().tokens.iter().any(|t| t == token)
    }
}

async fn authorize(
    State(l): State<LinkedInStub>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if q.get("client_id").map(String::as_str) != Some("relay-linkedin")
        || !q
            .get("scope")
            .is_some_and(|s| s.contains("w_member_social"))
    {
        return (StatusCode::BAD_REQUEST, "bad request").into_response();
    }
    let code = format!("li-code-{}", uuid::Uuid::new_v4());
    l.inner.lock().unwrap().codes.push(code.clone());
    let mut to = reqwest::Url::parse(&q["redirect_uri"]).unwrap();
    to.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &q["state"]);
    Redirect::to(to.as_str()).into_response()
}

async fn token(State(l): State<LinkedInStub>, Form(f): Form<HashMap<String, String>>) -> Response {
    let mut inner = l.inner.lock().unwrap();
    if f.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let code = f.get("code").cloned().unwrap_or_default();
    let Some(i) = inner.codes.iter().position(|c| *c == code) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_request", "error_description": "authorization code not found"})),
        )
            .into_response();
    };
    inner.codes.remove(i);
    let token = format!("AQX{}", uuid::Uuid::new_v4().simple());
    inner.tokens.push(token.clone());
    crate::sweep::note(&token);
    Json(json!({"access_token": token, "expires_in": 5_184_000, "scope": "openid,profile,w_member_social", "token_type": "Bearer"}))
        .into_response()
}

async fn userinfo(State(l): State<LinkedInStub>, headers: HeaderMap) -> Response {
    if !l.authorised(&headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"status": 401}))).into_response();
    }
    Json(json!({"sub": "782bbtaQ", "name": "Ann Lee", "email": "ann.lee@contoso.example"}))
        .into_response()
}

async fn create_post(
    State(l): State<LinkedInStub>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !l.authorised(&headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"status": 401, "serviceErrorCode": 65600, "message": "Invalid access token"})))
            .into_response();
    }
    if headers
        .get("x-restli-protocol-version")
        .and_then(|v| v.to_str().ok())
        != Some("2.0.0")
        || headers.get("linkedin-version").is_none()
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": 400, "message": "missing version headers"})),
        )
            .into_response();
    }
    let mut inner = l.inner.lock().unwrap();
    let id = format!("urn:li:share:7{:018}", inner.posts.len());
    inner.posts.push((headers, body));
    (StatusCode::CREATED, [("x-restli-id", id)]).into_response()
}
