//! Bluesky accounts as sources: the handle is resolved to its DID (`resolveHandle`), the DID to
//! its document (the PLC directory, or `did:web`), the document to the account's PDS, and the
//! author's posts are read from that PDS with `com.atproto.repo.listRecords`, as any client
//! may. Resolved when the source is added.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::fetch::{Expect, Fetched};
use super::parse::{first_words, Entry};
use super::SourcesConfig;
use crate::error::ApiError;
use crate::state::AppState;

/// Posts read per poll (the newest).
const PAGE: u32 = 50;

/// `@handle` (or a DID) as the source's address, and the `listRecords` URL of its posts.
pub async fn resolve(state: &AppState, address: &str) -> Result<(String, String), ApiError> {
    let config: &SourcesConfig = &state.config.sources;
    let handle = address.trim().trim_start_matches('@').to_ascii_lowercase();
    let is_did = handle.starts_with("did:plc:") || handle.starts_with("did:web:");
    let valid_handle = handle.len() <= 253
        && handle.contains('.')
        && handle.split('.').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !is_did && !valid_handle {
        return Err(ApiError::bad(
            "a Bluesky source is a handle such as @company.bsky.social (or a DID)",
        ));
    }
    let failed = |what: &str, e: String| {
        ApiError::bad(format!(
            "could not resolve the Bluesky account {handle}: {what}: {e}"
        ))
    };
    let did = if is_did {
        handle.clone()
    } else {
        let url = format!(
            "{}/xrpc/com.atproto.identity.resolveHandle?handle={handle}",
            config.bluesky_resolver.trim_end_matches('/')
        );
        let answer = json(state, &url)
            .await
            .map_err(|e| failed("its handle", e))?;
        answer["did"]
            .as_str()
            .filter(|d| d.starts_with("did:"))
            .ok_or_else(|| failed("its handle", "no DID in the answer".into()))?
            .to_owned()
    };
    let pds = pds_of(state, &did)
        .await
        .map_err(|(what, e)| failed(what, e))?;
    let address = if is_did {
        did.clone()
    } else {
        format!("@{handle}")
    };
    Ok((
        address,
        format!(
            "{}/xrpc/com.atproto.repo.listRecords?repo={did}&collection=app.bsky.feed.post&limit={PAGE}",
            pds.trim_end_matches('/')
        ),
    ))
}

/// The PDS an account's posts live on, from its DID document (the PLC directory's, or
/// `did:web`'s own). The error says which step failed.
pub async fn pds_of(state: &AppState, did: &str) -> Result<String, (&'static str, String)> {
    let config: &SourcesConfig = &state.config.sources;
    let doc_url = if let Some(host) = did.strip_prefix("did:web:") {
        format!("https://{host}/.well-known/did.json")
    } else if did.starts_with("did:plc:") {
        format!("{}/{did}", config.plc_directory.trim_end_matches('/'))
    } else {
        return Err(("its DID", format!("{did} is not did:plc or did:web")));
    };
    let doc = json(state, &doc_url)
        .await
        .map_err(|e| ("its DID document", e))?;
    doc["service"]
        .as_array()
        .and_then(|services| {
            services.iter().find_map(|s| {
                let id = s["id"].as_str()?;
                (id == "#atproto_pds" || id.ends_with("#atproto_pds"))
                    .then(|| s["serviceEndpoint"].as_str())
                    .flatten()
            })
        })
        .map(|pds| pds.trim_end_matches('/').to_owned())
        .ok_or(("its DID document", "no PDS in it".into()))
}

pub async fn json(state: &AppState, url: &str) -> Result<Value, String> {
    match state
        .fetcher
        .get(url, Expect::Json, None, None)
        .await
        .map_err(|e| e.to_string())?
    {
        Fetched::Body(body) => serde_json::from_slice(&body.bytes).map_err(|e| e.to_string()),
        Fetched::NotModified => Err("answered 304 to an unconditional request".into()),
    }
}

/// An account's posts from `listRecords`, newest first. A post's article is its link card's
/// address, else its first link; a post without one links to itself on bsky.app.
pub fn posts(bytes: &[u8], address: &str) -> Result<Vec<Entry>, String> {
    let listing: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not a record listing: {e}"))?;
    let records = listing["records"]
        .as_array()
        .ok_or("not a record listing: no records")?;
    let profile = address.trim_start_matches('@');
    let mut entries = Vec::new();
    for record in records {
        let (Some(uri), value) = (record["uri"].as_str(), &record["value"]) else {
            continue;
        };
        let text = value["text"].as_str().unwrap_or_default();
        let rkey = uri.rsplit('/').next().unwrap_or_default();
        let external = &value["embed"]["external"];
        let link = external["uri"].as_str().map(str::to_owned).or_else(|| {
            value["facets"].as_array()?.iter().find_map(|facet| {
                facet["features"].as_array()?.iter().find_map(|f| {
                    (f["$type"] == "app.bsky.richtext.facet#link")
                        .then(|| f["uri"].as_str().map(str::to_owned))
                        .flatten()
                })
            })
        });
        let title = external["title"]
            .as_str()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| first_words(text, 80));
        if title.is_empty() {
            continue;
        }
        let summary = external["description"]
            .as_str()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or(text);
        entries.push(Entry {
            id: uri.to_owned(),
            title,
            summary: first_words(summary, 600),
            body_html: format!("<p>{}</p>", ammonia::clean_text(text)),
            url: Some(
                link.unwrap_or_else(|| format!("https://bsky.app/profile/{profile}/post/{rkey}")),
            ),
            image_url: None,
            language: value["langs"][0].as_str().map(str::to_owned),
            published: value["createdAt"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
        });
    }
    let now = Utc::now();
    entries.sort_by_key(|e| std::cmp::Reverse(e.published.map(|p| p.min(now))));
    Ok(entries)
}
