//! Curated content: drafts, approval, retraction, the publication clock, and what employees see.

pub mod cli;
pub mod clock;
pub mod purge;
mod routes;
pub mod sanitize;
pub mod store;

pub use routes::router;

use relay_protocol::{Audience, ContentKind, ContentState, CuratedContent, Item, SuggestedText};

use crate::db::to_time;
use crate::error::ApiError;

/// A row of `items`, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub channel_id: String,
    pub title: String,
    pub summary: String,
    pub body_html: String,
    pub url: String,
    pub image_url: Option<String>,
    pub language: String,
    pub suggested_texts: String,
    pub audience: String,
    pub state: String,
    pub publish_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub published_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
    pub retracted_reason: Option<String>,
    pub live: i64,
    /// Whether devices ever received it (once live, always 1).
    pub ever_live: i64,
    pub version: i64,
    /// The source it was gathered from (none: written by hand).
    pub source_id: Option<String>,
}

impl ItemRow {
    pub const COLUMNS: &'static str = "id, org_id, kind, channel_id, title, summary, body_html, url, \
        image_url, language, suggested_texts, audience, state, publish_at, expires_at, published_at, \
        created_by, created_at, updated_at, approved_by, approved_at, retracted_reason, live, ever_live, version, source_id";

    pub fn audience(&self) -> Result<Audience, ApiError> {
        Ok(serde_json::from_str(&self.audience)?)
    }

    pub fn state(&self) -> Result<ContentState, ApiError> {
        self.state
            .parse()
            .map_err(|e: relay_protocol::UnknownVariant| ApiError::Internal(e.into()))
    }

    /// The item as employees receive it.
    pub fn to_item(&self) -> Result<Item, ApiError> {
        let kind: ContentKind = self
            .kind
            .parse()
            .map_err(|e: relay_protocol::UnknownVariant| ApiError::Internal(e.into()))?;
        let suggested_texts: Vec<SuggestedText> = serde_json::from_str(&self.suggested_texts)?;
        Ok(Item {
            id: self.id.clone(),
            kind,
            channel_id: self.channel_id.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            body_html: self.body_html.clone(),
            url: self.url.clone(),
            image_url: self.image_url.clone(),
            language: self.language.clone(),
            suggested_texts,
            published_at: to_time(
                self.published_at
                    .or(self.publish_at)
                    .unwrap_or(self.created_at),
            ),
            expires_at: self.expires_at.map(to_time),
            updated_at: to_time(self.updated_at),
            version: self.version,
        })
    }

    /// The item as curators see it.
    pub fn to_curated(&self) -> Result<CuratedContent, ApiError> {
        Ok(CuratedContent {
            item: self.to_item()?,
            state: self.state()?,
            audience: self.audience()?,
            publish_at: self.publish_at.map(to_time),
            created_by: self.created_by.clone(),
            created_at: to_time(self.created_at),
            approved_by: self.approved_by.clone(),
            approved_at: self.approved_at.map(to_time),
            retracted_reason: self.retracted_reason.clone(),
            live: self.live != 0,
            source_id: self.source_id.clone(),
        })
    }
}

/// Whether approved content with these times reaches employees at `now`.
pub fn is_live(
    state: ContentState,
    published_at: Option<i64>,
    expires_at: Option<i64>,
    now: i64,
) -> bool {
    state == ContentState::Approved
        && published_at.is_some_and(|p| p <= now)
        && expires_at.is_none_or(|e| e > now)
}

/// An item a person was offered: published at some point and meant for their audience.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Offered {
    pub id: String,
    pub url: String,
    pub channel_slug: String,
    pub audience: String,
    pub published_at: Option<i64>,
    /// When it was retracted, and when it expires: shares after either do not score, and it
    /// gets no new tracked links.
    pub retracted_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// The organisation's time zone (the programme's calendar), read in the same lookup.
    pub time_zone: String,
}

impl Offered {
    /// Whether the item was still offered at `at` (Unix ms): not retracted, not expired.
    pub fn still_offered_at(&self, at: i64) -> bool {
        self.retracted_at.is_none_or(|r| at < r) && self.expires_at.is_none_or(|e| at < e)
    }
}

/// The item `item_id` as offered to `caller`, or a refusal saying why it cannot be shared.
/// Items retracted since still count: what went out while they were live happened.
pub async fn offered(
    conn: &mut sqlx::AnyConnection,
    caller: &crate::auth::Caller,
    item_id: &str,
) -> Result<Offered, ApiError> {
    let item: Option<Offered> = sqlx::query_as(
        "SELECT i.id, i.url, c.slug AS channel_slug, i.audience, i.published_at, i.retracted_at, \
         i.expires_at, o.time_zone \
         FROM items i JOIN channels c ON c.id = i.channel_id JOIN orgs o ON o.id = i.org_id \
         WHERE i.id = $1 AND i.org_id = $2 AND i.ever_live = 1",
    )
    .bind(item_id)
    .bind(&caller.org_id)
    .fetch_optional(&mut *conn)
    .await?;
    let item =
        item.ok_or_else(|| ApiError::bad("item_id names no published item of this organisation"))?;
    let audience: Audience = serde_json::from_str(&item.audience)?;
    if !audience.includes(&caller.country, &caller.language, &caller.department) {
        return Err(ApiError::bad("this item was never offered to you"));
    }
    Ok(item)
}
