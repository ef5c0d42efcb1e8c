//! The monthly programme: points for shares, tracked links, the opt-in leaderboard and the top
//! ten. Months are `YYYY-MM` in the organisation's time zone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Network;

crate::wire_enum! {
    /// How a share is known to have happened. A **verified** share was posted through the
    /// network's API and the network answered with the post; a **declared** one was opened on
    /// the network's own share page, so only the person's word says it went out.
    ShareProof {
        Verified = "verified",
        Declared = "declared",
    }
}

crate::wire_enum! {
    /// What a team board groups people by.
    TeamKind {
        Country = "country",
        Department = "department",
    }
}

/// How shares and clicks earn points. Set per organisation from a month on; a month's rules are
/// frozen once it has begun.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PointsRules {
    /// Points for a verified share (default 10).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000))]
    pub verified_share: u32,
    /// Points for a declared share (default 3).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000))]
    pub declared_share: u32,
    /// At most this many scored shares per person per day (default 5).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000))]
    pub daily_cap: u32,
    /// Points per unique click on a share's tracked link (default 1).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000))]
    pub click: u32,
    /// At most this many click points per share (default 20).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100000))]
    pub click_cap: u32,
    /// Whether attested shares (posted through X's or LinkedIn's API, which the server cannot
    /// read) score and count for the draw as confirmed ones do; by default they count as
    /// declared. Set before a month begins, like every rule, and shown to every employee.
    #[serde(default)]
    pub trust_attested: bool,
}

impl Default for PointsRules {
    fn default() -> Self {
        PointsRules {
            verified_share: 10,
            declared_share: 3,
            daily_cap: 5,
            click: 1,
            click_cap: 20,
            trust_attested: false,
        }
    }
}

impl PointsRules {
    /// How a share standing at `status` counts: as verified, as declared, or not at all.
    pub fn counts_as(&self, status: crate::ShareStatus) -> Option<ShareProof> {
        use crate::ShareStatus::*;
        match status {
            Confirmed => Some(ShareProof::Verified),
            Attested if self.trust_attested => Some(ShareProof::Verified),
            Attested | Declared => Some(ShareProof::Declared),
            Pending | Rejected => None,
        }
    }

    /// Points a share counted with this proof earns when it is scored.
    pub fn share_points(&self, proof: ShareProof) -> u32 {
        match proof {
            ShareProof::Verified => self.verified_share,
            ShareProof::Declared => self.declared_share,
        }
    }
}

/// Body of `PUT /v1/programme/rules`: rules from a month that has not begun yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RulesChange {
    /// `YYYY-MM`, after the current month.
    pub from_month: String,
    pub rules: PointsRules,
}

/// The rules in force for a month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthRules {
    pub month: String,
    pub rules: PointsRules,
    /// Whether the month has begun (its rules can no longer change).
    pub frozen: bool,
}

/// A month of the programme as the organisation's calendar sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthInfo {
    /// `YYYY-MM`.
    pub month: String,
    /// The organisation's time zone (IANA name).
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Records for this month are refused from this moment.
    pub closes_at: DateTime<Utc>,
}

/// Body of `POST /v1/links`: the caller's tracked link for an item on a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    pub item_id: String,
    pub network: Network,
}

/// A tracked link: `url` redirects to the item's address with UTM parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackedLink {
    pub code: String,
    pub url: String,
    /// Where the link leads.
    pub target: String,
    pub item_id: String,
    pub network: Network,
    /// Unique visitors counted so far.
    pub clicks: u64,
}

/// Body of `PUT /v1/programme/board/me`: join the leaderboard (or change the name shown).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BoardMembership {
    /// The name shown instead of the person's own (1 to 40 characters); none shows their name.
    #[serde(default)]
    pub pseudonym: Option<String>,
}

/// One line of the leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardEntry {
    /// 1 for the most points; equal points share a rank.
    pub rank: u32,
    /// The person's name, or the pseudonym they chose.
    pub name: String,
    pub points: i64,
    /// This line is the caller.
    pub you: bool,
}

/// The opt-in leaderboard of a month (or of all time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Board {
    /// `YYYY-MM`, or none for all time.
    pub month: Option<String>,
    pub entries: Vec<BoardEntry>,
}

/// One team of a team board: ranked by average points per active member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamEntry {
    pub rank: u32,
    /// The country code or the department's name.
    pub team: String,
    /// Members who scored at least once in the period.
    pub active_members: u32,
    pub average_points: f64,
    /// The caller's team.
    pub yours: bool,
}

/// Teams by country or department; teams of fewer than 5 people are not shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamBoard {
    pub month: Option<String>,
    pub by: TeamKind,
    pub teams: Vec<TeamEntry>,
}

/// One of the month's most shared contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopItem {
    pub rank: u32,
    pub item_id: String,
    pub title: String,
    pub url: String,
    /// The counts, only when at least [`crate::MIN_GROUP`] people shared the item (an item
    /// shared by fewer would describe them): otherwise none, the rank alone showing.
    pub verified_shares: Option<i64>,
    pub declared_shares: Option<i64>,
    pub clicks: Option<i64>,
}

/// The organisation's top ten contents of a month, by verified shares (clicks break ties).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopTen {
    pub month: String,
    pub items: Vec<TopItem>,
}

/// One of the caller's scored or refused shares, as the ledger sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyShare {
    pub share_id: String,
    pub item_id: String,
    pub title: String,
    pub network: Network,
    pub proof: ShareProof,
    pub shared_at: DateTime<Utc>,
    pub points: i64,
    pub clicks: i64,
    /// Why the share earned no share points (already scored, the daily cap, retracted), if it
    /// did not.
    pub unscored: Option<String>,
    /// Where the share stands: pending (being checked), confirmed, attested, declared or
    /// rejected.
    #[serde(default = "declared_status")]
    pub status: crate::ShareStatus,
    /// Why, when that needs saying.
    #[serde(default)]
    pub status_reason: Option<String>,
}

fn declared_status() -> crate::ShareStatus {
    crate::ShareStatus::Declared
}

/// The caller's own figures: private, whether or not they are on the leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyProgramme {
    pub month: MonthInfo,
    pub rules: PointsRules,
    pub points: i64,
    pub all_time_points: i64,
    pub verified_shares: i64,
    pub declared_shares: i64,
    pub clicks: i64,
    /// The caller's rank among everyone with points this month (leaderboard or not): "you
    /// would be 14th". None without points.
    pub rank: Option<u32>,
    /// How many people have points this month.
    pub ranked: u32,
    /// Whether the caller is on the leaderboard, and under which name.
    pub on_board: bool,
    pub pseudonym: Option<String>,
    pub shares: Vec<MyShare>,
}

/// `GET /v1/programme/summary`: what the app shows, in one answer with an `ETag`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammeSummary {
    pub me: MyProgramme,
    pub board: Board,
    pub all_time_board: Board,
    pub teams_by_country: TeamBoard,
    pub teams_by_department: TeamBoard,
    pub top: TopTen,
    /// Whether the organisation shows team boards (when not, both are empty).
    #[serde(default = "shown")]
    pub team_boards: bool,
}

fn shown() -> bool {
    true
}

/// One of the caller's verified records whose month has not closed: the device checks that
/// its post still exists, and withdraws the record when it does not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecheckItem {
    pub share_id: String,
    pub network: Network,
    pub post_id: Option<String>,
    pub post_url: Option<String>,
    /// `YYYY-MM`.
    pub month: String,
}

/// Body of `POST /v1/reads`: the items a device opened on one past day (UTC), reported once a
/// day. Reading is never scored; the server keeps only counts (each item's reads a day, and
/// whether a person consulted anything in a month), never who read what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReadReport {
    /// `YYYY-MM-DD` (UTC), before today.
    pub day: String,
    /// At most 1,000 item ids.
    pub items: Vec<String>,
}

/// What the server counted of a read report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadsCounted {
    /// Items counted (unknown items and items not offered to the person are skipped).
    pub counted: u32,
    /// The same day's report from this device was counted already: nothing was counted again.
    pub repeated: bool,
}

/// The organisation's programme settings (`GET /v1/programme/settings`, everyone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammeSettings {
    /// The IANA time zone the months follow (`Europe/Paris`).
    pub time_zone: String,
    /// Whether team boards (by country and department) are shown.
    pub team_boards: bool,
}

/// Body of `PUT /v1/programme/settings` (admins): what is absent stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProgrammeSettingsChange {
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub team_boards: Option<bool>,
}
