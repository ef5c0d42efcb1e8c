//! A bounded on-disk image cache (least recently used goes first), so the feed shows its
//! pictures offline.

use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::error::ClientError;
use crate::store::{now_ms, Store};

/// Largest single image kept.
const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// Sniffs the few formats items use; anything else is refused rather than guessed.
pub fn content_type(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(512)];
    if head.starts_with(b"\x89PNG") {
        Some("image/png")
    } else if head.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF8") {
        Some("image/gif")
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        Some("image/webp")
    } else if String::from_utf8_lossy(head).contains("<svg") {
        // Loaded through <img>, an SVG cannot run script.
        Some("image/svg+xml")
    } else {
        None
    }
}

#[derive(Clone)]
pub struct ImageCache {
    dir: PathBuf,
    store: Store,
    http: reqwest::Client,
    max_bytes: u64,
}

impl ImageCache {
    pub fn new(dir: PathBuf, store: Store, http: reqwest::Client, max_bytes: u64) -> ImageCache {
        ImageCache {
            dir,
            store,
            http,
            max_bytes,
        }
    }

    /// The cached file for `url`, if it is cached (and marks it used).
    pub fn get(&self, url: &str) -> Result<Option<PathBuf>, ClientError> {
        let conn = self.store.conn();
        let file: Option<String> = conn
            .query_row("SELECT file FROM images WHERE url = ?1", [url], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(file) = file else { return Ok(None) };
        let path = self.dir.join(file);
        if !path.exists() {
            conn.execute("DELETE FROM images WHERE url = ?1", [url])?;
            return Ok(None);
        }
        conn.execute(
            "UPDATE images SET last_used = ?1 WHERE url = ?2",
            params![now_ms(), url],
        )?;
        Ok(Some(path))
    }

    /// Downloads `url` into the cache unless it is there, then evicts beyond the budget.
    pub async fn fetch(&self, url: &str) -> Result<PathBuf, ClientError> {
        if let Some(path) = self.get(url)? {
            return Ok(path);
        }
        let parsed = url::Url::parse(url)
            .map_err(|e| ClientError::Invalid(format!("bad image URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClientError::Invalid(
                "images are fetched over http(s) only".into(),
            ));
        }
        let response = self.http.get(url).send().await?;
        if !response.status().is_success() {
            return Err(ClientError::Offline(format!(
                "image answered {}",
                response.status()
            )));
        }
        let bytes = response.bytes().await?;
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(ClientError::Invalid("image too large".into()));
        }
        let name = format!("{:x}", Sha256::digest(url.as_bytes()));
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!("{name}.part"));
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, self.dir.join(&name))?;
        self.store.conn().execute(
            "INSERT INTO images (url, file, bytes, last_used) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (url) DO UPDATE SET file = excluded.file, bytes = excluded.bytes, last_used = excluded.last_used",
            params![url, name, bytes.len() as i64, now_ms()],
        )?;
        self.evict()?;
        Ok(self.dir.join(name))
    }

    /// Fetches the pictures of the newest items that are not cached yet (best effort: a
    /// picture that fails now is tried after the next sync).
    pub async fn prefetch_newest(&self, limit: u32) -> usize {
        let urls: Vec<String> = {
            let conn = self.store.conn();
            let Ok(mut stmt) = conn.prepare(
                "SELECT i.image_url FROM items i LEFT JOIN images c ON c.url = i.image_url \
                 WHERE i.image_url IS NOT NULL AND c.url IS NULL ORDER BY i.published_at DESC LIMIT ?1",
            ) else {
                return 0;
            };
            let urls = stmt
                .query_map([limit], |r| r.get(0))
                .map(|rows| rows.flatten().collect())
                .unwrap_or_default();
            urls
        };
        let mut fetched = 0;
        for url in urls {
            match self.fetch(&url).await {
                Ok(_) => fetched += 1,
                Err(e) => tracing::debug!(error = %e, "image not cached"),
            }
        }
        fetched
    }

    /// Total size of the cached images.
    pub fn size(&self) -> Result<u64, ClientError> {
        Ok(self
            .store
            .conn()
            .query_row("SELECT COALESCE(SUM(bytes), 0) FROM images", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    fn evict(&self) -> Result<(), ClientError> {
        let conn = self.store.conn();
        let mut total: i64 =
            conn.query_row("SELECT COALESCE(SUM(bytes), 0) FROM images", [], |r| {
                r.get(0)
            })?;
        if total as u64 <= self.max_bytes {
            return Ok(());
        }
        let mut stmt =
            conn.prepare("SELECT url, file, bytes FROM images ORDER BY last_used, url")?;
        let oldest: Vec<(String, String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (url, file, bytes) in oldest {
            if total as u64 <= self.max_bytes {
                break;
            }
            let _ = std::fs::remove_file(self.dir.join(Path::new(&file)));
            conn.execute("DELETE FROM images WHERE url = ?1", [&url])?;
            total -= bytes;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_images_are_recognised() {
        assert_eq!(super::content_type(b"\x89PNG\r\n"), Some("image/png"));
        assert_eq!(
            super::content_type(b"<svg xmlns='x'/>"),
            Some("image/svg+xml")
        );
        assert_eq!(super::content_type(b"<html><script>"), None);
    }
}
