//! What each instance keeps of tracked links in memory, and a link's row.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::http::HeaderValue;
use relay_protocol::TrackedLink;

use crate::error::ApiError;

/// What each instance keeps in memory so that following a link rarely touches the database:
/// today's salt, links already looked up (they never change), and the visitors already
/// counted today. The database stays the one truth (a visitor is counted by a unique row), so
/// several instances agree; the memory only saves work.
#[derive(Clone, Default)]
pub struct LinkCache(pub(crate) Arc<CacheInner>);

#[derive(Default)]
pub struct CacheInner {
    pub(crate) salt: Mutex<Option<Arc<Day>>>,
    pub(crate) links: Mutex<HashMap<String, Arc<Followed>>>,
    pub(crate) seen: Mutex<(String, HashSet<[u8; 32]>)>,
    /// The (person, address) pairs noted today, so that each is written once.
    pub(crate) sharers: Mutex<(i64, HashSet<(String, std::net::IpAddr)>)>,
}

/// Today (UTC), as its number since the epoch and as `YYYY-MM-DD`, with its salt.
pub struct Day {
    pub(crate) number: i64,
    pub(crate) name: String,
    pub(crate) salt: String,
}

/// A link as following it needs it: its row and its `Location`, built once.
pub struct Followed {
    pub(crate) row: LinkRow,
    pub(crate) location: HeaderValue,
}

/// Entries kept before a map is emptied and starts again (bounded memory).
pub(crate) const CACHE_LIMIT: usize = 200_000;

#[derive(Debug, sqlx::FromRow)]
pub struct LinkRow {
    pub(crate) code: String,
    pub(crate) org_id: String,
    pub(crate) person_id: String,
    pub(crate) item_id: String,
    pub(crate) network: String,
    pub(crate) target: String,
    pub(crate) clicks: i64,
}

impl LinkRow {
    pub(crate) fn into_link(self, public_url: &str) -> Result<TrackedLink, ApiError> {
        Ok(TrackedLink {
            url: format!("{}/l/{}", public_url.trim_end_matches('/'), self.code),
            network: self
                .network
                .parse()
                .map_err(|e: relay_protocol::UnknownVariant| ApiError::Internal(e.into()))?,
            code: self.code,
            target: self.target,
            item_id: self.item_id,
            clicks: u64::try_from(self.clicks).unwrap_or(0),
        })
    }
}

impl LinkCache {
    pub(crate) fn link(&self, code: &str) -> Option<Arc<Followed>> {
        self.0
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(code)
            .cloned()
    }

    pub(crate) fn keep_link(&self, link: Arc<Followed>) {
        let mut links = self.0.links.lock().unwrap_or_else(|e| e.into_inner());
        if links.len() >= CACHE_LIMIT {
            links.clear();
        }
        links.insert(link.row.code.clone(), link);
    }

    /// Whether this visitor was already counted today (by this instance).
    pub(crate) fn seen(&self, day: &str, visitor: &[u8; 32]) -> bool {
        let seen = self.0.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.0 == day && seen.1.contains(visitor)
    }

    pub(crate) fn keep_seen(&self, day: &str, visitor: [u8; 32]) {
        let mut seen = self.0.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.0 != day || seen.1.len() >= CACHE_LIMIT {
            *seen = (day.to_owned(), HashSet::new());
        }
        seen.1.insert(visitor);
    }
}
