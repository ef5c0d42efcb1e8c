//! Entries become drafts: each new entry once (by the source's own id), never one whose address
//! the organisation already has (by canonical URL, across every source and hand-made item),
//! at most [`MAX_NEW_PER_POLL`] per poll (a first poll of a 20,000-entry archive gathers the
//! newest and remembers every other entry as seen, so none comes back as a draft later).

use std::collections::HashSet;

use relay_protocol::{ContentKind, NewContent, SourceKind};

use super::parse::{first_words, Entry};
use super::SourceRow;
use crate::content::{sanitize, store};
use crate::db::now_ms;
use crate::error::ApiError;
use crate::state::AppState;
use crate::sync::version::FeedTx;

/// New entries gathered per poll at most.
pub const MAX_NEW_PER_POLL: usize = 50;
/// Entries of one answer looked at at most; the rest of a huge answer is remembered as seen by
/// its id alone (the answer's size cap bounds how many).
pub const MAX_ENTRIES_READ: usize = 10_000;
const MAX_BODY_BYTES: usize = 200_000;

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub seen: u32,
    pub created: u32,
    pub duplicates: u32,
    pub skipped: u32,
}

pub async fn ingest(
    state: &AppState,
    source: &SourceRow,
    entries: Vec<Entry>,
) -> Result<Counts, ApiError> {
    let mut counts = Counts::default();
    let actor = format!("source:{}", source.id);
    // What the source showed before, in one read: a poll of a big unchanged feed writes nothing.
    let mut known: HashSet<String> =
        sqlx::query_scalar("SELECT entry_id FROM source_entries WHERE source_id = $1")
            .bind(&source.id)
            .fetch_all(&state.db.read)
            .await?
            .into_iter()
            .collect();
    // Entries remembered as seen without a draft, written together at the end.
    let mut passed_over: Vec<String> = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        counts.seen += 1;
        let entry_id: String = entry.id.chars().take(1000).collect();
        // Known, or repeated within this answer (a hostile feed repeats its ids).
        if !known.insert(entry_id.clone()) {
            continue;
        }
        if index >= MAX_ENTRIES_READ {
            counts.skipped += 1;
            passed_over.push(entry_id);
            continue;
        }
        let url = entry
            .url
            .as_deref()
            .and_then(|u| sanitize::web_url("url", u).ok());
        let Some(url) = url else {
            counts.skipped += 1;
            passed_over.push(entry_id);
            continue;
        };
        if counts.created as usize >= MAX_NEW_PER_POLL {
            counts.skipped += 1;
            passed_over.push(entry_id);
            continue;
        }
        let mut ftx = FeedTx::begin_quiet(&state.db, &source.org_id).await?;
        let existing: Option<String> = match store::canonical_url(&url) {
            Some(c) => {
                sqlx::query_scalar(
                    "SELECT id FROM items WHERE org_id = $1 AND canonical_url = $2 LIMIT 1",
                )
                .bind(&source.org_id)
                .bind(c)
                .fetch_optional(&mut *ftx.tx)
                .await?
            }
            None => None,
        };
        let mut created = None;
        if existing.is_some() {
            counts.duplicates += 1;
        } else {
            let draft = draft_of(source, &entry, &url);
            match store::insert_draft(&mut ftx, Some(&actor), draft, Some(&source.id)).await {
                Ok(id) => {
                    counts.created += 1;
                    created = Some(id);
                }
                // An entry no draft can be made of (a title of only spaces, say) is skipped,
                // not the whole poll. (Refused before any statement: the transaction is fine.)
                Err(ApiError::BadRequest(_)) => counts.skipped += 1,
                Err(e) => return Err(e),
            }
        }
        sqlx::query(
            "INSERT INTO source_entries (source_id, entry_id, item_id, seen_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (source_id, entry_id) DO NOTHING",
        )
        .bind(&source.id)
        .bind(&entry_id)
        .bind(created.as_ref().or(existing.as_ref()))
        .bind(now_ms())
        .execute(&mut *ftx.tx)
        .await?;
        ftx.commit(&state.events).await?;
        if let (Some(id), true) = (&created, source.auto_publish != 0) {
            store::approve(state, &source.org_id, Some(&actor), id).await?;
        }
    }
    remember(state, &source.id, &passed_over).await?;
    Ok(counts)
}

/// Remembers entries as seen without a draft, in one transaction.
async fn remember(state: &AppState, source_id: &str, entry_ids: &[String]) -> Result<(), ApiError> {
    if entry_ids.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    for chunk in entry_ids.chunks(300) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${}, NULL, $2)", i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO source_entries (source_id, entry_id, item_id, seen_at) VALUES {} \
             ON CONFLICT (source_id, entry_id) DO NOTHING",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(source_id).bind(now);
        for id in chunk {
            query = query.bind(id.clone());
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The draft an entry makes, every field within the limits the content API enforces.
fn draft_of(source: &SourceRow, entry: &Entry, url: &str) -> NewContent {
    let kind = match source.kind.parse() {
        Ok(SourceKind::Youtube) => ContentKind::Video,
        Ok(SourceKind::Mastodon | SourceKind::Bluesky) => ContentKind::SocialPost,
        _ => ContentKind::Article,
    };
    let body_html = if entry.body_html.len() > MAX_BODY_BYTES {
        // Too long to carry whole: the summary stands in, and the link has the rest.
        format!("<p>{}</p>", ammonia::clean_text(&entry.summary))
    } else {
        entry.body_html.clone()
    };
    let image_url = entry
        .image_url
        .as_deref()
        .and_then(|u| sanitize::web_url("image_url", u).ok());
    NewContent {
        kind,
        channel_id: source.channel_id.clone(),
        title: first_words(&entry.title, 300),
        summary: first_words(&entry.summary, 2000),
        body_html,
        url: url.to_owned(),
        image_url,
        language: language_of(entry),
        suggested_texts: Vec::new(),
        audience: Default::default(),
        publish_at: None,
        expires_at: None,
    }
}

/// The entry's language as the feed says it (`en-US` is `en`), else detected from its text,
/// else English.
pub fn language_of(entry: &Entry) -> String {
    let declared = entry
        .language
        .as_deref()
        .and_then(|l| l.split(['-', '_']).next())
        .map(str::to_ascii_lowercase)
        .filter(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    if let Some(language) = declared {
        return language;
    }
    let text = format!("{} {}", entry.title, entry.summary);
    whatlang::detect(&text)
        .filter(|info| info.is_reliable())
        .map(|info| iso639_1(info.lang()).to_owned())
        .unwrap_or_else(|| "en".to_owned())
}

/// Two letters where the language has them (the app's languages are two-letter codes).
fn iso639_1(lang: whatlang::Lang) -> &'static str {
    use whatlang::Lang::*;
    match lang {
        Eng => "en",
        Fra => "fr",
        Deu => "de",
        Spa => "es",
        Ita => "it",
        Por => "pt",
        Nld => "nl",
        Pol => "pl",
        Swe => "sv",
        Dan => "da",
        Nob => "nb",
        Fin => "fi",
        Ces => "cs",
        Ron => "ro",
        Hun => "hu",
        Tur => "tr",
        Rus => "ru",
        Ukr => "uk",
        Ell => "el",
        Jpn => "ja",
        Cmn => "zh",
        Kor => "ko",
        Ara => "ar",
        Heb => "he",
        Hin => "hi",
        other => other.code(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(title: &str, summary: &str, language: Option<&str>) -> Entry {
        Entry {
            id: "1".into(),
            title: title.into(),
            summary: summary.into(),
            body_html: String::new(),
            url: None,
            image_url: None,
            language: language.map(str::to_owned),
            published: None,
        }
    }

    #[test]
    fn the_language_is_the_feeds_else_detected() {
        assert_eq!(language_of(&entry("Hello", "", Some("en-US"))), "en");
        assert_eq!(language_of(&entry("Bonjour", "", Some("FR_ca"))), "fr");
        assert_eq!(
            language_of(&entry(
                "Nos résultats annuels",
                "L'entreprise a publié aujourd'hui ses résultats de l'année, qui montrent une croissance forte dans toutes les régions.",
                None
            )),
            "fr"
        );
        assert_eq!(
            language_of(&entry(
                "Our annual results",
                "The company published its results for the year today, showing strong growth in every region.",
                None
            )),
            "en"
        );
        assert_eq!(language_of(&entry("42", "", None)), "en");
    }
}
