//! The programme's figures against a hand-computed data set, on both backends, and the rule
//! that no figure describes fewer than 5 people, including by subtracting one from another.

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::harness::{article, Client};
use crate::newsroom::*;

crate::both_backends!(
    month_figures_and_breakdowns_hide_groups_under_five,
    adoption_counts_devices_and_accounts_without_giving_a_few_away,
    reach_is_reported_by_verified_shares_only,
    moving_deactivating_or_erasing_someone_moves_no_figure_of_the_month,
);

fn declared(item: &str, network: Network, n: usize) -> NewShareRecord {
    NewShareRecord {
        share_id: format!("declared-{n}-{}", network.as_str()),
        proof: ShareProof::Declared,
        post_url: None,
        post_id: None,
        ..verified(item, network, n)
    }
}

async fn month_figures_and_breakdowns_hide_groups_under_five(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let item = room.item("Our new plant").await;
    let older = room.item("Last month's news").await;
    // Seven in France (Marketing), two in Belgium (Marketing), six in Germany (Sales).
    let mut people = Vec::new();
    for n in 0..15 {
        let (country, department) = match n {
            0..=6 => ("FR", "Marketing"),
            7..=8 => ("BE", "Marketing"),
            _ => ("DE", "Sales"),
        };
        people.push(
            room.employee(&format!("Person {n:02}"), country, department)
                .await,
        );
    }
    let record = |who: usize, share: NewShareRecord| {
        let client = &people[who];
        async move {
            let answer = client.send(Method::POST, "/v1/shares", Some(&share)).await;
            assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        }
    };
    for who in 0..7 {
        record(who, verified(&item, Network::Linkedin, who)).await;
        record(who, declared(&item, Network::Linkedin, who)).await;
    }
    // The two X accounts' devices said how many followers they have: their word, kept apart and
    // never summed into reach (the server cannot read X's profiles). LinkedIn and declared
    // shares said nothing.
    for who in 7..9 {
        let share = NewShareRecord {
            followers: Some(100 + who as u64),
            ..verified(&item, Network::X, who)
        };
        record(who, share).await;
    }
    for who in 9..15 {
        record(who, declared(&item, Network::X, who)).await;
    }
    // Withdrawn: not counted.
    record(0, verified(&item, Network::Bluesky, 100)).await;
    let answer = people[0]
        .send::<()>(Method::POST, "/v1/shares/share-100-bluesky/withdraw", None)
        .await;
    assert!(answer.status.is_success(), "{:?}", answer.body);
    // Four unique clicks on one of the first person's shares.
    sqlx::query("UPDATE shares SET clicks = 4 WHERE share_id = 'share-0-linkedin'")
        .execute(&room.server.db().write)
        .await
        .unwrap();
    // Last month: three people only.
    for who in 0..3 {
        record(who, verified(&older, Network::Mastodon, 200 + who)).await;
    }
    let rules: MonthRules = room.admin.get("/v1/programme/rules").await;
    let this = rules.month.clone();
    let (y, m) = this.split_once('-').unwrap();
    let (y, m): (i32, u32) = (y.parse().unwrap(), m.parse().unwrap());
    let last = if m == 1 {
        format!("{}-12", y - 1)
    } else {
        format!("{y}-{:02}", m - 1)
    };
    sqlx::query("UPDATE shares SET month = $1 WHERE item_id = $2")
        .bind(&last)
        .bind(&older)
        .execute(&room.server.db().write)
        .await
        .unwrap();
    // Six people consulted this month.
    for person in &people[..6] {
        sqlx::query("INSERT INTO consults (org_id, person_id, month) VALUES ($1, $2, $3)")
            .bind(&room.org.id)
            .bind(&person.person().id)
            .bind(&this)
            .execute(&room.server.db().write)
            .await
            .unwrap();
    }

    let months: Vec<MonthFigures> = room
        .admin
        .get(&format!("/v1/analytics/months?to={this}&months=2"))
        .await;
    assert_eq!(months.len(), 2);
    let (before, now) = (&months[0], &months[1]);
    assert_eq!(before.month, last);
    assert_eq!(
        (
            before.sharers,
            before.shares,
            before.verified,
            before.clicks,
            before.sharer_rate
        ),
        (None, None, None, None, None),
        "three sharers: hidden"
    );
    assert_eq!(now.month, this);
    // The fifteen and the admin have devices.
    assert_eq!(now.enrolled, Some(16));
    assert_eq!(now.sharers, Some(15));
    assert_eq!(now.shares, Some(22));
    assert_eq!(now.verified, Some(9));
    assert_eq!(now.declared, Some(13));
    // The four clicks are all on one person's share: the month's clicks describe one person.
    assert_eq!(now.clicks, None);
    assert_eq!(now.consulters, Some(6));
    assert_eq!(
        (now.reach, now.reach_unknown),
        (Some(0), Some(22)),
        "device-reported followers are not reach"
    );
    let close = |a: Option<f64>, b: f64| assert!((a.unwrap() - b).abs() < 1e-9, "{a:?} != {b}");
    close(now.sharer_rate, 15.0 / 16.0);
    close(now.shares_per_sharer, 22.0 / 15.0);
    assert_eq!(now.click_through, None);
    close(now.consult_rate, 6.0 / 16.0);

    let by = |dimension: &'static str| {
        let admin = &room.admin;
        let this = this.clone();
        async move {
            admin
                .get::<Breakdown>(&format!(
                    "/v1/analytics/breakdown?month={this}&by={dimension}"
                ))
                .await
        }
    };
    // Belgium has two people, hidden. France is hidden with it (the month less France and
    // Germany would be Belgium), and so are the networks: X less Germany would be Belgium's
    // shares, and the month's verified shares less LinkedIn's Belgium's verified ones. The
    // departments stay: Marketing is France and Belgium together, nine people.
    let figures = |groups: Vec<GroupFigures>| -> Vec<(String, bool, Option<u64>, Option<u64>)> {
        groups
            .into_iter()
            .map(|g| (g.key, g.hidden, g.shares, g.verified))
            .collect()
    };
    let row = |key: &str, hidden: bool, shares: Option<u64>, verified: Option<u64>| {
        (key.to_owned(), hidden, shares, verified)
    };
    assert_eq!(
        figures(by("country").await.groups),
        [
            row("DE", false, Some(6), Some(0)),
            row("BE", true, None, None),
            row("FR", true, None, None)
        ]
    );
    let departments = by("department").await.groups;
    assert_eq!(
        departments.iter().map(|g| g.people).collect::<Vec<_>>(),
        [Some(9), Some(6)]
    );
    assert_eq!(
        figures(departments),
        [
            row("Marketing", false, Some(16), Some(9)),
            row("Sales", false, Some(6), Some(0))
        ]
    );
    let networks = by("network").await.groups;
    assert!(networks.iter().all(|g| g.hidden), "{networks:?}");
    let channels = by("channel").await;
    assert_eq!(channels.groups.len(), 1);
    assert_eq!(channels.groups[0].key, room.news.id);
    assert_eq!(channels.groups[0].shares, Some(22));
    // Per content: the story's title, figures and reads, then a story read but not shared.
    let unshared = room.item("Read, never shared").await;
    // An item aimed at one person: its reads would say whether they opened it.
    room.employee("Lou Legal", "FR", "Legal").await;
    let mut solo = article(&room.news, "For Legal only");
    solo.audience.departments = vec!["Legal".into()];
    let solo = room.admin.publish(&solo).await.item.id;
    for (item, reads) in [(&item, 40), (&unshared, 7), (&solo, 1)] {
        sqlx::query("INSERT INTO item_reads (org_id, item_id, day, reads) VALUES ($1, $2, $3, $4)")
            .bind(&room.org.id)
            .bind(item)
            .bind(format!("{this}-01"))
            .bind(reads)
            .execute(&room.server.db().write)
            .await
            .unwrap();
    }
    let contents = by("content").await;
    type Content<'a> = (
        &'a str,
        Option<&'a str>,
        Option<u64>,
        Option<u64>,
        Option<u64>,
    );
    let figures: Vec<Content> = contents
        .groups
        .iter()
        .map(|g| {
            (
                g.key.as_str(),
                g.label.as_deref(),
                g.people,
                g.shares,
                g.reads,
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            (
                item.as_str(),
                Some("Our new plant"),
                None,
                Some(22),
                Some(40)
            ),
            (
                unshared.as_str(),
                Some("Read, never shared"),
                None,
                Some(0),
                Some(7)
            ),
        ]
    );
    assert!(
        contents.groups.iter().all(|g| g.key != solo),
        "the reads of an item offered to fewer than five people are not shown"
    );
    // Last month's three people: every group hidden.
    let earlier: Breakdown = room
        .admin
        .get(&format!("/v1/analytics/breakdown?month={last}&by=country"))
        .await;
    assert!(earlier.groups.iter().all(|g| g.hidden), "{earlier:?}");

    // No figure names anyone, and employees see none of it.
    let raw = room
        .admin
        .send::<()>(
            Method::GET,
            &format!("/v1/analytics/breakdown?month={this}&by=department"),
            None,
        )
        .await;
    let text = raw.body.to_string();
    for person in &people {
        assert!(!text.contains(&person.person().id), "{text}");
    }
    let refused = people[0]
        .send::<()>(Method::GET, "/v1/analytics/months", None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bad = room
        .admin
        .send::<()>(Method::GET, "/v1/analytics/breakdown?by=person", None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let _: Value = raw.body;
}

async fn adoption_counts_devices_and_accounts_without_giving_a_few_away(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let mut devices = Vec::new();
    for n in 0..6 {
        devices.push(room.employee(&format!("Device {n}"), "FR", "Sales").await);
    }
    // Five people without a device.
    for n in 0..5 {
        relay_server::people::add(
            room.server.db(),
            &room.org.id,
            None,
            NewPerson {
                name: format!("Paper {n}"),
                email: format!("paper{n}@acme.test"),
                country: "FR".into(),
                language: "fr".into(),
                department: "Sales".into(),
                role: Role::Employee,
            },
        )
        .await
        .unwrap();
    }
    let report = |who: &Client, networks: Vec<Network>| {
        let who = who.clone();
        async move {
            let answer = who
                .send(
                    Method::PUT,
                    "/v1/me/accounts",
                    Some(&ConnectedNetworks { networks }),
                )
                .await;
            assert_eq!(answer.status, StatusCode::NO_CONTENT, "{answer:?}");
        }
    };
    for who in &devices[..5] {
        report(who, vec![Network::Bluesky, Network::X]).await;
    }
    let adoption: Adoption = room.admin.get("/v1/analytics/adoption").await;
    // 12 people, 7 with a device (the admin's too), 5 with an account: 7 - 5 = 2 would be a
    // small group, so the 5 are hidden.
    assert_eq!(
        (adoption.people, adoption.with_device, adoption.with_account),
        (Some(12), Some(7), None)
    );
    let networks: Vec<(Network, Option<u64>)> = adoption
        .by_network
        .iter()
        .map(|n| (n.network, n.people))
        .collect();
    assert_eq!(
        networks,
        [(Network::Bluesky, Some(5)), (Network::X, Some(5))]
    );
    report(&devices[5], vec![Network::Mastodon]).await;
    report(&room.admin, vec![Network::Linkedin]).await;
    let adoption: Adoption = room.admin.get("/v1/analytics/adoption").await;
    assert_eq!(adoption.with_account, Some(7));
    let small: Vec<Option<u64>> = adoption
        .by_network
        .iter()
        .filter(|n| matches!(n.network, Network::Mastodon | Network::Linkedin))
        .map(|n| n.people)
        .collect();
    assert_eq!(small, [None, None]);
    // A device that disconnects everything says so; repeats and arrays are refused.
    report(&room.admin, vec![]).await;
    let adoption: Adoption = room.admin.get("/v1/analytics/adoption").await;
    assert_eq!(
        adoption.with_account, None,
        "7 with a device and 6 with an account would single out the one without"
    );
}

async fn reach_is_reported_by_verified_shares_only(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let eve = room.employee("Eve", "FR", "Sales").await;
    let item = room.item("Story").await;
    for (share, why) in [
        (
            NewShareRecord {
                followers: Some(12),
                ..declared(&item, Network::Facebook, 1)
            },
            "a declared share has no account",
        ),
        (
            NewShareRecord {
                followers: Some(20_000_000_000),
                ..verified(&item, Network::Bluesky, 2)
            },
            "more followers than anyone has",
        ),
    ] {
        let answer = eve.send(Method::POST, "/v1/shares", Some(&share)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{why}");
    }
    assert_eq!(
        room.count("shares").await,
        0,
        "refused records change nothing"
    );
}

/// An admin who reads a breakdown, moves a person to another department (or country),
/// deactivates another and erases a third, then reads again, learns nothing: the month's groups
/// are those people had at their first activity in it.
async fn moving_deactivating_or_erasing_someone_moves_no_figure_of_the_month(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let item = room.item("Our new plant").await;
    let mut people = Vec::new();
    for n in 0..12 {
        let (country, department) = if n < 6 {
            ("FR", "Sales")
        } else {
            ("DE", "Marketing")
        };
        let p = room
            .employee(&format!("Person {n}"), country, department)
            .await;
        for k in 0..=(n % 3) {
            record(&p, &declared(&item, Network::Linkedin, n * 10 + k)).await;
        }
        people.push(p);
    }
    let read = |by: &'static str| {
        let admin = room.admin.clone();
        async move {
            admin
                .get::<Breakdown>(&format!("/v1/analytics/breakdown?by={by}"))
                .await
        }
    };
    let before = (read("department").await, read("country").await);
    let months_before: Vec<MonthFigures> = room.admin.get("/v1/analytics/months?months=1").await;
    assert!(before.0.groups.iter().all(|g| !g.hidden), "{:?}", before.0);

    let patch = |id: String, change: PersonUpdate| {
        let admin = room.admin.clone();
        async move {
            let answer = admin
                .send(Method::PATCH, &format!("/v1/people/{id}"), Some(&change))
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        }
    };
    patch(
        people[0].person().id.clone(),
        PersonUpdate {
            department: Some("Marketing".into()),
            country: Some("DE".into()),
            ..Default::default()
        },
    )
    .await;
    patch(
        people[7].person().id.clone(),
        PersonUpdate {
            active: Some(false),
            ..Default::default()
        },
    )
    .await;
    let erasure = format!("/v1/people/{}/erasure", people[8].person().id);
    let answer = room
        .admin
        .send(
            Method::POST,
            &erasure,
            Some(&serde_json::json!({"confirm": true})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");

    let after = (read("department").await, read("country").await);
    assert_eq!(after, before, "a month's breakdowns stand still");
    // The tombstone itself keeps no attribute that could point back at the person.
    let marked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM people WHERE erased_at IS NOT NULL \
         AND (country <> '' OR language <> '' OR department <> '')",
    )
    .fetch_one(&room.server.db().read)
    .await
    .unwrap();
    assert_eq!(marked, 0);
    let months_after: Vec<MonthFigures> = room.admin.get("/v1/analytics/months?months=1").await;
    assert_eq!(
        (months_after[0].shares, months_after[0].sharers),
        (months_before[0].shares, months_before[0].sharers)
    );
    // The moved person's next share counts where they are now, in the month they were first in.
    record(&people[0], &declared(&item, Network::X, 999)).await;
    let later = read("department").await;
    let sales = later.groups.iter().find(|g| g.key == "Sales").unwrap();
    let sales_before = before.0.groups.iter().find(|g| g.key == "Sales").unwrap();
    assert_eq!(sales.shares.unwrap(), sales_before.shares.unwrap() + 1);
}
