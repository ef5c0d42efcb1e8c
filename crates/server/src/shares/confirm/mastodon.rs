//! A Mastodon status read as anyone may: `GET /api/v1/statuses/{id}` on the account's own
//! server, public or unlisted, by one of that server's own accounts (a server also shows copies
//! of other servers' statuses: those are not this account's), with its follower count.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::judge::{Post, ReadError};
use crate::sources::fetch::{Expect, FetchError, Fetched};
use crate::state::AppState;

pub async fn read(state: &AppState, host: &str, id: &str) -> Result<Post, ReadError> {
    let url = format!(
        "{}://{host}/api/v1/statuses/{id}",
        state.config.sources.instance_scheme
    );
    let status: Value = match state.fetcher.get(&url, Expect::Json, None, None).await {
        Ok(Fetched::Body(body)) => serde_json::from_slice(&body.bytes)
            .map_err(|e| ReadError::Unreadable(format!("not a status: {e}")))?,
        Ok(Fetched::NotModified) => return Err(ReadError::Unreadable("answered 304".into())),
        Err(FetchError::Status { status: 404, .. }) => return Err(ReadError::NotFound),
        Err(e) => return Err(ReadError::Unreadable(e.to_string())),
    };
    let acct = status["account"]["acct"]
        .as_str()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ReadError::Unreadable("the status has no account".into()))?;
    if acct.contains('@') {
        // Another server's status as this one knows it: not a post of this server's account.
        return Err(ReadError::NotFound);
    }
    let created_at: DateTime<Utc> = status["created_at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ReadError::Unreadable("the status has no creation time".into()))?;
    let content = status["content"].as_str().unwrap_or_default();
    let mut links = hrefs(content);
    if let Some(card) = status["card"]["url"].as_str() {
        links.push(card.to_owned());
    }
    Ok(Post {
        account_key: format!(
            "{}@{}",
            acct.to_ascii_lowercase(),
            host.to_ascii_lowercase()
        ),
        created_at,
        public: matches!(status["visibility"].as_str(), Some("public" | "unlisted")),
        links,
        text: ammonia::Builder::empty()
            .clean(content)
            .to_string()
            .replace("&amp;", "&"),
        followers: status["account"]["followers_count"].as_u64(),
    })
}

/// The `href`s of a status's HTML (Mastodon writes them double-quoted, entities escaped).
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_are_read_from_the_status_html() {
        let html = r#"<p>Worth a read <a href="https://relay.example/l/abc" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span>relay.example/l/abc</a> and <a href="https://x.example/?a=1&amp;b=2">x</a></p>"#;
        assert_eq!(
            super::hrefs(html),
            vec!["https://relay.example/l/abc", "https://x.example/?a=1&b=2"]
        );
    }
}
