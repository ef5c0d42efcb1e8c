//! Which link a share carries: the person's tracked link on the company server (the default, so
//! its clicks count for them) or the item's own address. The choice is the person's; the link
//! itself is fetched when the share goes out, and written down before the post, so a share
//! reconciled after a crash is looked for with the link it went out with.

use rusqlite::params;
use serde::Serialize;

use super::Store;
use crate::error::ClientError;

/// The link a share goes out with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkChoice {
    /// The person's tracked link, when the server gives one in time; else the original.
    #[default]
    Tracked,
    /// The item's own address.
    Original,
}

impl LinkChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkChoice::Tracked => "tracked",
            LinkChoice::Original => "original",
        }
    }

    pub fn parse(s: &str) -> LinkChoice {
        if s == "original" {
            LinkChoice::Original
        } else {
            LinkChoice::Tracked
        }
    }
}

/// What was decided for a share's link at its last attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareLink {
    /// The tracked link (its code, its address).
    Tracked { code: String, url: String },
    /// The server could not be reached in time: the item's own address, and the queue says so.
    Fallback,
}

impl Store {
    /// Writes down the link a share is about to go out with.
    pub fn set_share_link(&self, share_id: &str, link: &ShareLink) -> Result<(), ClientError> {
        let (code, url, fallback) = match link {
            ShareLink::Tracked { code, url } => (Some(code.as_str()), Some(url.as_str()), 0),
            ShareLink::Fallback => (None, None, 1),
        };
        self.conn().execute(
            "UPDATE outbox SET link_code = ?1, link_url = ?2, link_fallback = ?3 WHERE id = ?4",
            params![code, url, fallback, share_id],
        )?;
        Ok(())
    }
}
