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

/// Cleans item HTML again on the device before any webview sees it: the device does not trust
/// the server (or whatever wrote to it) to have done so. Scripts, styles, frames, forms, event
/// handlers and non-web links go; links open outside the app (`noopener`); images are rewritten
/// through `image_url` so they load from the offline image cache and never straight from the web.
pub fn sanitize(html: &str, image_url: fn(&str) -> String) -> String {
    use std::collections::HashSet;
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .rm_tags(["img"])
        .add_tags(["img"])
        .attribute_filter(
            move |element, attribute, value| match (element, attribute) {
                ("img", "src") => {
                    let absolute = value.starts_with("https://") || value.starts_with("http://");
                    absolute.then(|| image_url(value).into())
                }
                ("img", "srcset") => None,
                _ => Some(value.into()),
            },
        );
    builder.clean(html).to_string()
}

#[cfg(test)]
mod tests {
    fn proxied(url: &str) -> String {
        format!("relay-img://localhost/?url={url}")
    }

    #[test]
    fn hostile_markup_is_inert() {
        let dirty = r#"<p onclick="x()">Hi<script>alert(1)</script></p>
            <img src="https://cdn.test/a.png" onerror="alert(2)">
            <img src="javascript:alert(3)"><a href="javascript:alert(4)">link</a>
            <svg onload="alert(5)"><script>alert(6)</script></svg>
            <iframe src="https://evil.test"></iframe><style>body{display:none}</style>
            <a href="https://ok.test/">ok</a>"#;
        let clean = super::sanitize(dirty, proxied);
        for bad in [
            "script",
            "onerror",
            "onclick",
            "onload",
            "javascript:",
            "<svg",
            "iframe",
            "<style",
        ] {
            assert!(!clean.contains(bad), "{bad} survived: {clean}");
        }
        assert!(
            clean.contains(r#"src="relay-img://localhost/?url=https://cdn.test/a.png""#),
            "{clean}"
        );
        assert!(clean.contains(r#"href="https://ok.test/""#), "{clean}");
        assert!(clean.contains("noopener"), "{clean}");
    }

    #[test]
    fn tags_go_words_stay() {
        assert_eq!(
            super::to_text("<p>Fish &amp; <b>chips</b></p>\n<p>Done</p>"),
            "Fish & chips Done"
        );
    }
}
