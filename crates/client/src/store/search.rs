//! Full-text search over the cache: FTS5, case and accents folded, titles weighing most.

use std::borrow::Cow;

use rusqlite::params;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::items::{feed_item, FeedItem, ITEM_COLUMNS};
use super::Store;
use crate::error::ClientError;

/// How many of the newest matches a search ranks.
pub const SEARCH_WINDOW: u32 = 2000;

impl Store {
    /// Ranked full-text search: every word must match, case and accents folded. Whole-word
    /// matches come first; when they are fewer than `limit`, the last word also matches as a
    /// prefix (the person may still be typing it).
    pub fn search(&self, words: &str, limit: u32) -> Result<Vec<FeedItem>, ClientError> {
        let (Some(exact), Some(prefix)) = (fts_query(words, false), fts_query(words, true)) else {
            return Ok(vec![]);
        };
        let mut found = self.search_fts(&exact, limit)?;
        if found.len() < limit as usize {
            for more in self.search_fts(&prefix, limit)? {
                if found.len() < limit as usize && !found.iter().any(|f| f.item.id == more.item.id)
                {
                    found.push(more);
                }
            }
        }
        Ok(found)
    }

    fn search_fts(&self, query: &str, limit: u32) -> Result<Vec<FeedItem>, ClientError> {
        let conn = self.read_conn();
        // Ranks the most recently received matches only (SEARCH_WINDOW of them): ranking every
        // match of a common word costs time proportional to the whole cache, and in a news feed
        // the newest matches are the ones wanted. Rows are read only for the results shown.
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM \
               (SELECT rowid, rank FROM \
                  (SELECT rowid, rank FROM items_fts WHERE items_fts MATCH ?1 ORDER BY rowid DESC LIMIT {SEARCH_WINDOW}) \
                ORDER BY rank LIMIT ?2) f \
             JOIN items i ON i.rowid = f.rowid LEFT JOIN item_marks m ON m.item_id = i.id \
             ORDER BY f.rank, i.published_at DESC"
        ))?;
        let rows = stmt.query_map(params![query, limit.clamp(1, SEARCH_WINDOW)], feed_item)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Text in its composed form (NFC), as the index holds it: `e` + a combining acute becomes `é`,
/// which the tokenizer folds to `e`. Without this, a word typed or published decomposed (as
/// macOS keyboards and some editors write it) splits at its accent and matches nothing.
pub(crate) fn composed(text: &str) -> Cow<'_, str> {
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        _ => Cow::Owned(text.nfc().collect()),
    }
}

/// Turns what a person typed into an FTS5 query: every word required, quoted (so nothing typed
/// is query syntax); with `last_as_prefix`, the last word matches as a prefix.
fn fts_query(words: &str, last_as_prefix: bool) -> Option<String> {
    let words = composed(words);
    let words: Vec<&str> = words
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .collect();
    let last = words.len().checked_sub(1)?;
    let terms: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i == last && last_as_prefix {
                format!("\"{w}\"*")
            } else {
                format!("\"{w}\"")
            }
        })
        .collect();
    Some(terms.join(" "))
}

#[cfg(test)]
mod tests {
    use relay_protocol::Change;

    use super::super::items::tests::{item, page};
    use super::*;

    #[test]
    fn search_folds_case_and_accents_and_ranks_titles_first() {
        let store = Store::in_memory().unwrap();
        store
            .apply_page(&page(
                vec![
                    Change::Upsert {
                        item: item("a", "Résumé de la semaine", "<p>Les nouvelles</p>", 1, 1),
                    },
                    Change::Upsert {
                        item: item(
                            "b",
                            "Autre chose",
                            "<p>On en parle dans le <b>résumé</b></p>",
                            2,
                            2,
                        ),
                    },
                    Change::Upsert {
                        item: item("c", "Sans rapport", "<p>rien</p>", 3, 3),
                    },
                ],
                "c1.0.3",
            ))
            .unwrap();
        let found: Vec<String> = store
            .search("RESUME", 10)
            .unwrap()
            .into_iter()
            .map(|f| f.item.id)
            .collect();
        assert_eq!(found, vec!["a", "b"]);
        assert_eq!(
            store.search("sema", 10).unwrap().len(),
            1,
            "the last word is a prefix"
        );
        assert_eq!(store.search("resume sema", 10).unwrap().len(), 1);
        assert!(
            store.search("resu semaine", 10).unwrap().is_empty(),
            "earlier words are whole words"
        );
        assert!(store
            .search("\"); DROP TABLE items; --", 10)
            .unwrap()
            .is_empty());
        assert!(store.search("   ", 10).unwrap().is_empty());
    }

    #[test]
    fn decomposed_accents_match_composed_ones_both_ways() {
        let store = Store::in_memory().unwrap();
        store
            .apply_page(&page(
                vec![
                    Change::Upsert {
                        item: item("composed", "R\u{e9}sum\u{e9} annuel", "<p>x</p>", 1, 1),
                    },
                    Change::Upsert {
                        item: item(
                            "decomposed",
                            "Cre\u{301}dit d'impo\u{302}t",
                            "<p>Publie\u{301} hier</p>",
                            2,
                            2,
                        ),
                    },
                ],
                "c1.0.2",
            ))
            .unwrap();
        let ids = |q: &str| -> Vec<String> {
            store
                .search(q, 10)
                .unwrap()
                .into_iter()
                .map(|f| f.item.id)
                .collect()
        };
        for typed in ["re\u{301}sume\u{301}", "R\u{e9}sum\u{e9}", "resume"] {
            assert_eq!(ids(typed), vec!["composed"], "{typed:?}");
        }
        for typed in [
            "cr\u{e9}dit imp\u{f4}t",
            "cre\u{301}dit impo\u{302}t",
            "credit impot",
            "publi\u{e9}",
        ] {
            assert_eq!(ids(typed), vec!["decomposed"], "{typed:?}");
        }
        // What is shown is the same text, composed.
        let shown = store.search("credit", 10).unwrap().remove(0).item.title;
        assert_eq!(shown, "Cr\u{e9}dit d'imp\u{f4}t");
    }
}
