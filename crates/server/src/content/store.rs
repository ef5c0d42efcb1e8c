//! Content in the database. Every change runs in a [`FeedTx`], so devices receive it.

use relay_protocol::{ContentState, ContentUpdate, CuratedContent, NewContent};
use sqlx::AnyConnection;

use crate::db::{new_id, now_ms};
use crate::error::ApiError;
use crate::state::AppState;
use crate::sync::version::FeedTx;

use super::{is_live, sanitize, ItemRow};

const MAX_BODY_HTML_BYTES: usize = 200_000;
const MAX_SUGGESTED_TEXTS: usize = 30;
const MAX_AUDIENCE_ENTRIES: usize = 300;

/// Checks and normalises every field of a content item.
async fn validate(
    conn: &mut AnyConnection,
    org_id: &str,
    mut c: NewContent,
) -> Result<NewContent, ApiError> {
    c.title = sanitize::text("title", &c.title, 1, 300)?;
    c.summary = sanitize::text("summary", &c.summary, 0, 2000)?;
    if c.body_html.len() > MAX_BODY_HTML_BYTES {
        return Err(ApiError::bad(format!(
            "body_html is larger than {MAX_BODY_HTML_BYTES} bytes"
        )));
    }
    c.body_html = sanitize::clean_html(&c.body_html);
    c.url = sanitize::web_url("url", &c.url)?;
    c.image_url = match c.image_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(u) => Some(sanitize::web_url("image_url", u)?),
    };
    c.language = sanitize::language("language", &c.language)?;
    if c.suggested_texts.len() > MAX_SUGGESTED_TEXTS {
        return Err(ApiError::bad(format!(
            "at most {MAX_SUGGESTED_TEXTS} suggested texts"
        )));
    }
    for s in &mut c.suggested_texts {
        s.text = sanitize::text("suggested text", &s.text, 1, 3000)?;
        s.language = sanitize::language("suggested text language", &s.language)?;
    }
    let a = &mut c.audience;
    if a.countries.len() + a.languages.len() + a.departments.len() > MAX_AUDIENCE_ENTRIES {
        return Err(ApiError::bad(format!(
            "an audience has at most {MAX_AUDIENCE_ENTRIES} entries"
        )));
    }
    a.countries = a
        .countries
        .iter()
        .map(|v| sanitize::country("audience country", v))
        .collect::<Result<_, _>>()?;
    a.languages = a
        .languages
        .iter()
        .map(|v| sanitize::language("audience language", v))
        .collect::<Result<_, _>>()?;
    a.departments = a
        .departments
        .iter()
        .map(|v| sanitize::text("audience department", v, 1, 100))
        .collect::<Result<_, _>>()?;
    for list in [&mut a.countries, &mut a.languages, &mut a.departments] {
        list.sort();
        list.dedup();
    }
    if let (Some(p), Some(e)) = (c.publish_at, c.expires_at) {
        if e <= p {
            return Err(ApiError::bad("expires_at must be after publish_at"));
        }
    }
    let channel: Option<String> =
        sqlx::query_scalar("SELECT id FROM channels WHERE id = $1 AND org_id = $2")
            .bind(&c.channel_id)
            .bind(org_id)
            .fetch_optional(&mut *conn)
            .await?;
    if channel.is_none() {
        return Err(ApiError::bad(
            "channel_id names no channel of this organisation",
        ));
    }
    Ok(c)
}

async fn fetch(conn: &mut AnyConnection, org_id: &str, id: &str) -> Result<ItemRow, ApiError> {
    let row: Option<ItemRow> = sqlx::query_as(&format!(
        "SELECT {} FROM items WHERE id = $1 AND org_id = $2",
        ItemRow::COLUMNS
    ))
    .bind(id)
    .bind(org_id)
    .fetch_optional(conn)
    .await?;
    row.ok_or(ApiError::NotFound("content item"))
}

/// One item, any state, for curators.
pub async fn get(state: &AppState, org_id: &str, id: &str) -> Result<CuratedContent, ApiError> {
    let mut conn = state.db.read.acquire().await?;
    fetch(&mut conn, org_id, id).await?.to_curated()
}

/// Items of an organisation for curators, newest change first.
pub async fn list(
    state: &AppState,
    org_id: &str,
    filter: Option<ContentState>,
    limit: u32,
    offset: u32,
) -> Result<Vec<CuratedContent>, ApiError> {
    // Two statements rather than `($2 IS NULL OR state = $2)`, which no index serves.
    let (condition, state_value) = match filter {
        Some(s) => ("AND state = $4", s.as_str()),
        None => ("AND $4 = $4", ""),
    };
    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "SELECT {} FROM items WHERE org_id = $1 {condition} \
         ORDER BY updated_at DESC, id DESC LIMIT $2 OFFSET $3",
        ItemRow::COLUMNS
    ))
    .bind(org_id)
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .bind(state_value)
    .fetch_all(&state.db.read)
    .await?;
    rows.iter().map(ItemRow::to_curated).collect()
}

/// Creates a draft.
pub async fn create(
    state: &AppState,
    org_id: &str,
    actor: Option<&str>,
    new: NewContent,
) -> Result<CuratedContent, ApiError> {
    // A draft never reaches devices: the feed does not move and nothing wakes them.
    let mut ftx = FeedTx::begin_quiet(&state.db, org_id).await?;
    let id = insert_draft(&mut ftx, actor, new, None).await?;
    let row = fetch(&mut ftx.tx, org_id, &id).await?;
    ftx.commit(&state.events).await?;
    row.to_curated()
}

/// Checks and writes a new draft in `ftx`, gathered from `source_id` when given; returns its
/// id.
pub async fn insert_draft(
    ftx: &mut FeedTx,
    actor: Option<&str>,
    new: NewContent,
    source_id: Option<&str>,
) -> Result<String, ApiError> {
    let org_id = ftx.org_id.clone();
    let c = validate(&mut ftx.tx, &org_id, new).await?;
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO items (id, org_id, kind, channel_id, title, summary, body_html, url, image_url, \
         language, suggested_texts, audience, state, publish_at, expires_at, created_by, created_at, \
         updated_at, version, canonical_url, source_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $19, $20)",
    )
    .bind(&id)
    .bind(&org_id)
    .bind(c.kind.as_str())
    .bind(&c.channel_id)
    .bind(&c.title)
    .bind(&c.summary)
    .bind(&c.body_html)
    .bind(&c.url)
    .bind(&c.image_url)
    .bind(&c.language)
    .bind(serde_json::to_string(&c.suggested_texts)?)
    .bind(serde_json::to_string(&c.audience)?)
    .bind(ContentState::Draft.as_str())
    .bind(c.publish_at.map(|t| t.timestamp_millis()))
    .bind(c.expires_at.map(|t| t.timestamp_millis()))
    .bind(actor.unwrap_or("cli"))
    .bind(now)
    .bind(ftx.version)
    .bind(canonical_url(&c.url))
    .bind(source_id)
    .execute(&mut *ftx.tx)
    .await?;
    crate::audit::record(
        &mut ftx.tx,
        &org_id,
        actor,
        "content.create",
        &id,
        serde_json::json!({ "title": c.title, "source_id": source_id }),
    )
    .await?;
    Ok(id)
}

/// An address as duplicates are found by: scheme and host in lower case, no fragment, no
/// `utm_*` parameters. The same article reached through two sources (or pasted by hand) has
/// one canonical address.
pub fn canonical_url(url: &str) -> Option<String> {
    let mut u = url::Url::parse(url).ok()?;
    u.set_fragment(None);
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !k.to_ascii_lowercase().starts_with("utm_"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    Some(u.to_string())
}

/// Edits a draft or approved item. Approved items stay approved; devices receive the edit.
pub async fn update(
    state: &AppState,
    org_id: &str,
    actor: Option<&str>,
    id: &str,
    patch: ContentUpdate,
) -> Result<CuratedContent, ApiError> {
    let mut ftx = FeedTx::begin_quiet(&state.db, org_id).await?;
    let row = fetch(&mut ftx.tx, org_id, id).await?;
    let current_state = row.state()?;
    if current_state == ContentState::Retracted {
        return Err(ApiError::Conflict(
            "retracted content cannot be edited".into(),
        ));
    }
    let item = row.to_item()?;
    let merged = NewContent {
        kind: patch.kind.unwrap_or(item.kind),
        channel_id: patch.channel_id.unwrap_or(item.channel_id),
        title: patch.title.unwrap_or(item.title),
        summary: patch.summary.unwrap_or(item.summary),
        body_html: patch.body_html.unwrap_or(item.body_html),
        url: patch.url.unwrap_or(item.url),
        image_url: patch.image_url.unwrap_or(item.image_url),
        language: patch.language.unwrap_or(item.language),
        suggested_texts: patch.suggested_texts.unwrap_or(item.suggested_texts),
        audience: patch.audience.unwrap_or(row.audience()?),
        publish_at: patch.publish_at.or(row.publish_at.map(crate::db::to_time)),
        expires_at: patch.expires_at.unwrap_or(item.expires_at),
    };
    let c = validate(&mut ftx.tx, org_id, merged).await?;
    let now = now_ms();
    let published_at = match current_state {
        ContentState::Approved => c
            .publish_at
            .map(|t| t.timestamp_millis())
            .or(row.approved_at),
        _ => None,
    };
    let expires_at = c.expires_at.map(|t| t.timestamp_millis());
    let live = is_live(current_state, published_at, expires_at, now);
    // Devices see the edit of what they have or now get; a draft's edit stays here.
    if live || row.ever_live != 0 {
        ftx.move_feed().await?;
    }
    sqlx::query(
        "UPDATE items SET kind = $1, channel_id = $2, title = $3, summary = $4, body_html = $5, url = $6, \
         image_url = $7, language = $8, suggested_texts = $9, audience = $10, publish_at = $11, \
         expires_at = $12, published_at = $13, live = $14, ever_live = CASE WHEN $14 = 1 THEN 1 ELSE ever_live END, \
         updated_at = $15, version = $16, canonical_url = $18 WHERE id = $17",
    )
    .bind(c.kind.as_str())
    .bind(&c.channel_id)
    .bind(&c.title)
    .bind(&c.summary)
    .bind(&c.body_html)
    .bind(&c.url)
    .bind(&c.image_url)
    .bind(&c.language)
    .bind(serde_json::to_string(&c.suggested_texts)?)
    .bind(serde_json::to_string(&c.audience)?)
    .bind(c.publish_at.map(|t| t.timestamp_millis()))
    .bind(expires_at)
    .bind(published_at)
    .bind(i64::from(live))
    .bind(now)
    .bind(ftx.version)
    .bind(id)
    .bind(canonical_url(&c.url))
    .execute(&mut *ftx.tx)
    .await?;
    crate::audit::record(
        &mut ftx.tx,
        org_id,
        actor,
        "content.edit",
        id,
        serde_json::json!({ "title": c.title }),
    )
    .await?;
    let row = fetch(&mut ftx.tx, org_id, id).await?;
    ftx.commit(&state.events).await?;
    row.to_curated()
}

/// Approves a draft: it reaches its audience at its publish time (now when it has none).
pub async fn approve(
    state: &AppState,
    org_id: &str,
    actor: Option<&str>,
    id: &str,
) -> Result<CuratedContent, ApiError> {
    let mut ftx = FeedTx::begin_quiet(&state.db, org_id).await?;
    let row = fetch(&mut ftx.tx, org_id, id).await?;
    match row.state()? {
        ContentState::Draft => {}
        ContentState::Approved => {
            return Err(ApiError::Conflict("this item is already approved".into()))
        }
        ContentState::Retracted => {
            return Err(ApiError::Conflict(
                "retracted content cannot be approved".into(),
            ))
        }
    }
    let now = now_ms();
    let published_at = row.publish_at.unwrap_or(now);
    let live = is_live(
        ContentState::Approved,
        Some(published_at),
        row.expires_at,
        now,
    );
    // A scheduled item reaches devices at its time (the clock moves the feed then).
    if live {
        ftx.move_feed().await?;
    }
    sqlx::query(
        "UPDATE items SET state = $1, approved_by = $2, approved_at = $3, published_at = $4, live = $5, \
         ever_live = $5, updated_at = $3, version = $6 WHERE id = $7",
    )
    .bind(ContentState::Approved.as_str())
    .bind(actor.unwrap_or("cli"))
    .bind(now)
    .bind(published_at)
    .bind(i64::from(live))
    .bind(ftx.version)
    .bind(id)
    .execute(&mut *ftx.tx)
    .await?;
    crate::audit::record(
        &mut ftx.tx,
        org_id,
        actor,
        "content.approve",
        id,
        serde_json::json!({ "published_at": crate::db::to_time(published_at) }),
    )
    .await?;
    let row = fetch(&mut ftx.tx, org_id, id).await?;
    ftx.commit(&state.events).await?;
    row.to_curated()
}

/// Withdraws an item (a draft or an approved one) for good. Devices drop it and cancel their
/// queued shares of it, showing `reason`.
pub async fn retract(
    state: &AppState,
    org_id: &str,
    actor: Option<&str>,
    id: &str,
    reason: &str,
) -> Result<CuratedContent, ApiError> {
    let reason = sanitize::text("reason", reason, 0, 500)?;
    let mut ftx = FeedTx::begin_quiet(&state.db, org_id).await?;
    let row = fetch(&mut ftx.tx, org_id, id).await?;
    if row.state()? == ContentState::Retracted {
        return Err(ApiError::Conflict("this item is already retracted".into()));
    }
    // Devices drop what they received; a draft never left the server.
    if row.ever_live != 0 {
        ftx.move_feed().await?;
    }
    sqlx::query(
        "UPDATE items SET state = $1, retracted_reason = $2, live = 0, updated_at = $3, retracted_at = $3, version = $4 WHERE id = $5",
    )
    .bind(ContentState::Retracted.as_str())
    .bind(&reason)
    .bind(now_ms())
    .bind(ftx.version)
    .bind(id)
    .execute(&mut *ftx.tx)
    .await?;
    crate::audit::record(
        &mut ftx.tx,
        org_id,
        actor,
        "content.retract",
        id,
        serde_json::json!({ "reason": reason }),
    )
    .await?;
    let row = fetch(&mut ftx.tx, org_id, id).await?;
    ftx.commit(&state.events).await?;
    row.to_curated()
}

#[cfg(test)]
mod tests {
    use super::canonical_url;

    #[test]
    fn canonical_addresses_drop_tracking_fragments_and_case() {
        assert_eq!(
            canonical_url("HTTPS://Example.COM/News/a?utm_source=x&id=3&UTM_Medium=y#top")
                .as_deref(),
            Some("https://example.com/News/a?id=3")
        );
        assert_eq!(
            canonical_url("https://example.com/a?utm_campaign=z").as_deref(),
            Some("https://example.com/a")
        );
        assert_eq!(canonical_url("not a url"), None);
    }
}
