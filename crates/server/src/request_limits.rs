//! How large a request may be: its body, its headers and how many of them.

/// Largest request body accepted, in bytes (content bodies are at most 200 kB of HTML).
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// Largest request head accepted (header names and values), and most headers.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
pub const MAX_HEADERS: usize = 100;

/// Whether a request's headers go past [`MAX_HEADER_BYTES`] or [`MAX_HEADERS`].
pub fn headers_too_large(headers: &axum::http::HeaderMap) -> bool {
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    bytes > MAX_HEADER_BYTES || headers.len() > MAX_HEADERS
}
