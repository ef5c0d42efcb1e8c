//! A real OpenID Connect provider for tests: `tests/peers/oidc.mjs` (npm `oidc-provider`), with
//! a native public client `relay-desktop`, and a scripted browser that walks its pages.

use std::process::Child;

use relay_client::oauth::Endpoints;
use serde_json::Value;

use crate::pds::start_peer;

pub struct Oidc {
    child: Child,
    pub issuer: String,
    _tmp: tempfile::TempDir,
}

impl Oidc {
    /// Starts the provider, or says loudly that it cannot (a failure under `CI=true`).
    pub fn start() -> Option<Oidc> {
        let (child, ready, tmp) = start_peer("oidc.mjs", "oidc-provider")?;
        Some(Oidc {
            child,
            issuer: ready["issuer"].as_str().unwrap().to_owned(),
            _tmp: tmp,
        })
    }

    /// The desktop client's endpoints, as discovery publishes them.
    pub async fn endpoints(&self) -> Endpoints {
        let discovery: Value =
            reqwest::get(format!("{}/.well-known/openid-configuration", self.issuer))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        Endpoints {
            authorize_url: discovery["authorization_endpoint"].as_str().unwrap().into(),
            token_url: discovery["token_endpoint"].as_str().unwrap().into(),
            revoke_url: discovery["revocation_endpoint"].as_str().map(Into::into),
            client_id: "relay-desktop".into(),
            client_secret: None,
            scopes: vec!["openid".into(), "email".into(), "offline_access".into()],
            // The provider issues refresh tokens only with explicit consent.
            extra: vec![("prompt".into(), "consent".into())],
        }
    }

    /// Whether an access token is still active (the userinfo endpoint accepts it).
    pub async fn userinfo(&self, access_token: &str) -> Option<Value> {
        let response = reqwest::Client::new()
            .get(format!("{}/me", self.issuer))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap();
        if response.status().is_success() {
            response.json().await.ok()
        } else {
            None
        }
    }
}

impl Drop for Oidc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The browser a test hands to a sign-in that opens one: each page it is given is walked by
/// [`browse`] in the background (with `suffix` appended: a login hint, say).
#[derive(Clone, Default)]
pub struct Browser {
    walk: std::sync::Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<String>>>>,
}

impl Browser {
    pub fn opener(
        &self,
        suffix: &str,
    ) -> impl FnOnce(&str) -> Result<(), relay_client::ClientError> + use<> {
        let walk = self.walk.clone();
        let suffix = suffix.to_owned();
        move |url| {
            let url = format!("{url}{suffix}");
            *walk.lock().unwrap() = Some(tokio::spawn(async move { browse(&url).await }));
            Ok(())
        }
    }

    /// Where the browser ended up (the app's loopback page), if it was opened.
    pub async fn landed(&self) -> Option<String> {
        let walk = self.walk.lock().unwrap().take();
        match walk {
            Some(walk) => Some(walk.await.unwrap()),
            None => None,
        }
    }
}

/// A person's browser, scripted: follows the provider's redirects (keeping its cookies) to the
/// app's loopback redirect, and opens that. Answers the final URL.
pub async fn browse(url: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A new connection per page, as the provider closes its own after an interaction.
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut cookies: Vec<String> = Vec::new();
    let mut url = url.to_owned();
    for _ in 0..10 {
        let mut request = http.get(&url);
        if !cookies.is_empty() {
            request = request.header("cookie", cookies.join("; "));
        }
        let response = request.send().await.unwrap();
        for c in response.headers().get_all("set-cookie") {
            let pair = c.to_str().unwrap().split(';').next().unwrap().to_owned();
            let name = pair.split('=').next().unwrap().to_owned();
            cookies.retain(|k| !k.starts_with(&format!("{name}=")));
            cookies.push(pair);
        }
        match response.headers().get("location") {
            Some(next) => {
                let next = next.to_str().unwrap();
                url = reqwest::Url::parse(&url)
                    .unwrap()
                    .join(next)
                    .unwrap()
                    .into();
            }
            None => return url,
        }
    }
    panic!("too many redirects");
}
