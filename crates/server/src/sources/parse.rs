//! Reading entries out of what a source answered: RSS, Atom and JSON Feed through feed-rs, a
//! web page through its OpenGraph tags. Nothing here trusts
//! the input: bodies are sanitised later, with every other field of a draft.

use std::cell::RefCell;

use chrono::{DateTime, Utc};
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use url::Url;

/// One entry of a source, before it becomes a draft.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The source's own id of the entry (a feed's guid or id, a page's URL, a post's URI).
    pub id: String,
    pub title: String,
    pub summary: String,
    pub body_html: String,
    pub url: Option<String>,
    pub image_url: Option<String>,
    pub language: Option<String>,
    pub published: Option<DateTime<Utc>>,
}

/// The entries of an RSS, Atom or JSON feed, newest first.
pub fn feed(bytes: &[u8], base: &Url) -> Result<Vec<Entry>, String> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .build();
    let feed = parser
        .parse(bytes)
        .map_err(|e| format!("not a readable feed: {e}"))?;
    let feed_language = feed.language.clone();
    let mut entries: Vec<Entry> = feed
        .entries
        .into_iter()
        .map(|e| {
            let url = e
                .links
                .iter()
                .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .or(e.links.first())
                .map(|l| l.href.clone());
            let image_url = e
                .media
                .iter()
                .flat_map(|m| m.thumbnails.iter().map(|t| t.image.uri.clone()))
                .chain(e.media.iter().flat_map(|m| {
                    m.content
                        .iter()
                        .filter(|c| {
                            c.content_type
                                .as_ref()
                                .is_some_and(|t| t.ty().as_str() == "image")
                        })
                        .filter_map(|c| c.url.as_ref().map(|u| u.to_string()))
                }))
                .next();
            let media_description = e
                .media
                .iter()
                .find_map(|m| m.description.as_ref().map(|d| d.content.clone()));
            let summary_html = e
                .summary
                .as_ref()
                .map(|s| s.content.clone())
                .or(media_description)
                .unwrap_or_default();
            let body_html = e
                .content
                .as_ref()
                .and_then(|c| c.body.clone())
                .unwrap_or_else(|| summary_html.clone());
            let title = e
                .title
                .as_ref()
                .map(|t| plain_text(&t.content))
                .filter(|t| !t.is_empty())
                // A Mastodon post has no title: its first words are one.
                .unwrap_or_else(|| first_words(&plain_text(&summary_html), 80));
            Entry {
                id: e.id,
                title,
                summary: first_words(&plain_text(&summary_html), 600),
                body_html,
                url,
                image_url,
                language: e.language.or(feed_language.clone()),
                published: e.published.or(e.updated),
            }
        })
        .collect();
    // Newest first; a date in the future counts as now, so it cannot push the rest out.
    let now = Utc::now();
    entries.sort_by_key(|e| std::cmp::Reverse(e.published.map(|p| p.min(now))));
    Ok(entries)
}

/// A web page as one entry, from its OpenGraph tags (and its `<title>` where it has none).
pub fn page(bytes: &[u8], url: &Url) -> Result<Vec<Entry>, String> {
    let text = String::from_utf8_lossy(bytes);
    let sink = MetaSink::default();
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(text.as_ref().into());
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    let sink = tokenizer.sink;
    let metas = sink.metas.into_inner();
    let meta = |names: &[&str]| {
        names.iter().find_map(|n| {
            metas
                .iter()
                .find(|(k, v)| k.eq_ignore_ascii_case(n) && !v.trim().is_empty())
                .map(|(_, v)| v.trim().to_owned())
        })
    };
    let title = meta(&["og:title", "twitter:title"])
        .or_else(|| Some(sink.title.into_inner().trim().to_owned()).filter(|t| !t.is_empty()))
        .ok_or("the page has no title (no og:title, no <title>)")?;
    let canonical = meta(&["og:url"])
        .and_then(|u| url.join(&u).ok())
        .unwrap_or_else(|| url.clone());
    let image_url = meta(&["og:image", "og:image:url", "twitter:image"])
        .and_then(|u| url.join(&u).ok())
        .map(|u| u.to_string());
    let summary =
        meta(&["og:description", "description", "twitter:description"]).unwrap_or_default();
    Ok(vec![Entry {
        id: canonical.to_string(),
        title: first_words(&title, 300),
        summary: first_words(&summary, 600),
        body_html: String::new(),
        url: Some(canonical.to_string()),
        image_url,
        language: sink.language.into_inner().or_else(|| meta(&["og:locale"])),
        published: meta(&["article:published_time"])
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)),
    }])
}

#[derive(Default)]
struct MetaSink {
    metas: RefCell<Vec<(String, String)>>,
    title: RefCell<String>,
    in_title: RefCell<bool>,
    language: RefCell<Option<String>>,
}

impl TokenSink for MetaSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                let attr = |n: &str| {
                    tag.attrs
                        .iter()
                        .find(|a| &*a.name.local == n)
                        .map(|a| a.value.to_string())
                };
                match (tag.kind, name) {
                    (TagKind::StartTag, "meta") => {
                        if let (Some(key), Some(content)) =
                            (attr("property").or_else(|| attr("name")), attr("content"))
                        {
                            let mut metas = self.metas.borrow_mut();
                            // A hostile page cannot make us keep more than this.
                            if metas.len() < 200 {
                                metas.push((key, content));
                            }
                        }
                    }
                    (TagKind::StartTag, "html") => {
                        *self.language.borrow_mut() = attr("lang");
                    }
                    (TagKind::StartTag, "title") => *self.in_title.borrow_mut() = true,
                    (TagKind::EndTag, "title") => *self.in_title.borrow_mut() = false,
                    _ => {}
                }
            }
            Token::CharacterTokens(text) if *self.in_title.borrow() => {
                let mut title = self.title.borrow_mut();
                if title.len() < 1000 {
                    title.push_str(&text);
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The text of an HTML fragment, whitespace collapsed.
pub fn plain_text(html: &str) -> String {
    let cleaned = ammonia::Builder::empty().clean(html).to_string();
    let decoded = cleaned
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, cut at a word with an ellipsis.
pub fn first_words(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => &cut,
    };
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_reads_from_its_opengraph_tags() {
        let html = br#"<!doctype html><html lang="fr"><head><title>Fallback</title>
            <meta property="og:title" content="Nos r&eacute;sultats 2026">
            <meta property="og:image" content="/img/results.png">
            <meta name="description" content="Une ann&eacute;e record.">
            <meta property="og:url" content="https://example.com/news/results?utm_source=x">
            </head><body><script>alert(1)</script></body></html>"#;
        let base = Url::parse("https://example.com/news/results").unwrap();
        let entries = page(html, &base).unwrap();
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.title, "Nos résultats 2026");
        assert_eq!(
            e.image_url.as_deref(),
            Some("https://example.com/img/results.png")
        );
        assert_eq!(e.summary, "Une année record.");
        assert_eq!(e.language.as_deref(), Some("fr"));
        let bare = page(
            b"<html><head><title> Just a title </title></head></html>",
            &base,
        )
        .unwrap();
        assert_eq!(bare[0].title, "Just a title");
        assert!(page(b"<html><body>nothing</body></html>", &base).is_err());
    }

    #[test]
    fn long_text_is_cut_at_a_word() {
        assert_eq!(first_words("short", 10), "short");
        let cut = first_words("one two three four five six seven", 20);
        assert!(cut.chars().count() <= 20, "{cut}");
        assert!(cut.ends_with('…'));
        assert_eq!(plain_text("<p>a &amp; <b>b</b></p>\n<p>c</p>"), "a & b c");
    }
}
