//! Everything published about a month, decided together: the months view, every breakdown, the
//! top ten's counts and the team boards. Each is a sum over the month's records in a group, so
//! they are linked tables: the groups to hide are chosen over all of them at once
//! (`disclosure.rs`), from records whose groups stand still (a person's attributes and an item's
//! channel and language as they were at their first activity in the month).
//!
//! Closed months are computed once, at the first reading after the close, and kept; open months
//! at every reading.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use relay_protocol::{Breakdown, Dimension, GroupFigures, MonthFigures, TeamKind, MIN_GROUP};
use serde::{Deserialize, Serialize};

use super::disclosure::{self, Family, Record};
pub use super::members::VIEW;
use crate::db::now_ms;
use crate::error::ApiError;
use crate::programme::calendar::{Calendar, Month};
use crate::state::AppState;

/// The dimensions, in the order of their indices in [`disclosure`].
const DIMENSIONS: [Dimension; 6] = [
    Dimension::Channel,
    Dimension::Network,
    Dimension::Language,
    Dimension::Country,
    Dimension::Department,
    Dimension::Content,
];
const COUNTRY: usize = 3;
const DEPARTMENT: usize = 4;

/// The families of records: shares (by every dimension), sharers and scorers (people, by country
/// and department).
const SHARES: usize = 0;
const SHARERS: usize = 1;
const SCORERS: usize = 2;

/// The measures of a share record.
const MEASURES: usize = 6;
const S_SHARES: usize = 0;
const S_VERIFIED: usize = 1;
const S_DECLARED: usize = 2;
const S_CLICKS: usize = 3;
const S_REACH: usize = 4;
const S_UNKNOWN: usize = 5;

/// One team's figures for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamFigures {
    pub team: String,
    /// Members with points in the month.
    pub active: u64,
    pub points: u64,
}

/// A month's published figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Publication {
    pub figures: MonthFigures,
    /// One per dimension; content groups without labels or reads (added at reading).
    pub breakdowns: Vec<Breakdown>,
    /// The teams shown, by country and by department.
    pub by_country: Vec<TeamFigures>,
    pub by_department: Vec<TeamFigures>,
}

impl Publication {
    pub fn breakdown(&self, by: Dimension) -> Breakdown {
        self.breakdowns
            .iter()
            .find(|b| b.by == by)
            .cloned()
            .unwrap_or_else(|| Breakdown {
                month: self.figures.month.clone(),
                by,
                groups: Vec::new(),
            })
    }

    pub fn teams(&self, kind: TeamKind) -> &[TeamFigures] {
        match kind {
            TeamKind::Country => &self.by_country,
            TeamKind::Department => &self.by_department,
        }
    }

    /// A content's figures, when shown.
    pub fn content(&self, item_id: &str) -> Option<&GroupFigures> {
        self.breakdowns
            .iter()
            .find(|b| b.by == Dimension::Content)?
            .groups
            .iter()
            .find(|g| g.key == item_id && !g.hidden)
    }
}

/// A month's publication: kept if the month is closed, computed otherwise.
pub async fn of(
    state: &AppState,
    org_id: &str,
    calendar: &Calendar,
    month: Month,
) -> Result<Publication, ApiError> {
    let key = month.to_string();
    let kept: Option<String> = sqlx::query_scalar(
        "SELECT body FROM analytics_snapshots WHERE org_id = $1 AND month = $2 AND view = $3",
    )
    .bind(org_id)
    .bind(&key)
    .bind(VIEW)
    .fetch_optional(&state.db.read)
    .await?;
    if let Some(body) = kept {
        return Ok(serde_json::from_str(&body)?);
    }
    let publication = compute(state, org_id, calendar, month).await?;
    if calendar.is_closed(month, Utc::now()) {
        keep(state, org_id, &key, &publication).await?;
    }
    Ok(publication)
}

/// Keeps every closed month with activity whose figures are not kept yet: from then on they
/// stand still whatever happens to the people in them, and the rows only their computation
/// needed (erased people's groups and devices in the month) go at the close, not when someone
/// happens to read the figures. Returns how many months were kept.
pub async fn keep_closed(state: &AppState) -> Result<usize, ApiError> {
    let open: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT m.org_id, m.month FROM month_members m \
         WHERE NOT EXISTS (SELECT 1 FROM analytics_snapshots s \
           WHERE s.org_id = m.org_id AND s.month = m.month AND s.view = $1) \
         UNION SELECT DISTINCT a.org_id, a.month FROM month_accounts a \
         WHERE NOT EXISTS (SELECT 1 FROM analytics_snapshots s \
           WHERE s.org_id = a.org_id AND s.month = a.month AND s.view = $1)",
    )
    .bind(VIEW)
    .fetch_all(&state.db.read)
    .await?;
    let mut kept = 0;
    for (org_id, month) in open {
        let mut conn = state.db.read.acquire().await?;
        let calendar =
            crate::programme::calendar::calendar_of(&mut conn, state.config.month_grace, &org_id)
                .await?;
        drop(conn);
        let month = Month::parse(&month)?;
        if calendar.is_closed(month, Utc::now()) {
            of(state, &org_id, &calendar, month).await?;
            kept += 1;
        }
    }
    Ok(kept)
}

/// Keeps a closed month's publication (two instances computing it at once keep the first), and
/// lets go of what only its computation needed: the groups erased people counted in.
async fn keep(
    state: &AppState,
    org_id: &str,
    month: &str,
    publication: &Publication,
) -> Result<(), ApiError> {
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO analytics_snapshots (org_id, month, view, body, computed_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, month, view) DO NOTHING",
    )
    .bind(org_id)
    .bind(month)
    .bind(VIEW)
    .bind(serde_json::to_string(publication)?)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    super::members::forget_erased(&mut tx, org_id, month).await?;
    tx.commit().await?;
    Ok(())
}

/// Two significant digits: what a published reach adds up, and all an erased person's shares
/// keep (so that an erasure moves no figure).
pub fn rounded(followers: u64) -> u64 {
    let mut unit = 1;
    while followers / unit >= 100 {
        unit *= 10;
    }
    followers / unit * unit
}

type ShareRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
);

async fn compute(
    state: &AppState,
    org_id: &str,
    calendar: &Calendar,
    month: Month,
) -> Result<Publication, ApiError> {
    let db = &state.db.read;
    let key = month.to_string();
    let shares: Vec<ShareRow> = sqlx::query_as(
        "SELECT s.person_id, s.item_id, COALESCE(mi.channel_id, i.channel_id, ''), \
                COALESCE(mi.language, i.language, ''), s.network, \
                COALESCE(m.country, ''), COALESCE(m.department, ''), s.counts_as, s.clicks, \
                s.followers \
         FROM shares s \
         LEFT JOIN month_members m ON m.person_id = s.person_id AND m.month = s.month \
         LEFT JOIN month_items mi ON mi.item_id = s.item_id AND mi.month = s.month \
         LEFT JOIN items i ON i.id = s.item_id \
         WHERE s.org_id = $1 AND s.month = $2 AND s.withdrawn_at IS NULL",
    )
    .bind(org_id)
    .bind(&key)
    .fetch_all(db)
    .await?;
    let scorers: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT t.person_id, t.points, COALESCE(m.country, ''), COALESCE(m.department, '') \
         FROM points_totals t \
         LEFT JOIN month_members m ON m.person_id = t.person_id AND m.month = t.month \
         WHERE t.org_id = $1 AND t.month = $2 AND t.points > 0",
    )
    .bind(org_id)
    .bind(&key)
    .fetch_all(db)
    .await?;
    // People with a device during the month (admins see devices anyway), as adoption counts them.
    let mut conn = state.db.read.acquire().await?;
    let enrolled = super::adoption::enrolled_in(&mut conn, org_id, calendar, month).await?;
    drop(conn);
    let consulters: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM consults WHERE org_id = $1 AND month = $2")
            .bind(org_id)
            .bind(&key)
            .fetch_one(db)
            .await?;
    Ok(publish(
        &key,
        &shares,
        &scorers,
        enrolled,
        consulters as u64,
    ))
}

/// Interned strings: group keys per dimension, people.
#[derive(Default)]
struct Names {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_owned(), id);
        self.names.push(name.to_owned());
        id
    }
}

/// The publication of a month's records (pure: tested without a database).
fn publish(
    month: &str,
    shares: &[ShareRow],
    scorers: &[(String, i64, String, String)],
    enrolled: u64,
    consulters: u64,
) -> Publication {
    let mut people = Names::default();
    let mut groups: Vec<Names> = (0..DIMENSIONS.len()).map(|_| Names::default()).collect();
    let mut families = vec![
        Family {
            dims: (0..DIMENSIONS.len()).collect(),
            measures: MEASURES,
            linked: vec![vec![S_VERIFIED, S_DECLARED]],
            total: true,
            records: Vec::new(),
        },
        Family {
            dims: vec![COUNTRY, DEPARTMENT],
            measures: 1,
            linked: Vec::new(),
            total: true,
            records: Vec::new(),
        },
        // Team boards: points and active members, no organisation-wide total.
        Family {
            dims: vec![COUNTRY, DEPARTMENT],
            measures: 2,
            linked: vec![vec![0, 1]],
            total: false,
            records: Vec::new(),
        },
    ];
    let mut sharers: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
    for (
        person,
        item,
        channel,
        language,
        network,
        country,
        department,
        counts_as,
        clicks,
        followers,
    ) in shares
    {
        let person = people.id(person);
        let keys = [channel, network, language, country, department, item];
        let ids: Vec<u32> = keys
            .iter()
            .zip(groups.iter_mut())
            .map(|(k, names)| names.id(k))
            .collect();
        let verified = u64::from(counts_as.as_deref() == Some("verified"));
        let clicks = (*clicks).max(0) as u64;
        let reach = followers.map_or(0, |f| rounded(f.max(0) as u64));
        let unknown = u64::from(followers.is_none());
        families[SHARES].records.push(Record {
            person,
            groups: ids.clone(),
            values: vec![1, verified, 1 - verified, clicks, reach, unknown],
        });
        sharers.insert(person, (ids[COUNTRY], ids[DEPARTMENT]));
    }
    families[SHARERS].records = sharers
        .iter()
        .map(|(person, (country, department))| Record {
            person: *person,
            groups: vec![*country, *department],
            values: vec![1],
        })
        .collect();
    for (person, points, country, department) in scorers {
        let person = people.id(person);
        let country = groups[COUNTRY].id(country);
        let department = groups[DEPARTMENT].id(department);
        families[SCORERS].records.push(Record {
            person,
            groups: vec![country, department],
            values: vec![(*points).max(0) as u64, 1],
        });
    }
    let decision = disclosure::decide(&families, DIMENSIONS.len());

    // Sums of a family's measures per group of a dimension (`None`: the total).
    let sum = |family: usize, dim: Option<usize>| -> BTreeMap<u32, Vec<u64>> {
        let f = &families[family];
        let mut out: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        for r in &f.records {
            let group = match dim {
                Some(dim) => {
                    let at = f
                        .dims
                        .iter()
                        .position(|d| *d == dim)
                        .expect("a family dimension");
                    r.groups[at]
                }
                None => 0,
            };
            let acc = out.entry(group).or_insert_with(|| vec![0; f.measures]);
            for (a, v) in acc.iter_mut().zip(&r.values) {
                *a += v;
            }
        }
        out
    };
    let total = |family: usize, measure: usize| -> Option<u64> {
        if decision.totals_hidden[family][measure] {
            return None;
        }
        let contributors: HashSet<u32> = families[family]
            .records
            .iter()
            .filter(|r| r.values[measure] > 0)
            .map(|r| r.person)
            .collect();
        let value: u64 = families[family]
            .records
            .iter()
            .map(|r| r.values[measure])
            .sum();
        // A total of zero describes nobody; one of fewer than five people is hidden by `decide`.
        (contributors.is_empty() || contributors.len() as u64 >= MIN_GROUP).then_some(value)
    };
    let ratio = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64),
        _ => None,
    };
    // A month nobody shared in shows no figure, as one with fewer than five sharers.
    let sharers_total = total(SHARERS, 0).and_then(super::privacy::shown);
    // Counts of shares describe their sharers: none without them.
    let of_sharers = |m: usize| sharers_total.and(total(SHARES, m));
    let enrolled = super::privacy::shown(enrolled);
    let consulters = super::privacy::shown(consulters);
    let (shares_total, verified, declared) = (
        of_sharers(S_SHARES),
        of_sharers(S_VERIFIED),
        of_sharers(S_DECLARED),
    );
    let clicks = of_sharers(S_CLICKS);
    let figures = MonthFigures {
        month: month.to_owned(),
        enrolled,
        sharers: sharers_total,
        sharer_rate: ratio(sharers_total, enrolled),
        shares: shares_total,
        verified,
        declared,
        shares_per_sharer: ratio(shares_total, sharers_total),
        clicks,
        click_through: ratio(clicks, shares_total),
        reach: of_sharers(S_REACH),
        reach_unknown: of_sharers(S_UNKNOWN),
        consulters,
        consult_rate: ratio(consulters, enrolled),
    };

    let mut breakdowns = Vec::with_capacity(DIMENSIONS.len());
    for (dim, by) in DIMENSIONS.iter().enumerate() {
        let sums = sum(SHARES, Some(dim));
        // People count in country and department only: there each person is in one group, so
        // the counts add up; elsewhere (a person shares on several networks) they would not,
        // and their overlaps would describe a few people.
        let people_of = (dim == COUNTRY || dim == DEPARTMENT).then(|| sum(SHARERS, Some(dim)));
        let mut list: Vec<GroupFigures> = sums
            .iter()
            .map(|(group, v)| {
                let show = decision.shows(dim, *group);
                let dropped = &decision.totals_hidden;
                let of = |m: usize, x: u64| (show && !dropped[SHARES][m]).then_some(x);
                let when = |x: u64| show.then_some(x);
                GroupFigures {
                    key: groups[dim].names[*group as usize].clone(),
                    hidden: !show,
                    people: people_of
                        .as_ref()
                        .and_then(|p| p.get(group))
                        .and_then(|p| (!dropped[SHARERS][0]).then_some(p[0]))
                        .and_then(when),
                    shares: of(S_SHARES, v[S_SHARES]),
                    verified: of(S_VERIFIED, v[S_VERIFIED]),
                    declared: of(S_DECLARED, v[S_DECLARED]),
                    clicks: of(S_CLICKS, v[S_CLICKS]),
                    reach: of(S_REACH, v[S_REACH]),
                    reach_unknown: of(S_UNKNOWN, v[S_UNKNOWN]),
                    label: None,
                    reads: None,
                }
            })
            .collect();
        list.sort_by(|a, b| {
            a.hidden
                .cmp(&b.hidden)
                .then(b.shares.cmp(&a.shares))
                .then(a.key.cmp(&b.key))
        });
        breakdowns.push(Breakdown {
            month: month.to_owned(),
            by: *by,
            groups: list,
        });
    }
    let teams = |dim: usize| -> Vec<TeamFigures> {
        sum(SCORERS, Some(dim))
            .into_iter()
            .filter(|(group, _)| decision.shows(dim, *group) && !decision.totals_hidden[SCORERS][0])
            .map(|(group, v)| TeamFigures {
                team: groups[dim].names[group as usize].clone(),
                points: v[0],
                active: v[1],
            })
            .collect()
    };
    Publication {
        figures,
        breakdowns,
        by_country: teams(COUNTRY),
        by_department: teams(DEPARTMENT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reach_keeps_two_significant_digits() {
        assert_eq!(
            [0, 7, 99, 123, 1_999, 45_678, 1_234_567].map(rounded),
            [0, 7, 99, 120, 1_900, 45_000, 1_200_000]
        );
    }

    fn share(person: usize, item: &str, network: &str, country: &str, verified: bool) -> ShareRow {
        (
            format!("p{person}"),
            item.to_owned(),
            format!("channel-{item}"),
            "en".to_owned(),
            network.to_owned(),
            country.to_owned(),
            "Sales".to_owned(),
            Some(if verified { "verified" } else { "declared" }.to_owned()),
            2,
            verified.then_some(1_234),
        )
    }

    #[test]
    fn a_month_of_big_groups_is_shown_whole() {
        let mut shares = Vec::new();
        for p in 0..12 {
            let country = if p < 6 { "FR" } else { "DE" };
            shares.push(share(p, "a", "linkedin", country, true));
            shares.push(share(p, "b", "linkedin", country, false));
        }
        let scorers: Vec<_> = (0..12)
            .map(|p| {
                (
                    format!("p{p}"),
                    10,
                    if p < 6 { "FR" } else { "DE" }.to_owned(),
                    "Sales".to_owned(),
                )
            })
            .collect();
        let p = publish("2026-11", &shares, &scorers, 20, 15);
        assert_eq!(p.figures.shares, Some(24));
        assert_eq!(p.figures.reach, Some(12 * 1_200));
        let by_country = p.breakdown(Dimension::Country);
        assert!(by_country.groups.iter().all(|g| !g.hidden));
        assert_eq!(by_country.groups[0].people, Some(6));
        assert!(p.breakdown(Dimension::Network).groups[0].people.is_none());
        assert_eq!(p.by_country.len(), 2);
        assert_eq!(p.by_country[0].points, 60);
    }

    #[test]
    fn a_lone_sharer_is_hidden_everywhere_at_once() {
        let mut shares = Vec::new();
        for p in 0..10 {
            shares.push(share(p, "a", "linkedin", "FR", true));
        }
        shares.push(share(10, "b", "x", "BE", true));
        let p = publish("2026-11", &shares, &[], 20, 0);
        // Everyone is in Sales and reads English: those groups hold the whole month and stay.
        let whole = [Dimension::Department, Dimension::Language];
        for by in DIMENSIONS.into_iter().filter(|d| !whole.contains(d)) {
            let b = p.breakdown(by);
            let hidden: Vec<&str> = b
                .groups
                .iter()
                .filter(|g| g.hidden)
                .map(|g| g.key.as_str())
                .collect();
            assert!(!hidden.is_empty(), "{by:?}: {b:?}");
        }
        assert_eq!(p.figures.sharers, Some(11));
        let sales = &p.breakdown(Dimension::Department).groups[0];
        assert_eq!((sales.hidden, sales.shares), (false, Some(11)));
    }
}
