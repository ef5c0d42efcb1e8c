//! Sources: the company's official accounts and feeds. Curators add them with a target channel;
//! the poller fetches each on its interval (conditionally, with backoff on errors) and their new
//! entries become drafts in the inbox, or published items for a source set to publish directly.

pub mod bluesky;
pub mod cli;
pub mod fetch;
pub mod ingest;
pub mod parse;
mod poll;
pub mod poller;
mod routes;
pub mod settings;

use relay_protocol::{NewSource, Source, SourceHealth, SourceKind, SourceUpdate};

use crate::db::{new_id, now_ms, to_time};
use crate::error::ApiError;
use crate::state::AppState;
pub use settings::SourcesConfig;

pub use poll::{backoff_secs, poll};
pub use routes::router;

/// Minutes between polls: the default, and the bounds a curator may set.
pub const DEFAULT_INTERVAL_MINUTES: u32 = 15;
const MIN_INTERVAL_MINUTES: u32 = 5;
const MAX_INTERVAL_MINUTES: u32 = 24 * 60;
/// Failing this long, a source is flagged.
pub const FLAG_AFTER_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SourceRow {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub address: String,
    pub fetch_url: String,
    pub channel_id: String,
    pub auto_publish: i64,
    pub interval_secs: i64,
    pub paused: i64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_poll_at: i64,
    pub failures: i64,
    pub last_fetch_at: Option<i64>,
    pub last_new_entry_at: Option<i64>,
    pub last_error: Option<String>,
    pub failing_since: Option<i64>,
    pub entries: i64,
    pub created_at: i64,
}

impl SourceRow {
    pub const COLUMNS: &'static str = "id, org_id, kind, address, fetch_url, channel_id, \
        auto_publish, interval_secs, paused, etag, last_modified, next_poll_at, failures, \
        last_fetch_at, last_new_entry_at, last_error, failing_since, entries, created_at";

    fn kind(&self) -> Result<SourceKind, ApiError> {
        self.kind
            .parse()
            .map_err(|e: relay_protocol::UnknownVariant| ApiError::Internal(e.into()))
    }

    pub fn to_source(&self) -> Result<Source, ApiError> {
        Ok(Source {
            id: self.id.clone(),
            kind: self.kind()?,
            address: self.address.clone(),
            fetch_url: self.fetch_url.clone(),
            channel_id: self.channel_id.clone(),
            auto_publish: self.auto_publish != 0,
            interval_minutes: u32::try_from(self.interval_secs / 60).unwrap_or(u32::MAX),
            paused: self.paused != 0,
            health: SourceHealth {
                last_fetch_at: self.last_fetch_at.map(to_time),
                last_new_entry_at: self.last_new_entry_at.map(to_time),
                last_error: self.last_error.clone(),
                failing_since: self.failing_since.map(to_time),
                flagged: self
                    .failing_since
                    .is_some_and(|since| now_ms() - since >= FLAG_AFTER_MS),
                entries: self.entries,
                next_poll_at: (self.paused == 0).then(|| to_time(self.next_poll_at)),
            },
            created_at: to_time(self.created_at),
        })
    }
}

/// What a curator typed, as the source's address and the URL the server fetches.
pub fn resolve_address(
    config: &SourcesConfig,
    kind: SourceKind,
    address: &str,
) -> Result<(String, String), ApiError> {
    let address = address.trim();
    if address.is_empty() || address.len() > 2000 {
        return Err(ApiError::bad("address must be 1 to 2000 characters"));
    }
    let web = |a: &str| crate::content::sanitize::web_url("address", a);
    match kind {
        SourceKind::Feed | SourceKind::Page => {
            let url = web(address)?;
            Ok((url.clone(), url))
        }
        SourceKind::Youtube => {
            // A channel id, or a channel URL ending in one (`/channel/UC...`).
            let id = address
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            let id = id.split(['?', '#']).next().unwrap_or_default();
            let valid = id.len() == 24
                && id.starts_with("UC")
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return Err(ApiError::bad(
                    "a YouTube source is a channel id (UC followed by 22 characters) or a URL ending in one",
                ));
            }
            Ok((
                id.to_owned(),
                format!(
                    "{}/feeds/videos.xml?channel_id={id}",
                    config.youtube_base.trim_end_matches('/')
                ),
            ))
        }
        SourceKind::Mastodon => {
            // `@name@instance`, `name@instance` or the profile URL `https://instance/@name`.
            let (name, host) = if let Some(rest) = address
                .strip_prefix("https://")
                .or_else(|| address.strip_prefix("http://"))
            {
                let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
                (path.trim_start_matches('@').trim_end_matches('/'), host)
            } else {
                address
                    .trim_start_matches('@')
                    .split_once('@')
                    .ok_or_else(|| ApiError::bad("a Mastodon source is @name@instance"))?
            };
            let host = host.to_ascii_lowercase();
            let name_ok = !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            let url = web(&format!("{}://{host}/@{name}.rss", config.instance_scheme))?;
            if !name_ok {
                return Err(ApiError::bad("a Mastodon source is @name@instance"));
            }
            Ok((format!("@{name}@{host}"), url))
        }
        SourceKind::Bluesky => Err(ApiError::bad(
            "a Bluesky handle is resolved over the network: use resolve",
        )),
    }
}

/// What a curator typed, resolved: over the network for a Bluesky handle.
async fn resolve(
    state: &AppState,
    kind: SourceKind,
    address: &str,
) -> Result<(String, String), ApiError> {
    match kind {
        SourceKind::Bluesky => bluesky::resolve(state, address).await,
        _ => resolve_address(&state.config.sources, kind, address),
    }
}

fn interval_secs(minutes: Option<u32>) -> Result<i64, ApiError> {
    let minutes = minutes.unwrap_or(DEFAULT_INTERVAL_MINUTES);
    if !(MIN_INTERVAL_MINUTES..=MAX_INTERVAL_MINUTES).contains(&minutes) {
        return Err(ApiError::bad(format!(
            "interval_minutes must be {MIN_INTERVAL_MINUTES} to {MAX_INTERVAL_MINUTES}"
        )));
    }
    Ok(i64::from(minutes) * 60)
}

async fn check_channel(
    conn: &mut sqlx::AnyConnection,
    org_id: &str,
    channel_id: &str,
) -> Result<(), ApiError> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM channels WHERE id = $1 AND org_id = $2")
            .bind(channel_id)
            .bind(org_id)
            .fetch_optional(&mut *conn)
            .await?;
    found
        .map(|_| ())
        .ok_or_else(|| ApiError::bad("channel_id names no channel of this organisation"))
}

pub async fn get(state: &AppState, org_id: &str, id: &str) -> Result<SourceRow, ApiError> {
    let row: Option<SourceRow> = sqlx::query_as(&format!(
        "SELECT {} FROM sources WHERE id = $1 AND org_id = $2",
        SourceRow::COLUMNS
    ))
    .bind(id)
    .bind(org_id)
    .fetch_optional(&state.db.read)
    .await?;
    row.ok_or(ApiError::NotFound("source"))
}

pub async fn list(state: &AppState, org_id: &str) -> Result<Vec<Source>, ApiError> {
    let rows: Vec<SourceRow> = sqlx::query_as(&format!(
        "SELECT {} FROM sources WHERE org_id = $1 ORDER BY created_at DESC, id",
        SourceRow::COLUMNS
    ))
    .bind(org_id)
    .fetch_all(&state.db.read)
    .await?;
    rows.iter().map(SourceRow::to_source).collect()
}

/// Adds a source; its first poll is due at once.
pub async fn create(
    state: &AppState,
    org_id: &str,
    actor: Option<&str>,
    new: NewSource,
) -> Result<Source, ApiError> {
    let (address, fetch_url) = resolve(state, new.kind, &new.address).await?;
    let interval = interval_secs(new.interval_minutes)?;
    let mut tx = state.db.begin().await?;
    check_channel(&mut tx, org_id, &new.channel_id).await?;
    let taken: Option<String> =
        sqlx::query_scalar("SELECT id FROM sources WHERE org_id = $1 AND fetch_url = $2")
            .bind(org_id)
            .bind(&fetch_url)
            .fetch_optional(&mut *tx)
            .await?;
    if taken.is_some() {
        return Err(ApiError::Conflict(format!("{address} is already a source")));
    }
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sources (id, org_id, kind, address, fetch_url, channel_id, auto_publish, \
         interval_secs, next_poll_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(&id)
    .bind(org_id)
    .bind(new.kind.as_str())
    .bind(&address)
    .bind(&fetch_url)
    .bind(&new.channel_id)
    .bind(i64::from(new.auto_publish))
    .bind(interval)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        org_id,
        actor,
        "source.create",
        &id,
        serde_json::json!({ "kind": new.kind, "address": address, "auto_publish": new.auto_publish }),
    )
    .await?;
    tx.commit().await?;
    get(state, org_id, &id).await?.to_source()
}

/// Changes a source's channel, publishing mode, interval or pause.
pub async fn update(
    state: &AppState,
    org_id: &str,
    actor: Option<&str>,
    id: &str,
    patch: SourceUpdate,
) -> Result<Source, ApiError> {
    let row = get(state, org_id, id).await?;
    let interval = match patch.interval_minutes {
        Some(m) => interval_secs(Some(m))?,
        None => row.interval_secs,
    };
    let mut tx = state.db.begin().await?;
    let channel_id = patch.channel_id.clone().unwrap_or(row.channel_id.clone());
    check_channel(&mut tx, org_id, &channel_id).await?;
    let paused = patch.paused.map(i64::from).unwrap_or(row.paused);
    // Resuming polls at once; a new interval counts from the last fetch.
    let next_poll_at = if row.paused != 0 && paused == 0 {
        now_ms()
    } else {
        row.last_fetch_at.map_or(row.next_poll_at, |last| {
            if row.failures == 0 {
                last + interval * 1000
            } else {
                row.next_poll_at
            }
        })
    };
    sqlx::query(
        "UPDATE sources SET channel_id = $1, auto_publish = $2, interval_secs = $3, paused = $4, \
         next_poll_at = $5 WHERE id = $6",
    )
    .bind(&channel_id)
    .bind(
        patch
            .auto_publish
            .map(i64::from)
            .unwrap_or(row.auto_publish),
    )
    .bind(interval)
    .bind(paused)
    .bind(next_poll_at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        org_id,
        actor,
        "source.update",
        id,
        serde_json::to_value(&patch)?,
    )
    .await?;
    tx.commit().await?;
    get(state, org_id, id).await?.to_source()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_resolve_to_what_is_fetched() {
        let config = SourcesConfig::default();
        let resolve_address = |kind, address: &str| super::resolve_address(&config, kind, address);
        let yt = resolve_address(
            SourceKind::Youtube,
            "https://www.youtube.com/channel/UC7_gcs09iThXybpVgjHZ_7g",
        )
        .unwrap();
        assert_eq!(
            yt.1,
            "https://www.youtube.com/feeds/videos.xml?channel_id=UC7_gcs09iThXybpVgjHZ_7g"
        );
        assert!(resolve_address(SourceKind::Youtube, "https://www.youtube.com/@pbs").is_err());
        let m = resolve_address(SourceKind::Mastodon, "@pdxjohnny@Mastodon.Social").unwrap();
        assert_eq!(
            m,
            (
                "@pdxjohnny@mastodon.social".to_owned(),
                "https://mastodon.social/@pdxjohnny.rss".to_owned()
            )
        );
        let from_url =
            resolve_address(SourceKind::Mastodon, "https://mastodon.social/@pdxjohnny").unwrap();
        assert_eq!(from_url, m);
        assert!(resolve_address(SourceKind::Mastodon, "pdxjohnny").is_err());
        assert!(resolve_address(SourceKind::Feed, "javascript:alert(1)").is_err());
    }
}
