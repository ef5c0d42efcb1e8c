//! Rich-text facets for Bluesky posts: links and hashtags, located by UTF-8 byte offsets
//! (the PDS does not check them, so a wrong offset would silently underline the wrong text).

use serde::Serialize;

/// One facet as `app.bsky.richtext.facet` has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facet {
    pub index: ByteSlice,
    pub features: Vec<Feature>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ByteSlice {
    pub byte_start: usize,
    pub byte_end: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "$type")]
pub enum Feature {
    #[serde(rename = "app.bsky.richtext.facet#link")]
    Link { uri: String },
    #[serde(rename = "app.bsky.richtext.facet#tag")]
    Tag { tag: String },
}

/// Longest hashtag Bluesky accepts (graphemes; characters here, which is stricter).
const MAX_TAG: usize = 64;

/// The links (`http://`, `https://`) and hashtags of `text`, in order.
pub fn detect(text: &str) -> Vec<Facet> {
    let mut facets = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let at_word_start = text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == '(');
        if at_word_start && (rest.starts_with("https://") || rest.starts_with("http://")) {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let url = trim_url(&rest[..end]);
            if url.len() > "https://".len() {
                facets.push(Facet {
                    index: ByteSlice {
                        byte_start: i,
                        byte_end: i + url.len(),
                    },
                    features: vec![Feature::Link {
                        uri: url.to_owned(),
                    }],
                });
                i += url.len();
                continue;
            }
        }
        if at_word_start && rest.starts_with('#') {
            let tag: String = rest[1..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || is_joiner(*c))
                .collect();
            if !tag.is_empty()
                && tag.chars().count() <= MAX_TAG
                && !tag.chars().all(|c| c.is_ascii_digit())
            {
                let end = i + 1 + tag.len();
                facets.push(Facet {
                    index: ByteSlice {
                        byte_start: i,
                        byte_end: end,
                    },
                    features: vec![Feature::Tag { tag }],
                });
                i = end;
                continue;
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    facets
}

/// Combining marks written as separate code points (a decomposed "é") belong to the tag.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036f}' | '\u{200d}')
}

/// Sentence punctuation after a link is not part of it; a closing parenthesis is, when the
/// link opened one (Wikipedia-style URLs).
fn trim_url(url: &str) -> &str {
    let mut url = url;
    loop {
        let Some(last) = url.chars().next_back() else {
            return url;
        };
        let strip = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\'' | '»' | '…' => true,
            ')' => url.matches('(').count() < url.matches(')').count(),
            _ => false,
        };
        if !strip {
            return url;
        }
        url = &url[..url.len() - last.len_utf8()];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slices(text: &str) -> Vec<(&str, Feature)> {
        detect(text)
            .into_iter()
            .map(|f| {
                (
                    &text[f.index.byte_start..f.index.byte_end],
                    f.features[0].clone(),
                )
            })
            .collect()
    }

    #[test]
    fn offsets_are_utf8_bytes_after_accents_and_emoji() {
        let text = "Écoutez 🎧 l'équipe : https://contoso.example/été?x=1. #Énergie 👩🏽‍💻 #ok";
        let found = slices(text);
        assert_eq!(
            found,
            vec![
                (
                    "https://contoso.example/été?x=1",
                    Feature::Link {
                        uri: "https://contoso.example/été?x=1".into()
                    }
                ),
                (
                    "#Énergie",
                    Feature::Tag {
                        tag: "Énergie".into()
                    }
                ),
                ("#ok", Feature::Tag { tag: "ok".into() }),
            ]
        );
        let first = &detect(text)[0].index;
        // 'É' and 'é' are 2 bytes, the headphones 4: the link starts 5 bytes after its chars.
        assert_eq!(first.byte_start, text.find("https").unwrap());
        assert_eq!(
            text.chars().take_while(|c| *c != 'h').count() + 5,
            first.byte_start
        );
    }

    #[test]
    fn not_tags_or_links() {
        assert!(detect("#1 issue #123, a#b, mail@x.com, https:// alone").is_empty());
        assert!(detect("ftp://x.example").is_empty());
    }

    #[test]
    fn trailing_punctuation_and_parentheses() {
        let found =
            slices("(see https://en.example/wiki/Rust_(language)) and https://a.example/x!");
        assert_eq!(found[0].0, "https://en.example/wiki/Rust_(language)");
        assert_eq!(found[1].0, "https://a.example/x");
    }
}
