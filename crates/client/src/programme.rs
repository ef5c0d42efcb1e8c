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

/// A month's draw as the device last heard it, and what this device found checking it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrawCheck {
    pub draw: relay_protocol::Draw,
    /// The winners' entry ids when the draw verified here; why not otherwise; none before the
    /// draw is made.
    pub verified: Option<Result<Vec<String>, String>>,
    /// The server could not be reached: this is the cached draw.
    pub offline: bool,
}

fn draw_key(month: &str) -> String {
    format!("programme.draw.{month}")
}

impl Engine {
    /// A month's draw, verified on this device: the commitment, the entry list's hash, the
    /// beacon round's signature (quicknet's public key is built in) and the winners. Offline,
    /// the cached draw is checked the same way.
    pub async fn draw(&self, month: &str) -> Result<DrawCheck, ClientError> {
        let asked = async {
            let api = self.api()?;
            self.check(api.draw(month).await)
        };
        let (draw, offline) = match asked.await {
            Ok(draw) => {
                self.store
                    .set_setting(&draw_key(month), &serde_json::to_string(&draw)?)?;
                (draw, false)
            }
            Err(e) if e.is_transient() => {
                let cached = self
                    .store
                    .setting(&draw_key(month))?
                    .and_then(|json| serde_json::from_str(&json).ok());
                match cached {
                    Some(draw) => (draw, true),
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let verified = draw
            .result
            .is_some()
            .then(|| relay_draw::verify(&draw).map_err(|e| e.to_string()));
        Ok(DrawCheck {
            draw,
            verified,
            offline,
        })
    }

    /// Opts out of (or back into) a month's draw.
    pub async fn set_draw_opt_out(
        &self,
        month: &str,
        opted_out: bool,
    ) -> Result<DrawCheck, ClientError> {
        let api = self.api()?;
        self.check(api.draw_participation(month, opted_out).await)?;
        self.draw(month).await
    }
}
