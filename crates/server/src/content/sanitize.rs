//! Content arrives from curators and feeds: nothing in it may ever run in an employee's app.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::error::ApiError;

/// Cleans item HTML: no script, style, iframe, form or event handler survives, links may only
/// be http(s) or mailto and open without handing over the app (`noopener`).
pub fn clean_html(html: &str) -> String {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER
        .get_or_init(|| {
            let mut builder = ammonia::Builder::default();
            builder
                .url_schemes(HashSet::from(["http", "https", "mailto"]))
                .link_rel(Some("noopener noreferrer nofollow"));
            builder
        })
        .clean(html)
        .to_string()
}

/// Checks an absolute http(s) URL and returns it normalised.
pub fn web_url(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.len() > 2048 {
        return Err(ApiError::bad(format!(
            "{field} is longer than 2048 characters"
        )));
    }
    let url = url::Url::parse(value)
        .map_err(|e| ApiError::bad(format!("{field} is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ApiError::bad(format!(
            "{field} must be an http or https URL"
        )));
    }
    Ok(url.into())
}

/// Trims a plain-text field and checks its length in characters. Control characters other than
/// newlines and tabs are refused: they have no business in a title.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    let len = value.chars().count();
    if len < min || len > max {
        return Err(ApiError::bad(if min > 0 {
            format!("{field} must be {min} to {max} characters")
        } else {
            format!("{field} must be at most {max} characters")
        }));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ApiError::bad(format!(
            "{field} contains control characters"
        )));
    }
    Ok(value.to_owned())
}

/// A language code such as `en` or `fr` (ISO 639, 2 or 3 letters), lower-cased.
pub fn language(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim().to_ascii_lowercase();
    if (2..=3).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(value)
    } else {
        Err(ApiError::bad(format!(
            "{field} must be a 2- or 3-letter language code such as \"en\""
        )))
    }
}

/// A country code such as `FR` (ISO 3166-1 alpha-2), upper-cased.
pub fn country(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim().to_ascii_uppercase();
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(value)
    } else {
        Err(ApiError::bad(format!(
            "{field} must be a 2-letter country code such as \"FR\""
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_html_is_defused() {
        let hostile = r#"<p>Hi<script>alert(1)</script></p>
            <img src="x" onerror="alert(2)">
            <a href="javascript:alert(3)">click</a>
            <svg><script>alert(4)</script></svg>
            <iframe src="https://evil.example"></iframe>
            <a href="https://example.com" onclick="alert(5)">ok</a>
            <style>body{display:none}</style>"#;
        let clean = clean_html(hostile);
        for bad in [
            "script",
            "onerror",
            "javascript:",
            "svg",
            "iframe",
            "onclick",
            "style",
            "alert(",
        ] {
            assert!(!clean.contains(bad), "{bad} survived in {clean}");
        }
        assert!(clean.contains(r#"href="https://example.com""#), "{clean}");
        assert!(clean.contains("noopener"), "{clean}");
    }

    #[test]
    fn only_web_urls_pass() {
        assert!(web_url("url", "https://news.example.com/a?b=c").is_ok());
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "not a url",
            "data:text/html,x",
        ] {
            assert!(web_url("url", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_are_normalised() {
        assert_eq!(language("l", " FR ").unwrap(), "fr");
        assert!(language("l", "french").is_err());
        assert_eq!(country("c", "be").unwrap(), "BE");
        assert!(country("c", "BEL").is_err());
    }
}
