//! The programme's commands and views: My activity (points, shares, rank), the opt-in
//! leaderboard, team boards and the top ten, read from the device's cache when offline; and
//! the tracked link the composer shows.

use relay_client::programme::ProgrammeView;
use relay_protocol::{Board, TeamBoard};
use serde::Serialize;
use specta::Type;
use tauri::{AppHandle, State};
use tauri_specta::Event;

use crate::error::AppResult;
use crate::state::AppState;
use crate::views::{Changed, NetworkKind};

#[derive(Debug, Clone, Serialize, Type)]
pub struct RulesView {
    pub verified_share: u32,
    pub declared_share: u32,
    pub daily_cap: u32,
    pub click: u32,
    pub click_cap: u32,
    /// Whether this month's attested shares (X, LinkedIn) count as verified: the organisation's
    /// choice, shown to everyone.
    pub trust_attested: bool,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct MyShareView {
    pub item_id: String,
    pub title: String,
    pub network: NetworkKind,
    /// Where the share stands as the server knows it.
    pub status: ShareCheck,
    /// Why, when the server says (English).
    pub status_reason: Option<String>,
    pub shared_at: String,
    pub points: i64,
    pub clicks: i64,
    /// `already_scored`, `daily_cap` or `retracted` when the share earned no share points.
    pub unscored: Option<String>,
}

/// Where a share stands as the server knows it (never as the device says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ShareCheck {
    /// The server has yet to read the post (Bluesky, Mastodon): "being checked".
    Pending,
    /// The server read the post where anyone may, on the person's account, with their link.
    Confirmed,
    /// Posted by the device, which the server cannot check (X, LinkedIn): the device's word.
    Attested,
    /// Opened on a share page, or a post the server could not read in time.
    Declared,
    /// Not there, not the person's, or not this share's: no points.
    Rejected,
}

impl From<relay_protocol::ShareStatus> for ShareCheck {
    fn from(s: relay_protocol::ShareStatus) -> Self {
        use relay_protocol::ShareStatus as S;
        match s {
            S::Pending => Self::Pending,
            S::Confirmed => Self::Confirmed,
            S::Attested => Self::Attested,
            S::Declared => Self::Declared,
            S::Rejected => Self::Rejected,
        }
    }
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct BoardLine {
    pub rank: u32,
    pub name: String,
    pub points: i64,
    pub you: bool,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct TeamLine {
    pub rank: u32,
    pub team: String,
    pub active_members: u32,
    pub average_points: f64,
    pub yours: bool,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct TopLine {
    pub rank: u32,
    pub item_id: String,
    pub title: String,
    /// None when fewer than five people shared it (the counts would describe them).
    pub verified_shares: Option<i64>,
    pub clicks: Option<i64>,
}

/// Everything the programme screens show.
#[derive(Debug, Clone, Serialize, Type)]
pub struct ProgrammeScreen {
    /// The server could not be reached: this is what the device last heard.
    pub offline: bool,
    /// When the server last confirmed it (RFC 3339).
    pub fetched_at: String,
    /// `YYYY-MM`, and when its records close (RFC 3339).
    pub month: String,
    pub closes_at: String,
    pub rules: RulesView,
    pub points: i64,
    pub all_time_points: i64,
    pub verified_shares: i64,
    pub declared_shares: i64,
    pub clicks: i64,
    /// Where the person would rank this month (on the board or not), among `ranked`.
    pub rank: Option<u32>,
    pub ranked: u32,
    pub on_board: bool,
    pub pseudonym: Option<String>,
    pub shares: Vec<MyShareView>,
    pub board: Vec<BoardLine>,
    pub all_time_board: Vec<BoardLine>,
    /// Whether the organisation shows team boards.
    pub team_boards: bool,
    pub teams_by_country: Vec<TeamLine>,
    pub teams_by_department: Vec<TeamLine>,
    pub top: Vec<TopLine>,
}

fn lines(board: &Board) -> Vec<BoardLine> {
    board
        .entries
        .iter()
        .map(|e| BoardLine {
            rank: e.rank,
            name: e.name.clone(),
            points: e.points,
            you: e.you,
        })
        .collect()
}

fn teams(board: &TeamBoard) -> Vec<TeamLine> {
    board
        .teams
        .iter()
        .map(|t| TeamLine {
            rank: t.rank,
            team: t.team.clone(),
            active_members: t.active_members,
            average_points: t.average_points,
            yours: t.yours,
        })
        .collect()
}

/// The screen's view, or `None` when the device never heard the programme (and is offline).
pub fn screen(view: &ProgrammeView) -> Option<ProgrammeScreen> {
    let programme = view.programme.as_ref()?;
    let s = &programme.summary;
    let me = &s.me;
    Some(ProgrammeScreen {
        offline: view.offline,
        fetched_at: programme.fetched_at.to_rfc3339(),
        month: me.month.month.clone(),
        closes_at: me.month.closes_at.to_rfc3339(),
        rules: RulesView {
            verified_share: me.rules.verified_share,
            declared_share: me.rules.declared_share,
            daily_cap: me.rules.daily_cap,
            click: me.rules.click,
            click_cap: me.rules.click_cap,
            trust_attested: me.rules.trust_attested,
        },
        points: me.points,
        all_time_points: me.all_time_points,
        verified_shares: me.verified_shares,
        declared_shares: me.declared_shares,
        clicks: me.clicks,
        rank: me.rank,
        ranked: me.ranked,
        on_board: me.on_board,
        pseudonym: me.pseudonym.clone(),
        shares: me
            .shares
            .iter()
            .map(|m| MyShareView {
                item_id: m.item_id.clone(),
                title: m.title.clone(),
                network: m.network.into(),
                status: m.status.into(),
                status_reason: m.status_reason.clone(),
                shared_at: m.shared_at.to_rfc3339(),
                points: m.points,
                clicks: m.clicks,
                unscored: m.unscored.clone(),
            })
            .collect(),
        board: lines(&s.board),
        all_time_board: lines(&s.all_time_board),
        team_boards: s.team_boards,
        teams_by_country: teams(&s.teams_by_country),
        teams_by_department: teams(&s.teams_by_department),
        top: s
            .top
            .items
            .iter()
            .map(|t| TopLine {
                rank: t.rank,
                item_id: t.item_id.clone(),
                title: t.title.clone(),
                verified_shares: t.verified_shares,
                clicks: t.clicks,
            })
            .collect(),
    })
}

/// The programme: asked of the server (a cheap `304` when nothing moved), the cache offline.
#[tauri::command]
#[specta::specta]
pub async fn programme(state: State<'_, AppState>) -> AppResult<Option<ProgrammeScreen>> {
    Ok(screen(&state.engine.programme().await?))
}

/// Joins the leaderboard (under a pseudonym, or the person's name) or leaves it.
#[tauri::command]
#[specta::specta]
pub async fn set_on_board(
    app: AppHandle,
    state: State<'_, AppState>,
    on: bool,
    pseudonym: Option<String>,
) -> AppResult<Option<ProgrammeScreen>> {
    let pseudonym = pseudonym.filter(|p| !p.trim().is_empty());
    let view = state.engine.set_on_board(on, pseudonym).await?;
    let _ = Changed {
        programme: true,
        ..Changed::default()
    }
    .emit(&app);
    Ok(screen(&view))
}

/// The tracked link a share of this item on this network will carry.
#[tauri::command]
#[specta::specta]
pub async fn tracked_link(
    state: State<'_, AppState>,
    item_id: String,
    network: NetworkKind,
) -> AppResult<String> {
    Ok(state
        .engine
        .tracked_link(&item_id, network.into())
        .await?
        .url)
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct PrizeLine {
    pub name: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct WinnerLine {
    pub prize: String,
    pub name: String,
    pub entry_id: String,
    pub you: bool,
}

/// A month's prize draw, and what this device found checking it.
#[derive(Debug, Clone, Serialize, Type)]
pub struct DrawScreen {
    pub month: String,
    /// The server could not be reached: this is the device's copy.
    pub offline: bool,
    pub prizes: Vec<PrizeLine>,
    /// Who is eligible: the top N by points, or everyone with K verified shares.
    pub top_points: Option<u32>,
    pub min_verified_shares: Option<u32>,
    /// The commitment: the seed's hash and the beacon round (and when it comes out, RFC 3339).
    pub seed_hash: Option<String>,
    pub beacon_round: Option<u64>,
    pub beacon_round_at: Option<String>,
    /// Entries once the list is frozen.
    pub entries: Option<u32>,
    pub my_entry_id: Option<String>,
    pub opted_out: bool,
    pub winners: Vec<WinnerLine>,
    /// `true` when the draw verified on this device, `false` when it did not (see `problem`),
    /// none before it is made.
    pub verified: Option<bool>,
    /// Why it did not verify, or what is wrong before it is made (a commitment or list that
    /// changed since this device saw it).
    pub problem: Option<String>,
    /// When entries close (RFC 3339) and the commitment's digest, as published.
    pub closes_at: Option<String>,
    pub digest: Option<String>,
    /// Whether this device saw the entry list before the beacon round existed.
    pub witness: DrawWitness,
    /// When this device first saw the commitment and the list (RFC 3339).
    pub commitment_seen_at: Option<String>,
    pub list_seen_at: Option<String>,
}

/// What this device can say of the entry list's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum DrawWitness {
    /// No list yet.
    NotFrozen,
    /// Seen before the round existed: nobody could then know who would win.
    BeforeRound,
    /// First seen after the round existed: this device cannot vouch for its timing.
    AfterRound,
}

impl From<relay_draw::pins::Witness> for DrawWitness {
    fn from(w: relay_draw::pins::Witness) -> Self {
        match w {
            relay_draw::pins::Witness::NotFrozen => Self::NotFrozen,
            relay_draw::pins::Witness::BeforeRound => Self::BeforeRound,
            relay_draw::pins::Witness::AfterRound => Self::AfterRound,
        }
    }
}

fn draw_screen(check: &relay_client::programme::DrawCheck) -> DrawScreen {
    let d = &check.draw;
    let setup = d.setup.as_ref();
    DrawScreen {
        month: d.month.clone(),
        offline: check.offline,
        prizes: setup
            .map(|s| {
                s.prizes
                    .iter()
                    .map(|p| PrizeLine {
                        name: p.name.clone(),
                        quantity: p.quantity,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        top_points: setup.and_then(|s| s.eligibility.top_points),
        min_verified_shares: setup.and_then(|s| s.eligibility.min_verified_shares),
        seed_hash: d.commitment.as_ref().map(|c| c.seed_hash.clone()),
        beacon_round: d.commitment.as_ref().map(|c| c.beacon_round),
        beacon_round_at: d
            .commitment
            .as_ref()
            .map(|c| c.beacon_round_at.to_rfc3339()),
        entries: d
            .entries
            .as_ref()
            .map(|e| u32::try_from(e.entries.len()).unwrap_or(u32::MAX)),
        my_entry_id: d.my_entry_id.clone(),
        opted_out: d.opted_out,
        winners: d
            .result
            .as_ref()
            .map(|r| {
                r.winners
                    .iter()
                    .map(|w| WinnerLine {
                        prize: w.prize.clone(),
                        name: w.name.clone(),
                        entry_id: w.entry_id.clone(),
                        you: d.my_entry_id.as_deref() == Some(w.entry_id.as_str()),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        verified: check.verified.as_ref().map(Result::is_ok),
        problem: check.problem.clone().or_else(|| {
            check
                .verified
                .as_ref()
                .and_then(|v| v.as_ref().err().cloned())
        }),
        closes_at: d.commitment.as_ref().map(|c| c.closes_at.to_rfc3339()),
        digest: d.commitment.as_ref().map(|c| c.digest.clone()),
        witness: check.witness.into(),
        commitment_seen_at: check.commitment_seen_at.map(|t| t.to_rfc3339()),
        list_seen_at: check.list_seen_at.map(|t| t.to_rfc3339()),
    }
}

/// A month's prize draw (`YYYY-MM`), verified on this device.
#[tauri::command]
#[specta::specta]
pub async fn draw(state: State<'_, AppState>, month: String) -> AppResult<DrawScreen> {
    Ok(draw_screen(&state.engine.draw(&month).await?))
}

/// Opts out of (or back into) a month's draw.
#[tauri::command]
#[specta::specta]
pub async fn set_draw_opt_out(
    state: State<'_, AppState>,
    month: String,
    opted_out: bool,
) -> AppResult<DrawScreen> {
    Ok(draw_screen(
        &state.engine.set_draw_opt_out(&month, opted_out).await?,
    ))
}
