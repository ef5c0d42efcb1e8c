//! The monthly programme on the device: the server's summary (points, boards, top ten) cached
//! for reading offline, the leaderboard opt-in, and tracked links.

use chrono::{DateTime, Utc};
use relay_draw::pins::{Pins, Witness};
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
    /// What is wrong with the draw before it is made (a commitment or list that changed since
    /// this device saw it, times that do not hold): said loudly.
    pub problem: Option<String>,
    /// Whether this device saw the entry list before the beacon round existed (by its own
    /// clock), after, or not yet.
    pub witness: Witness,
    /// When this device first saw the commitment and the list.
    pub commitment_seen_at: Option<DateTime<Utc>>,
    pub list_seen_at: Option<DateTime<Utc>>,
    /// The server could not be reached: this is the cached draw.
    pub offline: bool,
}

fn draw_key(month: &str) -> String {
    format!("programme.draw.{month}")
}

fn pins_key(month: &str) -> String {
    format!("programme.draw.pins.{month}")
}

/// The beacon chain this device checks draws on: quicknet, built in. Test builds may replay
/// recorded rounds on a moved clock (`RELAY_TEST_DRAND_GENESIS`); release builds cannot.
pub fn draw_chain() -> relay_draw::Chain {
    #[cfg(feature = "test-network")]
    if let Some(genesis) = std::env::var("RELAY_TEST_DRAND_GENESIS")
        .ok()
        .and_then(|g| g.parse().ok())
    {
        return relay_draw::Chain::replayed(genesis);
    }
    relay_draw::QUICKNET
}

impl Engine {
    /// What this device pinned of a month's draw.
    fn draw_pins(&self, month: &str) -> Result<Pins, ClientError> {
        Ok(self
            .store
            .setting(&pins_key(month))?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default())
    }

    /// A month's draw, verified on this device: every check of `relay-draw` (the commitment and
    /// what it binds, the times on quicknet's own clock, the entry list's hash, the beacon
    /// round's signature, the winners), against the first commitment and list this device saw,
    /// which it pins with its own clock. A draw that later differs is refused, and its copy is
    /// not replaced. Offline, the cached draw is checked the same way.
    pub async fn draw(&self, month: &str) -> Result<DrawCheck, ClientError> {
        let asked = async {
            let api = self.api()?;
            self.check(api.draw(month).await)
        };
        let (draw, offline) = match asked.await {
            Ok(draw) => (draw, false),
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
        let chain = draw_chain();
        let pins = self.draw_pins(month)?;
        let checked = relay_draw::check(&draw, &chain)
            .and_then(|stage| pins.observe(&draw, Utc::now()).map(|p| (stage, p)));
        let (verified, problem, pins) = match checked {
            Ok((stage, pinned)) => {
                if pinned != pins {
                    self.store
                        .set_setting(&pins_key(month), &serde_json::to_string(&pinned)?)?;
                }
                if !offline {
                    self.store
                        .set_setting(&draw_key(month), &serde_json::to_string(&draw)?)?;
                }
                let verified = match stage {
                    relay_draw::Stage::Drawn(winners) => Some(Ok(winners)),
                    _ => None,
                };
                (verified, None, pinned)
            }
            Err(e) => {
                tracing::warn!(%month, error = %e, "a draw does not verify on this device");
                let said = e.to_string();
                if draw.result.is_some() {
                    (Some(Err(said)), None, pins)
                } else {
                    (None, Some(said), pins)
                }
            }
        };
        Ok(DrawCheck {
            witness: pins.witness(&draw, &chain),
            commitment_seen_at: pins.commitment.as_ref().map(|s| s.seen_at),
            list_seen_at: pins.list.as_ref().map(|s| s.seen_at),
            draw,
            verified,
            problem,
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
