//! What a device remembers of a month's draw, by its own clock: the first commitment digest and
//! entry list hash it saw, and its own entry id. The server's timestamps prove nothing about the
//! server; these do, for this device. A draw that later shows another commitment or another
//! list (an operator redrawing the entry ids once the beacon round is public) is refused.

use chrono::{DateTime, Utc};
use relay_protocol::Draw;
use serde::{Deserialize, Serialize};

use crate::{Chain, DrawError};

/// A value first seen at a moment of this device's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub value: String,
    pub seen_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pins {
    /// The commitment's digest.
    pub commitment: Option<Seen>,
    /// The entry list's hash.
    pub list: Option<Seen>,
    /// The person's own entry id, once told.
    pub my_entry: Option<Seen>,
}

/// What this device can say of the list's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Witness {
    /// No list yet.
    NotFrozen,
    /// This device saw the list before the beacon round existed: nobody could then know who
    /// would win, so the list was not chosen for it.
    BeforeRound,
    /// This device first saw the list after the round existed: it cannot vouch for its timing
    /// (other devices may).
    AfterRound,
}

impl Pins {
    /// Compares `draw` with what was pinned and pins what is new (seen `now`). Refuses a draw
    /// whose commitment or list differs from the first one seen, or that dropped this person's
    /// entry.
    pub fn observe(&self, draw: &Draw, now: DateTime<Utc>) -> Result<Pins, DrawError> {
        let mut pins = self.clone();
        if let Some(c) = &draw.commitment {
            match &pins.commitment {
                Some(p) if p.value != c.digest => {
                    return Err(DrawError::CommitmentChanged {
                        pinned: p.value.clone(),
                        now: c.digest.clone(),
                        seen_at: p.seen_at,
                    })
                }
                Some(_) => {}
                None => {
                    pins.commitment = Some(Seen {
                        value: c.digest.clone(),
                        seen_at: now,
                    })
                }
            }
        } else if let Some(p) = &pins.commitment {
            return Err(DrawError::CommitmentChanged {
                pinned: p.value.clone(),
                now: "none".into(),
                seen_at: p.seen_at,
            });
        }
        if let Some(e) = &draw.entries {
            match &pins.list {
                Some(p) if p.value != e.list_hash => {
                    return Err(DrawError::ListChanged {
                        pinned: p.value.clone(),
                        now: e.list_hash.clone(),
                        seen_at: p.seen_at,
                    })
                }
                Some(_) => {}
                None => {
                    pins.list = Some(Seen {
                        value: e.list_hash.clone(),
                        seen_at: now,
                    })
                }
            }
        } else if let Some(p) = &pins.list {
            return Err(DrawError::ListChanged {
                pinned: p.value.clone(),
                now: "none".into(),
                seen_at: p.seen_at,
            });
        }
        match (&pins.my_entry, &draw.my_entry_id) {
            (Some(p), Some(now)) if &p.value != now => {
                return Err(DrawError::MyEntryMissing(p.value.clone()))
            }
            // Told an entry id once, then no longer in the list.
            (Some(p), None) => return Err(DrawError::MyEntryMissing(p.value.clone())),
            (None, Some(mine)) => {
                pins.my_entry = Some(Seen {
                    value: mine.clone(),
                    seen_at: now,
                })
            }
            _ => {}
        }
        Ok(pins)
    }

    /// Whether this device saw the list before the committed round existed.
    pub fn witness(&self, draw: &Draw, chain: &Chain) -> Witness {
        let (Some(list), Some(c)) = (&self.list, &draw.commitment) else {
            return Witness::NotFrozen;
        };
        if list.seen_at.timestamp() < chain.round_time(c.beacon_round) {
            Witness::BeforeRound
        } else {
            Witness::AfterRound
        }
    }
}
