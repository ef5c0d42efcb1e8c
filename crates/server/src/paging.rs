//! Page sizes: one rule for every list of the API. A `limit` outside `1..=max` is refused with
//! 400 and says the range, never clamped silently (a client asking for 5,000 and getting 500
//! would think it has everything).

use crate::error::ApiError;

/// The page size to use: `requested`, or `default` when absent.
pub fn limit(requested: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    match requested.unwrap_or(default) {
        n if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::bad(format!("limit must be between 1 and {max}"))),
    }
}

/// Entries to skip: `requested` (none by default), at most `max`.
pub fn offset(requested: Option<u32>, max: u32) -> Result<u32, ApiError> {
    match requested.unwrap_or(0) {
        n if n <= max => Ok(n),
        _ => Err(ApiError::bad(format!("offset must be at most {max}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_the_range_are_refused_not_clamped() {
        assert_eq!(limit(None, 50, 500).unwrap(), 50);
        assert_eq!(limit(Some(1), 50, 500).unwrap(), 1);
        assert_eq!(limit(Some(500), 50, 500).unwrap(), 500);
        for bad in [0, 501, u32::MAX] {
            let err = limit(Some(bad), 50, 500).unwrap_err();
            assert_eq!(err.to_string(), "limit must be between 1 and 500");
        }
    }
}
