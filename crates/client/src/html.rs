//! Plain text out of (already sanitised) item HTML, for the search index and notifications.

/// Drops tags, decodes the common entities, folds white space. It runs for every item a sync
/// brings, so it works on bytes in one pass: runs of plain text are copied whole, and only
/// `<`, `&`, white space and non-ASCII characters are looked at one by one.
pub fn to_text(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = Folded {
        text: String::with_capacity(html.len()),
        space: false,
    };
    // `start..at`: plain text seen and not copied yet.
    let (mut start, mut at) = (0, 0);
    while at < bytes.len() {
        let (len, what) = match bytes[at] {
            // A tag, up to its end (or the end of the text), stands for white space.
            b'<' => {
                let len = bytes[at..]
                    .iter()
                    .position(|&b| b == b'>')
                    .map_or(bytes.len() - at, |end| end + 1);
                (len, ' ')
            }
            b'&' => match ENTITIES
                .iter()
                .find(|(name, _)| html[at..].starts_with(name))
            {
                Some((name, decoded)) => (name.len(), *decoded),
                None => {
                    at += 1;
                    continue;
                }
            },
            b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C => (1, ' '),
            b if b < 0x80 => {
                at += 1;
                continue;
            }
            _ => {
                let c = html[at..].chars().next().unwrap_or_default();
                if !c.is_whitespace() {
                    at += c.len_utf8();
                    continue;
                }
                (c.len_utf8(), ' ')
            }
        };
        out.push_str(&html[start..at]);
        out.push(what);
        at += len;
        start = at;
    }
    out.push_str(&html[start..]);
    out.text
}

/// Text with its white space folded: none at the ends, one space between words.
struct Folded {
    text: String,
    /// White space seen after a word and not written yet.
    space: bool,
}

impl Folded {
    fn push_str(&mut self, words: &str) {
        if !words.is_empty() {
            if self.space {
                self.text.push(' ');
                self.space = false;
            }
            self.text.push_str(words);
        }
    }

    fn push(&mut self, c: char) {
        if c.is_whitespace() {
            self.space = !self.text.is_empty();
        } else {
            let mut buffer = [0; 4];
            self.push_str(c.encode_utf8(&mut buffer));
        }
    }
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
        // And on thousands of texts made of the pieces that matter, in any order.
        let pieces = [
            "<",
            ">",
            "<b>",
            "</p>",
            "&",
            "amp;",
            "lt;",
            "nbsp;",
            "&amp;",
            "&lt;",
            "&gt;",
            "&nbsp;",
            "&#39;",
            "&quot;",
            " ",
            "\t",
            "\n",
            "\u{a0}",
            "\u{2003}",
            "\u{b}",
            "a",
            "word",
            "\u{e9}",
            "\u{1f600}",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..5_000 {
            let mut html = String::new();
            for _ in 0..12 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                html.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            assert_eq!(super::to_text(&html), to_text_by_steps(&html), "{html:?}");
        }
    }
}
