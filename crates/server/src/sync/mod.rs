//! The change feed and what announces it: `GET /v1/sync?cursor=&limit=` (`routes.rs`, its
//! queries in `store.rs`), the organisation's feed version every change moves (`version.rs`),
//! and the live events that tell devices to sync (`events/`).
//!
//! A cursor is `(audience epoch, version, last id)`: the caller has every change up to that
//! point in `(version, id)` order. A page reads the organisation's head first and then only
//! rows at or below it, all of which are committed (see [`version`]), so no late commit is
//! skipped. Rows that were never live (drafts) are not fed at all.

pub mod events;
pub mod routes;
pub mod store;
pub mod version;

pub use routes::router;

/// Where a device stands in its organisation's feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The person's audience epoch the cache was built for.
    pub epoch: i64,
    pub version: i64,
    /// Set between the pages of one run: the last row sent.
    pub after_id: Option<String>,
    /// In a run that started from nothing: the head at its start. The device cannot hold any
    /// row still at or below it that it was not sent in this run, so such rows need no
    /// tombstone (a first sync sends only what the person may see).
    pub quiet_upto: i64,
}

impl Cursor {
    pub(crate) fn start(epoch: i64) -> Cursor {
        Cursor {
            epoch,
            version: 0,
            after_id: None,
            quiet_upto: 0,
        }
    }

    pub fn encode(&self) -> String {
        match &self.after_id {
            None => format!("c1.{}.{}", self.epoch, self.version),
            Some(id) => format!(
                "c1.{}.{}.{}.{}",
                self.epoch, self.version, self.quiet_upto, id
            ),
        }
    }

    pub fn parse(s: &str) -> Option<Cursor> {
        let mut parts = s.strip_prefix("c1.")?.splitn(3, '.');
        let epoch = parts.next()?.parse().ok()?;
        let version: i64 = parts.next()?.parse().ok()?;
        let (quiet_upto, after_id) = match parts.next() {
            None => (0, None),
            Some(rest) => {
                let (quiet, id) = rest.split_once('.')?;
                if id.is_empty() || id.len() > 64 || id.contains('.') {
                    return None;
                }
                (quiet.parse().ok()?, Some(id.to_owned()))
            }
        };
        if version < 0 || quiet_upto < 0 {
            return None;
        }
        Some(Cursor {
            epoch,
            version,
            after_id,
            quiet_upto,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        for c in [
            Cursor {
                epoch: 0,
                version: 0,
                after_id: None,
                quiet_upto: 0,
            },
            Cursor {
                epoch: 3,
                version: 1234,
                after_id: Some("0190-abc".into()),
                quiet_upto: 1200,
            },
        ] {
            assert_eq!(Cursor::parse(&c.encode()), Some(c));
        }
        for bad in [
            "",
            "c1.",
            "c1.x.1",
            "c2.0.1",
            "c1.0.-5",
            "2024-01-01T00:00:00Z",
            "c1.0.1.",
            "c1.0.1.5",
            "c1.0.1.x.id",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
