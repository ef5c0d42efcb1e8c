//! An insider reads every figure published about a month (the months view, each breakdown, the
//! top ten, the team boards, adoption) and solves for what any person, or two, three or four
//! people, did: any linear combination of the figures, not only differences. Then they make
//! every change an admin can (moves, departures, returns, erasures, signed-out devices) and read
//! everything again: nothing may move, or the difference would describe the people changed.
//! Random organisations (nested and overlapping groups, skewed activity, single-person cells),
//! on both backends, bounded in time.
//!
//! The adversary knows the truth (every share record and every month's points, read from the
//! database) and asks, for each measure: is there a combination of published figures that
//! weighs only the records of a set S of fewer than five people? That is rank(M) >
//! rank(M without S's columns), M being the published figures as rows over the records that
//! weigh in the measure as columns.

use relay_protocol::*;
use relay_server::analytics::disclosure::Basis;
use relay_server::analytics::publication::rounded;
use relay_server::db::Backend;
use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::Client;
use crate::newsroom::*;

crate::both_backends!(an_insider_reading_every_figure_learns_nothing_about_fewer_than_five);

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The measures of a share record, in the order of [`Truth::values`].
const SHARE_MEASURES: [&str; 6] = [
    "shares",
    "verified",
    "declared",
    "clicks",
    "reach",
    "unknown reach",
];

/// One share record as the database holds it.
#[derive(Debug, Clone)]
struct Truth {
    person: String,
    item: String,
    network: String,
    country: String,
    department: String,
    values: [u64; 6],
}

/// One person's points in the month, in the team they count in for it.
#[derive(Debug, Clone)]
struct Scorer {
    person: String,
    country: String,
    department: String,
    points: u64,
}

/// A published figure: which records it sums, and its values per measure (`None`: hidden).
struct Figure<T> {
    select: Box<dyn Fn(&T) -> bool>,
    values: Vec<Option<u64>>,
}

fn figure<T>(select: impl Fn(&T) -> bool + 'static, values: Vec<Option<u64>>) -> Figure<T> {
    Figure {
        select: Box::new(select),
        values,
    }
}

async fn an_insider_reading_every_figure_learns_nothing_about_fewer_than_five(backend: Backend) {
    for seed in 1..=3u64 {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let room = Newsroom::new(backend).await;
        let mut items = Vec::new();
        for i in 0..4 {
            items.push(room.item(&format!("Story {i}")).await);
        }
        // Nested and overlapping groups: Legal only in Belgium, Sales everywhere, a lone Ops.
        let cells = [
            ("FR", "Sales"),
            ("FR", "Marketing"),
            ("DE", "Sales"),
            ("BE", "Legal"),
            ("DE", "Marketing"),
            ("FR", "Ops"),
        ];
        let people_count = 12 + rng.below(12);
        let networks = [Network::Linkedin, Network::X, Network::Facebook];
        let mut people = Vec::new();
        let mut n = 0;
        for p in 0..people_count {
            // Skewed: the first cells are the big ones.
            let skew = rng.below(cells.len()) + 1;
            let (country, department) = cells[rng.below(skew)];
            let person = room
                .employee(&format!("Person {seed}-{p}"), country, department)
                .await;
            // Most share a little, a few a lot, some not at all.
            let shares = [0, 1, 1, 2, 3][rng.below(5)];
            for _ in 0..shares {
                n += 1;
                let skew = rng.below(items.len()) + 1;
                let item = &items[rng.below(skew)];
                let network = networks[rng.below(networks.len())];
                let record_it = if rng.below(3) == 0 {
                    declared(item, network, n)
                } else {
                    verified(item, network, n)
                };
                let share = record(&person, &record_it).await;
                // Some shares are clicked; the server read the follower counts of some.
                let db = &room.server.db().write;
                if rng.below(3) == 0 {
                    sqlx::query("UPDATE shares SET clicks = $1 WHERE share_id = $2")
                        .bind(1 + rng.below(6) as i64)
                        .bind(&share.share_id)
                        .execute(db)
                        .await
                        .unwrap();
                }
                if rng.below(2) == 0 {
                    sqlx::query("UPDATE shares SET followers = $1 WHERE share_id = $2")
                        .bind(50 + rng.below(3000) as i64)
                        .bind(&share.share_id)
                        .execute(db)
                        .await
                        .unwrap();
                }
            }
            // Devices say which networks they have accounts on.
            let accounts: Vec<Network> = networks
                .iter()
                .copied()
                .filter(|_| rng.below(2) == 0)
                .collect();
            person
                .send(
                    Method::PUT,
                    "/v1/me/accounts",
                    Some(&ConnectedNetworks { networks: accounts }),
                )
                .await;
            people.push(person);
        }
        attack(&room).await;
        let before = everything(&room).await;
        change_everything(&room, &people, &mut rng).await;
        let after = everything(&room).await;
        for (key, value) in before.as_object().unwrap() {
            assert_eq!(
                &after[key], value,
                "{key} moved after the admin's changes: the difference describes the people changed"
            );
        }
    }
}

/// What an admin can change about people: departments and countries, departures and returns,
/// signed-out devices, erasures.
async fn change_everything(room: &Newsroom, people: &[Client], rng: &mut Rng) {
    let admin = &room.admin;
    for (i, person) in people.iter().enumerate() {
        let id = person.person().id.clone();
        let path = format!("/v1/people/{id}");
        match rng.below(6) {
            0 => {
                let _: Person = admin
                    .send_ok(
                        Method::PATCH,
                        &path,
                        Some(&PersonUpdate {
                            country: Some(["FR", "DE", "BE"][rng.below(3)].into()),
                            department: Some(["Sales", "Ops", "Legal"][rng.below(3)].into()),
                            ..PersonUpdate::default()
                        }),
                    )
                    .await;
            }
            1 => {
                let _: Person = admin
                    .send_ok(
                        Method::PATCH,
                        &path,
                        Some(&PersonUpdate {
                            active: Some(false),
                            ..PersonUpdate::default()
                        }),
                    )
                    .await;
                if i % 2 == 0 {
                    // And back, without their devices.
                    let _: Person = admin
                        .send_ok(
                            Method::PATCH,
                            &path,
                            Some(&PersonUpdate {
                                active: Some(true),
                                ..PersonUpdate::default()
                            }),
                        )
                        .await;
                }
            }
            2 => {
                let _: Erasure = admin
                    .send_ok(
                        Method::POST,
                        &format!("{path}/erasure"),
                        Some(&json!({ "confirm": true })),
                    )
                    .await;
            }
            3 => {
                let answer = admin
                    .send::<()>(
                        Method::DELETE,
                        &format!("/v1/sessions/{}", person.device_id()),
                        None,
                    )
                    .await;
                assert!(answer.status.is_success(), "{:?}", answer.body);
            }
            _ => {}
        }
    }
}

/// Every figure published about the month, as an admin reads it.
async fn everything(room: &Newsroom) -> Value {
    let admin = &room.admin;
    let rules: MonthRules = admin.get("/v1/programme/rules").await;
    let month = &rules.month;
    let mut all = serde_json::Map::new();
    let months: Value = admin
        .get(&format!("/v1/analytics/months?to={month}&months=1"))
        .await;
    all.insert("months".into(), months);
    for by in [
        "network",
        "country",
        "department",
        "content",
        "channel",
        "language",
    ] {
        let breakdown: Value = admin
            .get(&format!("/v1/analytics/breakdown?month={month}&by={by}"))
            .await;
        all.insert(format!("breakdown by {by}"), breakdown);
    }
    all.insert("top ten".into(), admin.get("/v1/programme/top").await);
    for by in ["country", "department"] {
        let mut board: TeamBoard = admin
            .get(&format!("/v1/programme/teams?by={by}&month={month}"))
            .await;
        // Which team is the reader's own is not a figure.
        for t in &mut board.teams {
            t.yours = false;
        }
        all.insert(
            format!("teams by {by}"),
            serde_json::to_value(board).unwrap(),
        );
    }
    let mut adoption: Adoption = admin.get("/v1/analytics/adoption").await;
    // How many people the company has is the admin's own doing, not a figure about anyone.
    adoption.people = None;
    adoption.with_device = None;
    all.insert("adoption".into(), serde_json::to_value(adoption).unwrap());
    Value::Object(all)
}

async fn attack(room: &Newsroom) {
    let rules: MonthRules = room.admin.get("/v1/programme/rules").await;
    let month = rules.month;
    let db = &room.server.db().read;
    type Row = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        i64,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT s.person_id, s.item_id, s.network, m.country, m.department, s.counts_as, \
                s.clicks, s.followers \
         FROM shares s JOIN month_members m ON m.person_id = s.person_id AND m.month = s.month \
         WHERE s.org_id = $1 AND s.month = $2 AND s.withdrawn_at IS NULL",
    )
    .bind(&room.org.id)
    .bind(&month)
    .fetch_all(db)
    .await
    .unwrap();
    let truth: Vec<Truth> = rows
        .into_iter()
        .map(
            |(person, item, network, country, department, counts_as, clicks, followers)| {
                let verified = u64::from(counts_as.as_deref() == Some("verified"));
                Truth {
                    person,
                    item,
                    network,
                    country,
                    department,
                    values: [
                        1,
                        verified,
                        1 - verified,
                        clicks as u64,
                        followers.map_or(0, |f| rounded(f as u64)),
                        u64::from(followers.is_none()),
                    ],
                }
            },
        )
        .collect();
    let scorers: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT t.person_id, m.country, m.department, t.points FROM points_totals t \
         JOIN month_members m ON m.person_id = t.person_id AND m.month = t.month \
         WHERE t.org_id = $1 AND t.month = $2 AND t.points > 0",
    )
    .bind(&room.org.id)
    .bind(&month)
    .fetch_all(db)
    .await
    .unwrap();
    let scorers: Vec<Scorer> = scorers
        .into_iter()
        .map(|(person, country, department, points)| Scorer {
            person,
            country,
            department,
            points: points as u64,
        })
        .collect();

    // Every published figure about shares: which records it sums.
    let mut figures: Vec<Figure<Truth>> = Vec::new();
    // And about people: sharers by country and department.
    let mut heads: Vec<Figure<Truth>> = Vec::new();
    let months: Vec<MonthFigures> = room
        .admin
        .get(&format!("/v1/analytics/months?to={month}&months=1"))
        .await;
    let m = &months[0];
    figures.push(figure(
        |_| true,
        vec![
            m.shares,
            m.verified,
            m.declared,
            m.clicks,
            m.reach,
            m.reach_unknown,
        ],
    ));
    heads.push(figure(|_| true, vec![m.sharers]));
    for by in [
        "network",
        "country",
        "department",
        "content",
        "channel",
        "language",
    ] {
        let breakdown: Breakdown = room
            .admin
            .get(&format!("/v1/analytics/breakdown?month={month}&by={by}"))
            .await;
        for g in breakdown.groups.into_iter().filter(|g| !g.hidden) {
            if g.shares == Some(0) && g.people.is_none() && g.reads.is_some() {
                continue; // an unshared item listed for its reads
            }
            let k = g.key.clone();
            let select: Box<dyn Fn(&Truth) -> bool> = match by {
                "network" => Box::new(move |t: &Truth| t.network == k),
                "country" => Box::new(move |t: &Truth| t.country == k),
                "department" => Box::new(move |t: &Truth| t.department == k),
                "content" => Box::new(move |t: &Truth| t.item == k),
                // One channel and one language in these organisations: the whole month.
                _ => Box::new(|_| true),
            };
            let k = g.key.clone();
            match by {
                "country" => heads.push(figure(move |t: &Truth| t.country == k, vec![g.people])),
                "department" => {
                    heads.push(figure(move |t: &Truth| t.department == k, vec![g.people]))
                }
                _ => assert_eq!(
                    g.people, None,
                    "people are counted by country and department"
                ),
            }
            figures.push(Figure {
                select,
                values: vec![
                    g.shares,
                    g.verified,
                    g.declared,
                    g.clicks,
                    g.reach,
                    g.reach_unknown,
                ],
            });
        }
    }
    let top: TopTen = room.admin.get("/v1/programme/top").await;
    for t in top.items {
        let k = t.item_id.clone();
        let as_u = |v: Option<i64>| v.map(|v| v as u64);
        let shares = t
            .verified_shares
            .zip(t.declared_shares)
            .map(|(a, b)| (a + b) as u64);
        figures.push(figure(
            move |r: &Truth| r.item == k,
            vec![
                shares,
                as_u(t.verified_shares),
                as_u(t.declared_shares),
                as_u(t.clicks),
                None,
                None,
            ],
        ));
    }
    for (measure, name) in SHARE_MEASURES.iter().enumerate() {
        solve(
            name,
            &figures,
            measure,
            &truth,
            |t| t.values[measure],
            |t| &t.person,
        );
    }
    // Sharers: one record per person (in the groups of their month).
    let mut sharers = truth.clone();
    sharers.sort_by(|a, b| a.person.cmp(&b.person));
    sharers.dedup_by(|a, b| a.person == b.person);
    solve("sharers", &heads, 0, &sharers, |_| 1, |t| &t.person);

    // The team boards: each shown team's active members and points (average times members).
    let mut teams: Vec<Figure<Scorer>> = Vec::new();
    for by in ["country", "department"] {
        let board: TeamBoard = room
            .admin
            .get(&format!("/v1/programme/teams?by={by}&month={month}"))
            .await;
        for t in board.teams {
            let k = t.team.clone();
            let select: Box<dyn Fn(&Scorer) -> bool> = if by == "country" {
                Box::new(move |s: &Scorer| s.country == k)
            } else {
                Box::new(move |s: &Scorer| s.department == k)
            };
            let points = (t.average_points * f64::from(t.active_members)).round() as u64;
            teams.push(Figure {
                select,
                values: vec![Some(points), Some(u64::from(t.active_members))],
            });
        }
    }
    solve("points", &teams, 0, &scorers, |s| s.points, |s| &s.person);
    solve("active members", &teams, 1, &scorers, |_| 1, |s| &s.person);
}

/// Checks that the published values of `measure` are the truth's sums (the adversary's model is
/// the server's), then that no combination of them describes fewer than five people: every
/// person, every pair, and triples and quadruples drawn at random.
fn solve<T>(
    name: &str,
    figures: &[Figure<T>],
    measure: usize,
    records: &[T],
    weight: impl Fn(&T) -> u64,
    person: impl Fn(&T) -> &String,
) {
    let columns: Vec<&T> = records.iter().filter(|r| weight(r) > 0).collect();
    let rows: Vec<&Figure<T>> = figures
        .iter()
        .filter(|f| f.values[measure].is_some())
        .collect();
    for f in &rows {
        let sum: u64 = columns
            .iter()
            .filter(|r| (f.select)(r))
            .map(|r| weight(r))
            .sum();
        assert_eq!(f.values[measure], Some(sum), "{name}");
    }
    let rank_without = |excluded: &[&String]| {
        let mut basis = Basis::new(rows.len());
        for r in columns.iter().filter(|r| !excluded.contains(&person(r))) {
            let ones: Vec<usize> = rows
                .iter()
                .enumerate()
                .filter(|(_, f)| (f.select)(r))
                .map(|(i, _)| i)
                .collect();
            basis.insert(&ones);
        }
        basis.rank()
    };
    let full = rank_without(&[]);
    let mut people: Vec<&String> = columns.iter().map(|r| person(r)).collect();
    people.sort();
    people.dedup();
    let mut sets: Vec<Vec<&String>> = people.iter().map(|p| vec![*p]).collect();
    for (i, a) in people.iter().enumerate() {
        for b in &people[i + 1..] {
            sets.push(vec![*a, *b]);
        }
    }
    let mut rng = Rng(0x1234_5678 + measure as u64 + name.len() as u64);
    for size in [3, 4] {
        for _ in 0..150 {
            if people.len() < size {
                break;
            }
            let mut set: Vec<&String> = Vec::new();
            while set.len() < size {
                let p = people[rng.below(people.len())];
                if !set.contains(&p) {
                    set.push(p);
                }
            }
            sets.push(set);
        }
    }
    for set in sets {
        assert_eq!(
            rank_without(&set),
            full,
            "{name}: a combination of published figures describes only {set:?}"
        );
    }
}
