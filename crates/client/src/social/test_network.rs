//! The HTTP test network: a small documented contract used to exercise the outbox (and the
//! app's end-to-end tests) without a real social network.

use std::time::Duration;

use futures::future::BoxFuture;
use serde::Serialize;

use super::{classify, transient, Outgoing, PostError, Posted, SocialNetwork};
use crate::store::Account;

/// A test network over HTTP, at the account's `base_url`:
/// - `POST /posts` with `Authorization: Bearer <token>`, `Idempotency-Key: <share id>` and
///   `{"text", "url"}` answers `{"id", "url"}` (the same post again for a repeated key);
/// - `GET /posts/by-key/<share id>` answers the post or 404;
/// - 401 means the token is bad, 429 with `Retry-After` asks to wait, other 4xx refuse.
pub struct HttpTestNetwork {
    http: reqwest::Client,
}

#[derive(Serialize)]
struct TestPost<'a> {
    text: &'a str,
    url: &'a str,
}

impl HttpTestNetwork {
    pub fn new(http: reqwest::Client) -> HttpTestNetwork {
        HttpTestNetwork { http }
    }

    fn base(account: &Account) -> Result<&str, PostError> {
        account
            .base_url
            .as_deref()
            .map(|b| b.trim_end_matches('/'))
            .ok_or_else(|| PostError::Rejected("the account has no server".into()))
    }
}

impl SocialNetwork for HttpTestNetwork {
    fn post<'a>(&'a self, out: &'a Outgoing<'a>) -> BoxFuture<'a, Result<Posted, PostError>> {
        Box::pin(async move {
            let (base, share) = (Self::base(out.account)?, out.share);
            let token = out.credentials.get()?;
            let response = self
                .http
                .post(format!("{base}/posts"))
                .bearer_auth(token.unwrap_or_default())
                .header("Idempotency-Key", &share.id)
                .json(&TestPost {
                    text: &share.text,
                    url: &share.item_url,
                })
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .map_err(transient)?;
            classify(response, None)
                .await?
                .json()
                .await
                .map_err(transient)
        })
    }

    fn exists<'a>(
        &'a self,
        out: &'a Outgoing<'a>,
        _post_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<bool>, PostError>> {
        Box::pin(async move {
            let (base, share) = (Self::base(out.account)?, out.share);
            let token = out.credentials.get()?;
            let response = self
                .http
                .get(format!("{base}/posts/by-key/{}", share.id))
                .bearer_auth(token.unwrap_or_default())
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .map_err(transient)?;
            super::existence(response).await
        })
    }

    fn find<'a>(
        &'a self,
        out: &'a Outgoing<'a>,
    ) -> BoxFuture<'a, Result<Option<Posted>, PostError>> {
        Box::pin(async move {
            let (base, share) = (Self::base(out.account)?, out.share);
            let token = out.credentials.get()?;
            let response = self
                .http
                .get(format!("{base}/posts/by-key/{}", share.id))
                .bearer_auth(token.unwrap_or_default())
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .map_err(transient)?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            Ok(Some(
                classify(response, None)
                    .await?
                    .json()
                    .await
                    .map_err(transient)?,
            ))
        })
    }
}
