//! The content cache: applying feed pages, reading the feed, searching it, read/saved marks.

use relay_protocol::{Change, Channel, Item, RemovalCause, SyncPage};
use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;

use super::search::composed;
use super::{now_ms, Store};
use crate::error::ClientError;
use crate::html::to_text;

/// Where the sync cursor is kept (with the items, so both change in one transaction).
pub(crate) const CURSOR_KEY: &str = "sync.cursor";

/// What applying one page did.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct ApplyOutcome {
    pub upserted: usize,
    pub deleted: usize,
    /// Items the device did not have before, in feed order: `(id, title, channel id)`.
    pub new_items: Vec<(String, String, String)>,
    /// Queued shares cancelled because their item went away.
    pub cancelled_shares: usize,
    pub reset: bool,
}

/// A feed entry: the item without its body, with the person's marks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedItem {
    pub item: Item,
    pub read: bool,
    pub saved: bool,
}

/// Which part of the feed to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct FeedQuery {
    pub channel_id: Option<String>,
    pub unread_only: bool,
    pub saved_only: bool,
    pub limit: u32,
    /// Continue after this entry (keyset pagination): `(published_at ms, id)`.
    pub after: Option<(i64, String)>,
}

pub(super) const ITEM_COLUMNS: &str =
    "i.id, i.kind, i.channel_id, i.title, i.summary, i.body_html, i.url, i.image_url, \
     i.language, i.suggested_texts, i.published_at, i.expires_at, i.updated_at, i.version, \
     m.read_at, m.saved_at";

pub(super) fn feed_item(row: &Row<'_>) -> rusqlite::Result<FeedItem> {
    let json_err = |e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    };
    let kind: String = row.get(1)?;
    let suggested: String = row.get(9)?;
    let time = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    Ok(FeedItem {
        item: Item {
            id: row.get(0)?,
            kind: serde_json::from_value(serde_json::Value::String(kind)).map_err(json_err)?,
            channel_id: row.get(2)?,
            title: row.get(3)?,
            summary: row.get(4)?,
            body_html: row.get(5)?,
            url: row.get(6)?,
            image_url: row.get(7)?,
            language: row.get(8)?,
            suggested_texts: serde_json::from_str(&suggested).map_err(json_err)?,
            published_at: time(row.get(10)?),
            expires_at: row.get::<_, Option<i64>>(11)?.map(time),
            updated_at: time(row.get(12)?),
            version: row.get(13)?,
        },
        read: row.get::<_, Option<i64>>(14)?.is_some(),
        saved: row.get::<_, Option<i64>>(15)?.is_some(),
    })
}

fn removal_reason(cause: RemovalCause, reason: Option<&str>) -> String {
    match (cause, reason) {
        (RemovalCause::Retracted, Some(r)) => format!("retracted by the curators: {r}"),
        (RemovalCause::Retracted, None) => "retracted by the curators".into(),
        (RemovalCause::Expired, _) => "the content expired".into(),
        (RemovalCause::NotInAudience, _) => "the content is no longer available to you".into(),
    }
}

impl Store {
    /// The stored sync cursor (`None` before the first sync).
    pub fn cursor(&self) -> Result<Option<String>, ClientError> {
        self.setting(CURSOR_KEY)
    }

    /// Applies one feed page and stores its cursor, in one transaction.
    pub fn apply_page(&self, page: &SyncPage) -> Result<ApplyOutcome, ClientError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcome = ApplyOutcome {
            reset: page.reset,
            ..Default::default()
        };
        if page.reset {
            // The cache only: marks, accounts and the outbox are the person's.
            tx.execute("DELETE FROM items", [])?;
        }
        if let Some(channels) = &page.channels {
            replace_channels(&tx, channels)?;
        }
        let now = now_ms();
        for change in &page.changes {
            match change {
                Change::Upsert { item } => {
                    let (title, summary) = (composed(&item.title), composed(&item.summary));
                    let text = to_text(&item.body_html);
                    let body_text = composed(&text);
                    let suggested = serde_json::to_string(&item.suggested_texts)?;
                    let values = params![
                        item.id,
                        item.kind.as_str(),
                        item.channel_id,
                        title,
                        summary,
                        item.body_html,
                        body_text,
                        item.url,
                        item.image_url,
                        item.language,
                        suggested,
                        item.published_at.timestamp_millis(),
                        item.expires_at.map(|t| t.timestamp_millis()),
                        item.updated_at.timestamp_millis(),
                        item.version,
                    ];
                    // Most items a sync brings are new to the device: the insert is tried
                    // first (no lookup), and an item already known is updated instead.
                    let inserted = tx
                        .prepare_cached(
                            "INSERT INTO items (id, kind, channel_id, title, summary, body_html, body_text, url, image_url, \
                             language, suggested_texts, published_at, expires_at, updated_at, version) \
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
                             ON CONFLICT (id) DO NOTHING",
                        )?
                        .execute(values)?
                        == 1;
                    if !inserted {
                        tx.prepare_cached(
                            "UPDATE items SET kind = ?2, channel_id = ?3, title = ?4, summary = ?5, body_html = ?6, \
                             body_text = ?7, url = ?8, image_url = ?9, language = ?10, suggested_texts = ?11, \
                             published_at = ?12, expires_at = ?13, updated_at = ?14, version = ?15 WHERE id = ?1",
                        )?
                        .execute(values)?;
                    }
                    outcome.upserted += 1;
                    if inserted {
                        outcome.new_items.push((
                            item.id.clone(),
                            item.title.clone(),
                            item.channel_id.clone(),
                        ));
                    }
                }
                Change::Delete {
                    id, cause, reason, ..
                } => {
                    outcome.deleted += tx
                        .prepare_cached("DELETE FROM items WHERE id = ?1")?
                        .execute([id])?;
                    outcome.cancelled_shares += tx.prepare_cached(
                        "UPDATE outbox SET state = 'cancelled', reason = ?1, retryable = 0, updated_at = ?2 \
                         WHERE item_id = ?3 AND state IN ('queued', 'failed')",
                    )?
                    .execute(params![removal_reason(*cause, reason.as_deref()), now, id])?;
                }
            }
        }
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [CURSOR_KEY, &page.cursor],
        )?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Drops the content cache and the cursor (the next sync starts from nothing). The outbox,
    /// accounts and marks stay.
    pub fn clear_cache(&self) -> Result<(), ClientError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM items", [])?;
        tx.execute("DELETE FROM channels", [])?;
        tx.execute("DELETE FROM settings WHERE key = ?1", [CURSOR_KEY])?;
        tx.commit()?;
        Ok(())
    }

    pub fn channels(&self) -> Result<Vec<(Channel, bool)>, ClientError> {
        let conn = self.read_conn();
        let mut stmt =
            conn.prepare("SELECT id, slug, names, followed FROM channels ORDER BY slug")?;
        let rows = stmt.query_map([], |r| {
            let names: String = r.get(2)?;
            Ok((
                Channel {
                    id: r.get(0)?,
                    slug: r.get(1)?,
                    names: serde_json::from_str(&names).unwrap_or_default(),
                },
                r.get::<_, i64>(3)? != 0,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether new items in a channel deserve a notification.
    pub fn follow_channel(&self, channel_id: &str, followed: bool) -> Result<(), ClientError> {
        let changed = self.conn().execute(
            "UPDATE channels SET followed = ?1 WHERE id = ?2",
            params![followed as i64, channel_id],
        )?;
        if changed == 0 {
            return Err(ClientError::NotFound("channel"));
        }
        Ok(())
    }

    pub(crate) fn followed_channels(&self) -> Result<Vec<String>, ClientError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id FROM channels WHERE followed = 1")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// The feed, newest first.
    pub fn feed(&self, q: &FeedQuery) -> Result<Vec<FeedItem>, ClientError> {
        let (after_time, after_id) = q.after.clone().unwrap_or((i64::MAX, String::new()));
        let conn = self.read_conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN item_marks m ON m.item_id = i.id \
             WHERE (?1 IS NULL OR i.channel_id = ?1) \
               AND (?2 = 0 OR m.read_at IS NULL) \
               AND (?3 = 0 OR m.saved_at IS NOT NULL) \
               AND (i.published_at < ?4 OR (i.published_at = ?4 AND i.id > ?5)) \
             ORDER BY i.published_at DESC, i.id LIMIT ?6"
        ))?;
        let rows = stmt.query_map(
            params![
                q.channel_id,
                q.unread_only as i64,
                q.saved_only as i64,
                after_time,
                after_id,
                q.limit.clamp(1, 500)
            ],
            feed_item,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn item(&self, id: &str) -> Result<Option<FeedItem>, ClientError> {
        let conn = self.read_conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN item_marks m ON m.item_id = i.id WHERE i.id = ?1"
        ))?;
        Ok(stmt.query_row([id], feed_item).optional()?)
    }

    pub fn item_count(&self) -> Result<u64, ClientError> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM items", [], |r| r.get::<_, i64>(0))? as u64)
    }

    pub fn unread_count(&self) -> Result<u64, ClientError> {
        Ok(self.read_conn().query_row(
            "SELECT COUNT(*) FROM items i LEFT JOIN item_marks m ON m.item_id = i.id WHERE m.read_at IS NULL",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    pub fn mark_read(&self, id: &str, read: bool) -> Result<(), ClientError> {
        self.mark(id, "read_at", read)?;
        if read {
            self.note_read(id)?;
        }
        Ok(())
    }

    pub fn mark_saved(&self, id: &str, saved: bool) -> Result<(), ClientError> {
        self.mark(id, "saved_at", saved)
    }

    fn mark(&self, id: &str, column: &str, on: bool) -> Result<(), ClientError> {
        let value = on.then(now_ms);
        self.conn().execute(
            &format!(
                "INSERT INTO item_marks (item_id, {column}) VALUES (?1, ?2) \
                 ON CONFLICT (item_id) DO UPDATE SET {column} = excluded.{column}"
            ),
            params![id, value],
        )?;
        Ok(())
    }
}

fn replace_channels(
    tx: &rusqlite::Transaction<'_>,
    channels: &[Channel],
) -> Result<(), ClientError> {
    let ids: Vec<&str> = channels.iter().map(|c| c.id.as_str()).collect();
    let placeholders = vec!["?"; ids.len()].join(",");
    if ids.is_empty() {
        tx.execute("DELETE FROM channels", [])?;
    } else {
        tx.execute(
            &format!("DELETE FROM channels WHERE id NOT IN ({placeholders})"),
            rusqlite::params_from_iter(ids.iter()),
        )?;
    }
    for c in channels {
        tx.execute(
            "INSERT INTO channels (id, slug, names) VALUES (?1, ?2, ?3) \
             ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, names = excluded.names",
            params![c.id, c.slug, serde_json::to_string(&c.names)?],
        )?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use relay_protocol::{ContentKind, SuggestedText};

    pub(crate) fn item(id: &str, title: &str, body: &str, minutes_ago: i64, version: i64) -> Item {
        let t = chrono::Utc::now() - chrono::Duration::minutes(minutes_ago);
        Item {
            id: id.into(),
            kind: ContentKind::Article,
            channel_id: "ch".into(),
            title: title.into(),
            summary: String::new(),
            body_html: body.into(),
            url: format!("https://news.example/{id}"),
            image_url: None,
            language: "fr".into(),
            suggested_texts: vec![SuggestedText {
                network: relay_protocol::Network::X,
                language: "fr".into(),
                text: "t".into(),
            }],
            published_at: t,
            expires_at: None,
            updated_at: t,
            version,
        }
    }

    pub(crate) fn page(changes: Vec<Change>, cursor: &str) -> SyncPage {
        SyncPage {
            reset: false,
            changes,
            cursor: cursor.into(),
            has_more: false,
            remaining: None,
            channels: None,
        }
    }

    #[test]
    fn pages_upsert_delete_and_keep_marks_and_the_cursor_together() {
        let store = Store::in_memory().unwrap();
        let first = store
            .apply_page(&page(
                vec![
                    Change::Upsert {
                        item: item("a", "One", "", 2, 1),
                    },
                    Change::Upsert {
                        item: item("b", "Two", "", 1, 2),
                    },
                ],
                "c1.0.2",
            ))
            .unwrap();
        assert_eq!(first.new_items.len(), 2);
        store.mark_read("a", true).unwrap();
        store.mark_saved("b", true).unwrap();
        let feed = store
            .feed(&FeedQuery {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            feed.iter().map(|f| f.item.id.as_str()).collect::<Vec<_>>(),
            vec!["b", "a"],
            "newest first"
        );
        let unread = store
            .feed(&FeedQuery {
                limit: 10,
                unread_only: true,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(unread.len(), 1);
        let saved = store
            .feed(&FeedQuery {
                limit: 10,
                saved_only: true,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(saved[0].item.id, "b");

        let second = store
            .apply_page(&page(
                vec![
                    Change::Upsert {
                        item: item("a", "One, edited", "", 2, 3),
                    },
                    Change::Delete {
                        id: "b".into(),
                        version: 4,
                        cause: RemovalCause::Retracted,
                        reason: None,
                    },
                ],
                "c1.0.4",
            ))
            .unwrap();
        assert!(second.new_items.is_empty(), "an edit is not news");
        assert_eq!(second.deleted, 1);
        assert_eq!(store.cursor().unwrap().as_deref(), Some("c1.0.4"));
        let a = store.item("a").unwrap().unwrap();
        assert_eq!(a.item.title, "One, edited");
        assert!(a.read, "marks survive edits");
        assert_eq!(
            store.search("edited", 5).unwrap().len(),
            1,
            "the index follows edits"
        );
        assert!(store.search("two", 5).unwrap().is_empty(), "and deletions");

        // Keyset pagination.
        let page1 = store
            .feed(&FeedQuery {
                limit: 1,
                ..Default::default()
            })
            .unwrap();
        let last = &page1[0].item;
        let page2 = store
            .feed(&FeedQuery {
                limit: 1,
                after: Some((last.published_at.timestamp_millis(), last.id.clone())),
                ..Default::default()
            })
            .unwrap();
        assert!(page2.is_empty());
    }
}
