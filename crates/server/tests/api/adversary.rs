//! An insider reads every figure published about a month (the months view, each breakdown, the
//! top ten) and solves for what any person, or two, three or four people, did: any linear
//! combination of the figures, not only differences. Random organisations (nested and
//! overlapping groups, skewed activity, single-person cells), on both backends, bounded in time.
//!
//! The adversary knows the truth (every share record, read from the database) and asks, for
//! each measure: is there a combination of published figures that weighs only the records of a
//! set S of fewer than five people? That is rank(M) > rank(M without S's columns), M being the
//! published figures as rows over the records as columns.

use relay_protocol::*;
use relay_server::analytics::disclosure::Basis;
use relay_server::db::Backend;

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

/// One share record as the database holds it.
#[derive(Debug, Clone)]
struct Truth {
    person: String,
    item: String,
    network: String,
    country: String,
    department: String,
    verified: bool,
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
                record(&person, &record_it).await;
            }
        }
        attack(&room).await;
    }
}

async fn attack(room: &Newsroom) {
    let rules: MonthRules = room.admin.get("/v1/programme/rules").await;
    let month = rules.month;
    let truth: Vec<(String, String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT s.person_id, s.item_id, s.network, m.country, m.department, s.counts_as \
         FROM shares s JOIN month_members m ON m.person_id = s.person_id AND m.month = s.month \
         WHERE s.org_id = $1 AND s.month = $2 AND s.withdrawn_at IS NULL",
    )
    .bind(&room.org.id)
    .bind(&month)
    .fetch_all(&room.server.db().read)
    .await
    .unwrap();
    let truth: Vec<Truth> = truth
        .into_iter()
        .map(
            |(person, item, network, country, department, counts_as)| Truth {
                person,
                item,
                network,
                country,
                department,
                verified: counts_as.as_deref() == Some("verified"),
            },
        )
        .collect();

    // Every published figure: which records it sums, per measure (shares, verified, declared).
    type Selector = Box<dyn Fn(&Truth) -> bool>;
    let mut figures: Vec<(Selector, [Option<u64>; 3])> = Vec::new();
    let months: Vec<MonthFigures> = room
        .admin
        .get(&format!("/v1/analytics/months?to={month}&months=1"))
        .await;
    let m = &months[0];
    figures.push((Box::new(|_| true), [m.shares, m.verified, m.declared]));
    for (by, key) in [
        ("network", 0usize),
        ("country", 1),
        ("department", 2),
        ("content", 3),
        ("channel", 4),
        ("language", 5),
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
            let select: Selector = match key {
                0 => Box::new(move |t: &Truth| t.network == k),
                1 => Box::new(move |t: &Truth| t.country == k),
                2 => Box::new(move |t: &Truth| t.department == k),
                3 => Box::new(move |t: &Truth| t.item == k),
                // One channel and one language in these organisations: the whole month.
                _ => Box::new(|_| true),
            };
            figures.push((select, [g.shares, g.verified, g.declared]));
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
        figures.push((
            Box::new(move |r: &Truth| r.item == k),
            [shares, as_u(t.verified_shares), as_u(t.declared_shares)],
        ));
    }

    let people: Vec<String> = {
        let mut p: Vec<String> = truth.iter().map(|t| t.person.clone()).collect();
        p.sort();
        p.dedup();
        p
    };
    for measure in 0..3 {
        let counts = |t: &Truth| match measure {
            0 => true,
            1 => t.verified,
            _ => !t.verified,
        };
        let columns: Vec<&Truth> = truth.iter().filter(|t| counts(t)).collect();
        let rows: Vec<&Selector> = figures
            .iter()
            .filter(|(_, values)| values[measure].is_some())
            .map(|(select, _)| select)
            .collect();
        // The published values are the truth's sums: the adversary's model is the server's.
        for (select, values) in &figures {
            if let Some(v) = values[measure] {
                let sum = columns.iter().filter(|t| select(t)).count() as u64;
                assert_eq!(v, sum, "measure {measure}");
            }
        }
        let rank_without = |excluded: &[&String]| {
            let mut basis = Basis::new(rows.len());
            for t in columns.iter().filter(|t| !excluded.contains(&&t.person)) {
                let ones: Vec<usize> = rows
                    .iter()
                    .enumerate()
                    .filter(|(_, select)| select(t))
                    .map(|(i, _)| i)
                    .collect();
                basis.insert(&ones);
            }
            basis.rank()
        };
        let full = rank_without(&[]);
        // Every person, every pair, and triples and quadruples drawn at random.
        let mut sets: Vec<Vec<&String>> = people.iter().map(|p| vec![p]).collect();
        for (i, a) in people.iter().enumerate() {
            for b in &people[i + 1..] {
                sets.push(vec![a, b]);
            }
        }
        let mut rng = Rng(0x1234_5678 + measure as u64);
        for size in [3, 4] {
            for _ in 0..150 {
                if people.len() < size {
                    break;
                }
                let mut set: Vec<&String> = Vec::new();
                while set.len() < size {
                    let p = &people[rng.below(people.len())];
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
                "measure {measure}: a combination of published figures describes only {set:?}"
            );
        }
    }
}
