//! Plain text out of (already sanitised) item HTML, for the search index and notifications.

/// Drops tags, decodes the common entities, folds white space. One pass over the text once
/// its tags are gone (it runs for every item a sync brings).
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
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    let mut emit = |c: char| {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    };
    let mut rest = text.as_str();
    while let Some(c) = rest.chars().next() {
        let entity = (c == '&')
            .then(|| ENTITIES.iter().find(|(name, _)| rest.starts_with(name)))
            .flatten();
        match entity {
            Some((name, decoded)) => {
                emit(*decoded);
                rest = &rest[name.len()..];
            }
            None => {
                emit(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// The entities item text decodes; what one decodes to is never decoded again.
const ENTITIES: [(&str, char); 6] = [
    ("&nbsp;", ' '),
    ("&lt;", '<'),
    ("&gt;", '>'),
    ("&quot;", '"'),
    ("&#39;", '\''),
    ("&amp;", '&'),
];

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

    /// The first way this was written: clear, and an allocation per step.
    fn to_text_by_steps(html: &str) -> String {
        let mut text = String::new();
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
        text.replace("&nbsp;", " ")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn entities_decode_once_and_white_space_folds_as_before() {
        for html in [
            "",
            "   ",
            "&amp;lt;b&amp;gt; is not a tag, &lt;b&gt; neither",
            "&amp;nbsp;&nbsp;x&nbsp; &nbsp;y",
            "<p>caf\u{e9}\u{a0}cr\u{e8}me</p>\t\n<p>&quot;quoted&quot; &#39;single&#39;</p>",
            "&n<b>bsp; split by a tag, & alone, &unknown; &#x41; &",
            "<a href=\"x\">link</a>text<br/>next > stray",
            "emoji \u{1f600} &amp;&amp; \u{2003}em space",
        ] {
            assert_eq!(super::to_text(html), to_text_by_steps(html), "{html:?}");
        }
    }
}
