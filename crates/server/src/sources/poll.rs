//! One poll of a source: fetch (conditionally), gather new entries, record its health, and
//! when it fails, back off.

use relay_protocol::{PollReport, SourceKind};

use super::fetch::{Expect, FetchError, Fetched};
use super::{bluesky, ingest, parse, SourceRow};
use crate::db::now_ms;
use crate::error::ApiError;
use crate::state::AppState;

/// A failing source waits at most this long before its next try.
const MAX_BACKOFF_SECS: i64 = 24 * 3600;

/// Polls a source now: fetches, gathers new entries, and records its health. A failure is a
/// report (and the source's health), not an error: the source is what failed.
pub async fn poll(state: &AppState, source: &SourceRow) -> Result<PollReport, ApiError> {
    let kind = source.kind()?;
    let expect = match kind {
        SourceKind::Page => Expect::Page,
        SourceKind::Bluesky => Expect::Json,
        _ => Expect::Feed,
    };
    let fetched = state
        .fetcher
        .get(
            &source.fetch_url,
            expect,
            source.etag.as_deref(),
            source.last_modified.as_deref(),
        )
        .await;
    let mut report = PollReport {
        not_modified: false,
        seen: 0,
        created: 0,
        duplicates: 0,
        skipped: 0,
        error: None,
    };
    let outcome: Result<(Option<String>, Option<String>), FetchError> = match fetched {
        Ok(Fetched::NotModified) => {
            report.not_modified = true;
            Ok((source.etag.clone(), source.last_modified.clone()))
        }
        Ok(Fetched::Body(body)) => {
            let parsed = match kind {
                SourceKind::Page => parse::page(&body.bytes, &body.url),
                SourceKind::Bluesky => bluesky::posts(&body.bytes, &source.address),
                _ => parse::feed(&body.bytes, &body.url),
            };
            match parsed {
                Ok(entries) => {
                    let counts = ingest::ingest(state, source, entries).await?;
                    report.seen = counts.seen;
                    report.created = counts.created;
                    report.duplicates = counts.duplicates;
                    report.skipped = counts.skipped;
                    Ok((body.etag, body.last_modified))
                }
                Err(e) => Err(FetchError::Network(e)),
            }
        }
        Err(e) => Err(e),
    };
    let now = now_ms();
    match outcome {
        Ok((etag, last_modified)) => {
            sqlx::query(
                "UPDATE sources SET etag = $1, last_modified = $2, last_fetch_at = $3, \
                 next_poll_at = $4, failures = 0, last_error = NULL, failing_since = NULL, \
                 entries = entries + $5, \
                 last_new_entry_at = CASE WHEN $5 > 0 THEN $3 ELSE last_new_entry_at END \
                 WHERE id = $6",
            )
            .bind(etag)
            .bind(last_modified)
            .bind(now)
            .bind(now + source.interval_secs * 1000)
            .bind(i64::from(report.created))
            .bind(&source.id)
            .execute(&state.db.write)
            .await?;
        }
        Err(e) => {
            let retry_after = match &e {
                FetchError::Status { retry_after, .. } => *retry_after,
                _ => None,
            };
            let wait = backoff_secs(source.interval_secs, source.failures + 1, retry_after);
            let text = e.to_string();
            tracing::info!(source = %source.id, error = %text, "source failed");
            sqlx::query(
                "UPDATE sources SET last_fetch_at = $1, next_poll_at = $2, failures = failures + 1, \
                 last_error = $3, failing_since = COALESCE(failing_since, $1) WHERE id = $4",
            )
            .bind(now)
            .bind(now + wait * 1000)
            .bind(&text)
            .bind(&source.id)
            .execute(&state.db.write)
            .await?;
            report.error = Some(text);
        }
    }
    Ok(report)
}

/// Seconds before the next try after `failures` failures in a row: the interval doubled each
/// time, at most a day, and never sooner than the source asked.
pub fn backoff_secs(interval_secs: i64, failures: i64, retry_after: Option<u64>) -> i64 {
    let doubled = interval_secs.saturating_mul(1 << failures.clamp(0, 16));
    let wait = doubled.min(MAX_BACKOFF_SECS);
    match retry_after {
        Some(asked) => wait.max(i64::try_from(asked).unwrap_or(i64::MAX).min(7 * 24 * 3600)),
        None => wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_to_a_day_and_honour_retry_after() {
        assert_eq!(backoff_secs(900, 1, None), 1800);
        assert_eq!(backoff_secs(900, 3, None), 7200);
        assert_eq!(backoff_secs(900, 30, None), MAX_BACKOFF_SECS);
        assert_eq!(backoff_secs(900, 1, Some(86_400 * 2)), 86_400 * 2);
        assert_eq!(backoff_secs(900, 1, Some(10)), 1800);
    }
}
