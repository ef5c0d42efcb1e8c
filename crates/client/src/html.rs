//! Plain text out of (already sanitised) item HTML, for the search index and notifications.

/// Drops tags, decodes the common entities, folds white space.
pub fn to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let decoded = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn tags_go_words_stay() {
        assert_eq!(
            super::to_text("<p>Fish &amp; <b>chips</b></p>\n<p>Done</p>"),
            "Fish & chips Done"
        );
    }
}
