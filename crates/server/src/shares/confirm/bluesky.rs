//! A Bluesky post read as anyone may: its DID resolved to its PDS (the PLC directory or
//! `did:web`), the record read with `com.atproto.repo.getRecord`, the account's follower count
//! from the AppView's public profile.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::judge::{Post, ReadError};
use crate::shares::posts::{AtUri, POST_COLLECTION};
use crate::sources::bluesky::{json, pds_of};
use crate::sources::fetch::{Expect, FetchError, Fetched};
use crate::state::AppState;

pub async fn read(state: &AppState, post_id: &str) -> Result<Post, ReadError> {
    let uri = AtUri::parse(post_id)
        .ok_or_else(|| ReadError::Unreadable("not an at:// post address".into()))?;
    let pds = pds_of(state, &uri.did)
        .await
        .map_err(|(what, e)| ReadError::Unreadable(format!("{what}: {e}")))?;
    let url = format!(
        "{pds}/xrpc/com.atproto.repo.getRecord?repo={}&collection={POST_COLLECTION}&rkey={}",
        uri.did, uri.rkey
    );
    let record: Value = match state.fetcher.get(&url, Expect::Json, None, None).await {
        Ok(Fetched::Body(body)) => serde_json::from_slice(&body.bytes)
            .map_err(|e| ReadError::Unreadable(format!("not a record: {e}")))?,
        Ok(Fetched::NotModified) => return Err(ReadError::Unreadable("answered 304".into())),
        // `RecordNotFound` (or the repository gone): the PDS answers 400.
        Err(FetchError::Status {
            status: 400 | 404, ..
        }) => return Err(ReadError::NotFound),
        Err(e) => return Err(ReadError::Unreadable(e.to_string())),
    };
    let value = &record["value"];
    let created_at: DateTime<Utc> = value["createdAt"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ReadError::Unreadable("the post has no creation time".into()))?;
    let mut links: Vec<String> = Vec::new();
    for facet in value["facets"].as_array().into_iter().flatten() {
        for feature in facet["features"].as_array().into_iter().flatten() {
            if let Some(uri) = feature["uri"].as_str() {
                links.push(uri.to_owned());
            }
        }
    }
    for external in [
        &value["embed"]["external"],
        &value["embed"]["media"]["external"],
    ] {
        if let Some(uri) = external["uri"].as_str() {
            links.push(uri.to_owned());
        }
    }
    let profile = format!(
        "{}/xrpc/app.bsky.actor.getProfile?actor={}",
        state.config.sources.bluesky_appview.trim_end_matches('/'),
        uri.did
    );
    let followers = json(state, &profile)
        .await
        .ok()
        .and_then(|p| p["followersCount"].as_u64());
    Ok(Post {
        account_key: uri.did,
        created_at,
        // Every Bluesky post is public.
        public: true,
        links,
        text: value["text"].as_str().unwrap_or_default().to_owned(),
        followers,
    })
}
