//! The monthly programme on the device: the server's summary (points, boards, top ten) cached
//! for reading offline, the leaderboard opt-in, and tracked links.

use chrono::{DateTime, Utc};
use relay_protocol::{ProgrammeSummary, TrackedLink};
use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::ClientError;

/// Where the last summary is kept (the device database's settings), with its `ETag`.
pub const SUMMARY_KEY: &str = "programme.summary";

/// The programme as the device last heard it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Programme {
    pub summary: ProgrammeSummary,
    /// When the server last confirmed it.
    pub fetched_at: DateTime<Utc>,
    #[serde(default)]
    pub etag: Option<String>,
}

/// What the screens show: the cached programme, and whether the server could be asked now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgrammeView {
    pub programme: Option<Programme>,
    /// The server could not be reached: what is shown is the cache.
    pub offline: bool,
}

impl Engine {
    /// The cached programme, without asking the server.
    pub fn cached_programme(&self) -> Result<Option<Programme>, ClientError> {
        Ok(match self.store.setting(SUMMARY_KEY)? {
            // A cache written by another version of the app is dropped, not an error.
            Some(json) => serde_json::from_str(&json).ok(),
            None => None,
        })
    }

    /// Asks the server for the programme (a `304` when nothing moved) and caches it. Offline,
    /// the cache is shown and says so.
    pub async fn programme(&self) -> Result<ProgrammeView, ClientError> {
        let cached = self.cached_programme()?;
        let asked = async {
            let api = self.api()?;
            let etag = cached.as_ref().and_then(|c| c.etag.as_deref());
            self.check(api.programme_summary(etag).await)
        };
        match asked.await {
            Ok(Some((summary, etag))) => {
                let programme = Programme {
                    summary,
                    fetched_at: Utc::now(),
                    etag,
                };
                self.store
                    .set_setting(SUMMARY_KEY, &serde_json::to_string(&programme)?)?;
                Ok(ProgrammeView {
                    programme: Some(programme),
                    offline: false,
                })
            }
            Ok(None) => {
                let programme = cached.map(|mut c| {
                    c.fetched_at = Utc::now();
                    c
                });
                if let Some(p) = &programme {
                    self.store
                        .set_setting(SUMMARY_KEY, &serde_json::to_string(p)?)?;
                }
                Ok(ProgrammeView {
                    programme,
                    offline: false,
                })
            }
            Err(e) if e.is_transient() => Ok(ProgrammeView {
                programme: cached,
                offline: true,
            }),
            Err(e) => Err(e),
        }
    }

    /// Joins the leaderboard (under `pseudonym`, or the person's name) or leaves it, then
    /// reads the programme again.
    pub async fn set_on_board(
        &self,
        on: bool,
        pseudonym: Option<String>,
    ) -> Result<ProgrammeView, ClientError> {
        let api = self.api()?;
        if on {
            self.check(api.join_board(pseudonym).await)?;
        } else {
            self.check(api.leave_board().await)?;
        }
        self.programme().await
    }

    /// The person's tracked link for an item on a network (to show in the composer).
    pub async fn tracked_link(
        &self,
        item_id: &str,
        network: relay_protocol::Network,
    ) -> Result<TrackedLink, ClientError> {
        let api = self.api()?;
        self.check(api.tracked_link(item_id, network).await)
    }
}
