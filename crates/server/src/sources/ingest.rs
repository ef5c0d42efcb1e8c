//! Entries become drafts: each new entry once (by the source's own id), never one whose address
//! the organisation already has (by canonical URL, across every source and hand-made item),
//! at most [`MAX_NEW_PER_POLL`] per poll (a first poll of a 10,000-entry archive gathers the
//! newest and remembers the rest as seen).

use relay_protocol::{ContentKind, NewContent, SourceKind};

use super::parse::{first_words, Entry};
use super::SourceRow;
use crate::app::AppState;
use crate::content::{sanitize, store};
use crate::db::now_ms;
use crate::error::ApiError;
use crate::feed::FeedTx;

/// New entries gathered per poll at most.
pub const MAX_NEW_PER_POLL: usize = 50;
/// Entries of one answer looked at at most (the rest of a huge answer is ignored).
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
    for entry in entries.into_iter().take(MAX_ENTRIES_READ) {
        counts.seen += 1;
        let entry_id: String = entry.id.chars().take(1000).collect();
        let mut ftx = FeedTx::begin_quiet(&state.db, &source.org_id).await?;
        let known: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM source_entries WHERE source_id = $1 AND entry_id = $2",
        )
        .bind(&source.id)
        .bind(&entry_id)
        .fetch_optional(&mut *ftx.tx)
        .await?;
        if known.is_some() {
            continue;
        }
        let url = entry
            .url
            .as_deref()
            .and_then(|u| sanitize::web_url("url", u).ok());
        let canonical = url.as_deref().and_then(store::canonical_url);
        let existing: Option<String> = match &canonical {
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
        match (&url, &existing) {
            (None, _) => counts.skipped += 1,
            (Some(_), Some(_)) => counts.duplicates += 1,
            (Some(_), None) if counts.created as usize >= MAX_NEW_PER_POLL => counts.skipped += 1,
            (Some(url), None) => {
                let draft = draft_of(source, &entry, url);
                match store::insert_draft(&mut ftx, Some(&actor), draft, Some(&source.id)).await {
                    Ok(id) => {
                        counts.created += 1;
                        created = Some(id);
                    }
                    // An entry no draft can be made of (a title of only spaces, say) is
                    // skipped, not the whole poll.
                    Err(ApiError::BadRequest(_)) => counts.skipped += 1,
                    Err(e) => return Err(e),
                }
            }
        }
        sqlx::query(
            "INSERT INTO source_entries (source_id, entry_id, item_id, seen_at) VALUES ($1, $2, $3, $4)",
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
    Ok(counts)
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
