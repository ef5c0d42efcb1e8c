//! The post record a share becomes: its text with link and hashtag facets, its language and
//! the item's link card, within the lexicon's limits.

use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};
use unicode_segmentation::UnicodeSegmentation;

use super::POST;
use crate::social::{facets, LinkCard, PostError};

/// The lexicon's limits for a post's text.
pub const MAX_GRAPHEMES: usize = 300;
const MAX_BYTES: usize = 3000;

/// The post record for a share's text and card.
pub fn record(text: &str, card: Option<&LinkCard>, thumb: Option<Value>) -> Value {
    let mut record = json!({
        "$type": POST,
        "text": text,
        "createdAt": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    let facets = facets::detect(text);
    if !facets.is_empty() {
        record["facets"] = json!(facets);
    }
    if let Some(card) = card {
        if !card.language.is_empty() {
            record["langs"] = json!([card.language]);
        }
        let mut external = json!({
            "uri": card.url,
            "title": card.title,
            "description": card.description,
        });
        if let Some(thumb) = thumb {
            external["thumb"] = thumb;
        }
        record["embed"] = json!({ "$type": "app.bsky.embed.external", "external": external });
    }
    record
}

/// Why a text cannot be posted to Bluesky, if it cannot.
pub fn check_length(text: &str) -> Result<(), PostError> {
    let graphemes = text.graphemes(true).count();
    if graphemes > MAX_GRAPHEMES || text.len() > MAX_BYTES {
        return Err(PostError::Rejected(format!(
            "the text is {graphemes} characters long; Bluesky takes {MAX_GRAPHEMES}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphemes_not_bytes_count() {
        // 300 family emoji are 300 graphemes (and 7,500 bytes: over the byte cap).
        assert!(check_length(&"é".repeat(300)).is_ok());
        assert!(check_length(&"é".repeat(301)).is_err());
        assert!(check_length(&"👩🏽‍💻".repeat(100)).is_ok());
    }
}
