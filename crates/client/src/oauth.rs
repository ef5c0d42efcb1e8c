//! OAuth 2.0 for native apps (RFC 8252): the system browser opens the authorization page; the
//! redirect comes back to a loopback listener on 127.0.0.1 with an ephemeral port; `state` and
//! PKCE (S256) are checked; tokens are exchanged and refreshed with the `oauth2` crate. Tokens
//! go to the caller (who keeps them in the keychain) and never into a log line or an error.

use std::time::Duration;

use chrono::{DateTime, Utc};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// An authorization server, as a network (or the company's identity provider) publishes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoints {
    pub authorize_url: String,
    pub token_url: String,
    /// RFC 7009 revocation, where the provider has it.
    pub revoke_url: Option<String>,
    pub client_id: String,
    /// Public clients have none (PKCE protects the code); a per-device registration (Mastodon)
    /// has its own, kept in the keychain with the tokens.
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
    /// Extra authorization parameters (`prompt=consent` for refresh tokens on some servers).
    pub extra: Vec<(String, String)>,
}

impl Endpoints {
    /// A provider this device only sends to its sign-in page: the company's server exchanges
    /// the code (it holds the client secret, or checks the ID token itself), so the device
    /// never calls a token endpoint.
    pub fn sign_in_page_only(
        authorize_url: String,
        client_id: String,
        scopes: Vec<String>,
        extra: Vec<(String, String)>,
    ) -> Endpoints {
        Endpoints {
            // Never called (the `oauth2` client needs one).
            token_url: authorize_url.clone(),
            authorize_url,
            revoke_url: None,
            client_id,
            client_secret: None,
            scopes,
            extra,
        }
    }
}

/// Tokens of one account or session.
#[derive(Clone, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Whether the access token is within `margin` of its expiry.
    pub fn expires_within(&self, margin: Duration) -> bool {
        self.expires_at.is_some_and(|at| {
            at - chrono::Duration::from_std(margin).unwrap_or_default() <= Utc::now()
        })
    }
}

/// What can go wrong, in words for the person (no token, no code in any of them).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OAuthError {
    #[error("the sign-in page answered with an error: {0}")]
    Denied(String),
    #[error("the sign-in answer did not match this request (state mismatch); try again")]
    StateMismatch,
    #[error("the sign-in was not finished in time")]
    TimedOut,
    #[error("the provider refused the sign-in: {0}")]
    Refused(String),
    #[error("could not reach the provider: {0}")]
    Unreachable(String),
    #[error("the provider's settings are not valid: {0}")]
    Config(String),
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn client(endpoints: &Endpoints, redirect: Option<&str>) -> Result<Client, OAuthError> {
    let bad = |e: oauth2::url::ParseError| OAuthError::Config(e.to_string());
    let mut client = BasicClient::new(ClientId::new(endpoints.client_id.clone()))
        .set_auth_uri(AuthUrl::new(endpoints.authorize_url.clone()).map_err(bad)?)
        .set_token_uri(TokenUrl::new(endpoints.token_url.clone()).map_err(bad)?);
    if let Some(redirect) = redirect {
        client = client.set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(bad)?);
    }
    if let Some(secret) = &endpoints.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    Ok(client)
}

/// The HTTP client for token requests: no redirects (a token endpoint that redirects is an
/// attack, not a feature).
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

fn token_error<RE: std::error::Error + 'static>(
    e: oauth2::RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> OAuthError {
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => OAuthError::Refused(
            r.error_description()
                .cloned()
                .unwrap_or_else(|| r.error().to_string()),
        ),
        oauth2::RequestTokenError::Request(e) => OAuthError::Unreachable(e.to_string()),
        other => OAuthError::Refused(other.to_string()),
    }
}

fn tokens(answer: &oauth2::basic::BasicTokenResponse, previous_refresh: Option<&str>) -> Tokens {
    Tokens {
        access_token: answer.access_token().secret().clone(),
        // Servers that do not rotate refresh tokens answer none: keep the one we had.
        refresh_token: answer
            .refresh_token()
            .map(|r| r.secret().clone())
            .or_else(|| previous_refresh.map(str::to_owned)),
        expires_at: answer
            .expires_in()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| Utc::now() + d),
    }
}

/// A started authorization: open [`Authorization::url`] in the browser, then
/// [`Authorization::finish`] waits for the redirect.
pub struct Authorization {
    pub url: String,
    /// `http://127.0.0.1:<port>/callback`.
    pub redirect_uri: String,
    listener: TcpListener,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
    endpoints: Endpoints,
}

/// The code the browser brought back, with what exchanging it needs. Used as is where another
/// party exchanges it (the central server for company sign-in, or for LinkedIn's secret).
pub struct Callback {
    pub code: String,
    pub code_verifier: String,
    pub redirect_uri: String,
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// A loopback port of the OS's choosing, listening before anyone is sent to it. Providers that
/// need the exact redirect URI registered first (Mastodon) read [`Loopback::redirect_uri`].
pub struct Loopback {
    listener: TcpListener,
    port: u16,
    pub redirect_uri: String,
}

impl Loopback {
    pub async fn bind() -> Result<Loopback, OAuthError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| OAuthError::Unreachable(format!("no loopback port: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| OAuthError::Unreachable(e.to_string()))?
            .port();
        Ok(Loopback {
            listener,
            port,
            redirect_uri: format!("http://127.0.0.1:{port}/callback"),
        })
    }
}

impl Authorization {
    /// Listens on a loopback port of the OS's choosing and builds the authorization URL (PKCE
    /// S256, a random `state`, the endpoints' scopes and extra parameters).
    pub async fn start(endpoints: &Endpoints) -> Result<Authorization, OAuthError> {
        Authorization::start_on(Loopback::bind().await?, endpoints)
    }

    /// The same, on a loopback already bound.
    pub fn start_on(
        loopback: Loopback,
        endpoints: &Endpoints,
    ) -> Result<Authorization, OAuthError> {
        let redirect_uri = loopback.redirect_uri.clone();
        Authorization::begin(loopback, endpoints, redirect_uri, CsrfToken::new_random)
    }

    /// For providers that accept only registered redirect URLs (LinkedIn): the provider sends
    /// the browser to `relay_uri`, a fixed page of the company's server, which forwards it to
    /// this device's loopback. The loopback's port travels in `state` (`<port>.<random>`).
    pub async fn start_relayed(
        endpoints: &Endpoints,
        relay_uri: &str,
    ) -> Result<Authorization, OAuthError> {
        let loopback = Loopback::bind().await?;
        let port = loopback.port;
        Authorization::begin(loopback, endpoints, relay_uri.to_owned(), move || {
            CsrfToken::new(format!("{port}.{}", CsrfToken::new_random().secret()))
        })
    }

    fn begin(
        loopback: Loopback,
        endpoints: &Endpoints,
        redirect_uri: String,
        state: impl FnOnce() -> CsrfToken,
    ) -> Result<Authorization, OAuthError> {
        let listener = loopback.listener;
        let client = client(endpoints, Some(&redirect_uri))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(state).set_pkce_challenge(challenge);
        for scope in &endpoints.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        for (name, value) in &endpoints.extra {
            request = request.add_extra_param(name.clone(), value.clone());
        }
        let (url, state) = request.url();
        Ok(Authorization {
            url: url.to_string(),
            redirect_uri,
            listener,
            state,
            verifier,
            endpoints: endpoints.clone(),
        })
    }

    /// Waits (up to `patience`) for the browser to come back with a code for this request.
    pub async fn callback(self, patience: Duration) -> Result<Callback, OAuthError> {
        let code = tokio::time::timeout(patience, wait_for_code(&self.listener, &self.state))
            .await
            .map_err(|_| OAuthError::TimedOut)??;
        Ok(Callback {
            code,
            code_verifier: self.verifier.secret().clone(),
            redirect_uri: self.redirect_uri,
        })
    }

    /// Waits for the code and exchanges it (with the PKCE verifier) for tokens.
    pub async fn finish(self, patience: Duration) -> Result<Tokens, OAuthError> {
        let endpoints = self.endpoints.clone();
        let callback = self.callback(patience).await?;
        exchange(&endpoints, &callback).await
    }
}

/// Exchanges an authorization code for tokens.
pub async fn exchange(endpoints: &Endpoints, callback: &Callback) -> Result<Tokens, OAuthError> {
    let client = client(endpoints, Some(&callback.redirect_uri))?;
    let answer = client
        .exchange_code(AuthorizationCode::new(callback.code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new(callback.code_verifier.clone()))
        .request_async(&http())
        .await
        .map_err(token_error)?;
    Ok(tokens(&answer, None))
}

/// New tokens from a refresh token. Refresh tokens may rotate: store the answer before using
/// it, and never refresh one account twice at once.
pub async fn refresh(endpoints: &Endpoints, refresh_token: &str) -> Result<Tokens, OAuthError> {
    let client = client(endpoints, None)?;
    let answer = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.to_owned()))
        .request_async(&http())
        .await
        .map_err(token_error)?;
    Ok(tokens(&answer, Some(refresh_token)))
}

/// Revokes a token (RFC 7009) where the provider offers it; elsewhere does nothing.
pub async fn revoke(endpoints: &Endpoints, token: &str, hint: &str) -> Result<(), OAuthError> {
    let Some(url) = &endpoints.revoke_url else {
        return Ok(());
    };
    let mut form = vec![
        ("token", token),
        ("token_type_hint", hint),
        ("client_id", endpoints.client_id.as_str()),
    ];
    if let Some(secret) = &endpoints.client_secret {
        form.push(("client_secret", secret.as_str()));
    }
    let response = http()
        .post(url)
        .form(&form)
        .send()
        .await
        .map_err(|e| OAuthError::Unreachable(e.without_url().to_string()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(OAuthError::Refused(format!(
            "revocation answered {}",
            response.status()
        )))
    }
}

/// Serves the loopback redirect until a request to `/callback` arrives, and answers the
/// browser with a page saying it can go back to Relay.
async fn wait_for_code(listener: &TcpListener, state: &CsrfToken) -> Result<String, OAuthError> {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let mut buffer = vec![0u8; 8192];
        let mut read = 0;
        // The request line and headers; a redirect has no body.
        while read < buffer.len() {
            match stream.read(&mut buffer[read..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
            if buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let request = String::from_utf8_lossy(&buffer[..read]);
        let target = request
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("GET "))
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or("");
        let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
            continue;
        };
        if url.path() != "/callback" {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let outcome = if param("state").as_deref() != Some(state.secret().as_str()) {
            Err(OAuthError::StateMismatch)
        } else if let Some(error) = param("error") {
            Err(OAuthError::Denied(
                param("error_description").unwrap_or(error),
            ))
        } else {
            param("code").ok_or_else(|| OAuthError::Denied("no code in the answer".into()))
        };
        let (title, line) = match &outcome {
            Ok(_) => ("Signed in", "You can close this tab and go back to Relay."),
            Err(_) => (
                "Sign-in failed",
                "Go back to Relay to see why and try again.",
            ),
        };
        let body = format!(
            "<!doctype html><meta charset=utf-8><title>{title}</title><h1>{title}</h1><p>{line}</p>"
        );
        let _ = stream
            .write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .await;
        // A forged or stale redirect (wrong state) does not end the wait for the real one.
        match outcome {
            Err(OAuthError::StateMismatch) => {
                tracing::warn!("a sign-in redirect with the wrong state was ignored");
                continue;
            }
            other => return other,
        }
    }
}
