//! The leaderboard is opt-in, team boards need five active members, and the top ten ranks by
//! verified shares with clicks breaking ties.

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::newsroom::*;

crate::both_backends!(
    the_leaderboard_is_opt_in_and_teams_need_five,
    the_top_ten_counts_verified_shares_and_clicks_break_ties,
    team_boards_stand_still_through_moves_departures_and_erasure
);

async fn the_leaderboard_is_opt_in_and_teams_need_five(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let items = [room.item("One").await, room.item("Two").await];
    // Five sharers in France, four in Germany; each shares one or two items.
    let mut french = Vec::new();
    for i in 0..5 {
        let person = room.employee(&format!("Fanny {i}"), "FR", "Sales").await;
        let shares = if i < 2 { 2 } else { 1 };
        for (n, item) in items.iter().take(shares).enumerate() {
            record(&person, &verified(item, Network::Linkedin, i * 10 + n)).await;
        }
        french.push(person);
    }
    let mut germans = Vec::new();
    for i in 0..4 {
        let person = room.employee(&format!("Greta {i}"), "DE", "Support").await;
        record(&person, &verified(&items[0], Network::X, 100 + i)).await;
        germans.push(person);
    }
    // Nobody joined: the board is empty, yet everyone knows their own rank.
    let board: Board = french[4].get("/v1/programme/board").await;
    assert!(board.entries.is_empty());
    let mine: MyProgramme = french[4].get("/v1/programme/me").await;
    assert_eq!((mine.points, mine.rank, mine.ranked), (10, Some(3), 9));

    // Two join, one under a pseudonym.
    let joined: BoardMembership = french[0]
        .send_ok(
            Method::PUT,
            "/v1/programme/board/me",
            Some(&BoardMembership {
                pseudonym: Some("Blue Heron".into()),
            }),
        )
        .await;
    assert_eq!(joined.pseudonym.as_deref(), Some("Blue Heron"));
    french[4]
        .send_ok::<_, BoardMembership>(
            Method::PUT,
            "/v1/programme/board/me",
            Some(&BoardMembership::default()),
        )
        .await;
    let taken = germans[0]
        .send(
            Method::PUT,
            "/v1/programme/board/me",
            Some(&BoardMembership {
                pseudonym: Some("Blue Heron".into()),
            }),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    let board: Board = french[4].get("/v1/programme/board").await;
    let lines: Vec<(u32, &str, i64, bool)> = board
        .entries
        .iter()
        .map(|e| (e.rank, e.name.as_str(), e.points, e.you))
        .collect();
    assert_eq!(
        lines,
        vec![(1, "Blue Heron", 20, false), (2, "Fanny 4", 10, true)]
    );
    let all_time: Board = french[4].get("/v1/programme/board?all_time=true").await;
    assert_eq!(all_time.entries.len(), 2);
    assert_eq!(all_time.month, None);
    // Leaving takes effect at once; the points stay private.
    let left = french[0]
        .send::<()>(Method::DELETE, "/v1/programme/board/me", None)
        .await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
    let board: Board = french[4].get("/v1/programme/board").await;
    assert_eq!(board.entries.len(), 1);
    assert_eq!(
        french[0]
            .get::<MyProgramme>("/v1/programme/me")
            .await
            .points,
        20
    );
    assert!(
        !french[0]
            .get::<MyProgramme>("/v1/programme/me")
            .await
            .on_board
    );

    // Teams: France has five active members, Germany four. Germany is not shown, and neither is
    // France: the month's shares (curators read them) less France's would be Germany's.
    let by_country: TeamBoard = germans[0].get("/v1/programme/teams?by=country").await;
    assert!(by_country.teams.is_empty(), "{by_country:?}");
    // A fifth German makes two teams.
    let fifth = room.employee("Greta 4", "DE", "Support").await;
    record(&fifth, &verified(&items[1], Network::X, 200)).await;
    let by_country: TeamBoard = fifth.get("/v1/programme/teams?by=country").await;
    let names: Vec<&str> = by_country.teams.iter().map(|t| t.team.as_str()).collect();
    assert_eq!(names, vec!["FR", "DE"]);
    let france = &by_country.teams[0];
    assert_eq!((france.team.as_str(), france.active_members), ("FR", 5));
    assert!((france.average_points - 14.0).abs() < 1e-9);
    assert!(!france.yours);
    let by_department: TeamBoard = french[1].get("/v1/programme/teams?by=department").await;
    assert!(by_department.teams[0].yours);
    let bad = fifth
        .send::<()>(Method::GET, "/v1/programme/teams?by=planet", None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let both = fifth
        .send::<()>(
            Method::GET,
            "/v1/programme/board?all_time=true&month=2026-01",
            None,
        )
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);

    // The organisation switches team boards off: no team anywhere, summary included; only an
    // admin may, and the change is audited.
    let off = ProgrammeSettingsChange {
        time_zone: None,
        team_boards: Some(false),
    };
    let refused = fifth
        .send(Method::PUT, "/v1/programme/settings", Some(&off))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let settings: ProgrammeSettings = room
        .admin
        .send_ok(Method::PUT, "/v1/programme/settings", Some(&off))
        .await;
    assert!(!settings.team_boards);
    let by_country: TeamBoard = fifth.get("/v1/programme/teams?by=country").await;
    assert!(by_country.teams.is_empty());
    let summary: ProgrammeSummary = fifth.get("/v1/programme/summary").await;
    assert!(
        summary.teams_by_country.teams.is_empty() && summary.teams_by_department.teams.is_empty()
    );
    assert!(!summary.team_boards, "the app hides the team boards");
    let zone = ProgrammeSettingsChange {
        time_zone: Some("Europe/Paris".into()),
        team_boards: None,
    };
    let settings: ProgrammeSettings = room
        .admin
        .send_ok(Method::PUT, "/v1/programme/settings", Some(&zone))
        .await;
    assert_eq!(
        (settings.time_zone.as_str(), settings.team_boards),
        ("Europe/Paris", false)
    );
    let seen: ProgrammeSettings = fifth.get("/v1/programme/settings").await;
    assert_eq!(seen, settings);
    let bad_zone = ProgrammeSettingsChange {
        time_zone: Some("Mars/Olympus".into()),
        team_boards: Some(true),
    };
    let answer = room
        .admin
        .send(Method::PUT, "/v1/programme/settings", Some(&bad_zone))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let seen: ProgrammeSettings = fifth.get("/v1/programme/settings").await;
    assert!(!seen.team_boards, "a refused change changes nothing");
    let audit: Vec<AuditEntry> = room.admin.get("/v1/audit?action=programme.settings").await;
    assert_eq!(audit.len(), 2);
}

async fn the_top_ten_counts_verified_shares_and_clicks_break_ties(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let mut items = Vec::new();
    for i in 0..12 {
        items.push(room.item(&format!("Story {i:02}")).await);
    }
    let people = [
        room.employee("Ann", "FR", "Sales").await,
        room.employee("Bob", "FR", "Sales").await,
        room.employee("Cat", "FR", "Sales").await,
    ];
    // Story 05: three verified shares. Story 03 and 07: two each, and 07 has a click.
    // Story 09: five declared shares (declared ones do not rank above verified ones).
    for (k, p) in people.iter().enumerate() {
        record(p, &verified(&items[5], Network::Linkedin, 500 + k)).await;
    }
    for (k, p) in people[..2].iter().enumerate() {
        record(p, &verified(&items[3], Network::X, 300 + k)).await;
        let linked: TrackedLink = p
            .send_ok(
                Method::POST,
                "/v1/links",
                Some(&NewLink {
                    item_id: items[7].clone(),
                    network: Network::X,
                }),
            )
            .await;
        record(
            p,
            &NewShareRecord {
                link_code: Some(linked.code.clone()),
                ..verified(&items[7], Network::X, 700 + k)
            },
        )
        .await;
        if p.person().name == "Ann" {
            // Someone else follows Ann's link (Ann's own clicks would not count).
            crate::harness::browser(7)
                .get(format!("{}/l/{}", room.server.base, linked.code))
                .header("user-agent", "Mozilla/5.0 Firefox/128.0")
                .send()
                .await
                .unwrap();
        }
    }
    for (n, network) in [Network::Facebook, Network::Linkedin]
        .into_iter()
        .enumerate()
    {
        record(&people[2], &declared(&items[9], network, 90 + n)).await;
    }
    // Eight more items, declared once each by four others (five scored shares a day at most).
    let rest: Vec<&String> = items
        .iter()
        .enumerate()
        .filter(|(i, _)| ![3, 5, 7, 9].contains(i))
        .map(|(_, item)| item)
        .collect();
    for (n, pair) in rest.chunks(2).enumerate() {
        let person = room.employee(&format!("Dan {n}"), "FR", "Sales").await;
        for (k, item) in pair.iter().enumerate() {
            record(
                &person,
                &declared(item, Network::Facebook, 1000 + n * 2 + k),
            )
            .await;
        }
    }
    let top: TopTen = people[2].get("/v1/programme/top").await;
    assert_eq!(top.items.len(), 10);
    let titles: Vec<&str> = top.items.iter().take(3).map(|t| t.title.as_str()).collect();
    assert_eq!(titles, vec!["Story 05", "Story 07", "Story 03"]);
    // Shared by fewer than five people: the ranks and titles show, not the counts (an item
    // aimed at one person would otherwise show that person's share).
    for item in &top.items {
        assert_eq!(
            (item.verified_shares, item.declared_shares, item.clicks),
            (None, None, None),
            "{}",
            item.title
        );
    }
    // Five more people share Story 05: its counts would show by themselves, but here the
    // LinkedIn shares less Story 05's would be Cat's one share, so something stays hidden.
    // Whatever shows is the content breakdown's figure; nothing shows for fewer than five.
    for (k, name) in ["Eve", "Fay", "Gus", "Hal", "Ivy"].iter().enumerate() {
        let p = room.employee(name, "FR", "Sales").await;
        record(&p, &verified(&items[5], Network::Linkedin, 550 + k)).await;
    }
    let top: TopTen = room.admin.get("/v1/programme/top").await;
    assert_eq!(top.items[0].title, "Story 05");
    let content: Breakdown = room.admin.get("/v1/analytics/breakdown?by=content").await;
    for item in &top.items {
        let group = content.groups.iter().find(|g| g.key == item.item_id);
        let shown = group.filter(|g| !g.hidden);
        assert_eq!(
            (item.verified_shares, item.declared_shares, item.clicks),
            (
                shown.and_then(|g| g.verified.map(|n| n as i64)),
                shown.and_then(|g| g.declared.map(|n| n as i64)),
                shown.and_then(|g| g.clicks.map(|n| n as i64)),
            ),
            "{}",
            item.title
        );
    }
    assert_eq!(
        top.items[3].title, "Story 09",
        "two declared shares beat one"
    );
    let ranks: Vec<u32> = top.items.iter().map(|t| t.rank).collect();
    assert_eq!(ranks, (1..=10).collect::<Vec<u32>>());
    let bad = people[0]
        .send::<()>(Method::GET, "/v1/programme/top?month=2026-13", None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // A month where nothing else gives anyone away: six share one story, five of them a second.
    let clean = Newsroom::new(backend).await;
    let (a, b) = (clean.item("Story A").await, clean.item("Story B").await);
    for k in 0..6 {
        let p = clean.employee(&format!("Sharer {k}"), "FR", "Sales").await;
        record(&p, &verified(&a, Network::Linkedin, k)).await;
        if k < 5 {
            record(&p, &declared(&b, Network::Linkedin, 10 + k)).await;
        }
    }
    let top: TopTen = clean.admin.get("/v1/programme/top").await;
    type Counts<'a> = (&'a str, Option<i64>, Option<i64>, Option<i64>);
    let counts: Vec<Counts> = top
        .items
        .iter()
        .map(|t| {
            (
                t.title.as_str(),
                t.verified_shares,
                t.declared_shares,
                t.clicks,
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            ("Story A", Some(6), Some(0), Some(0)),
            ("Story B", Some(0), Some(5), Some(0))
        ]
    );
}

/// Team boards group each month's scorers as they were at their first points in it: records
/// (some at once) and a withdrawal move them; a move to another country and department, a
/// departure, a return and an erasure later in the month move nothing, this month or all time.
async fn team_boards_stand_still_through_moves_departures_and_erasure(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let items = [
        room.item("One").await,
        room.item("Two").await,
        room.item("Three").await,
    ];
    let mut people = Vec::new();
    for i in 0..10 {
        let (country, department) = if i < 5 {
            ("FR", "Sales")
        } else {
            ("DE", "Support")
        };
        people.push(room.employee(&format!("P{i}"), country, department).await);
    }
    // Everyone records at once, several shares each.
    let mut tasks = Vec::new();
    for (p, person) in people.iter().enumerate() {
        for (n, item) in items.iter().enumerate() {
            let (person, item) = (person.clone(), item.clone());
            tasks.push(tokio::spawn(async move {
                record(&person, &verified(&item, Network::Linkedin, p * 10 + n)).await
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    let boards = |who: usize| {
        let client = people[who].clone();
        async move {
            let mut all = Vec::new();
            for query in [
                "by=country",
                "by=department",
                "by=country&all_time=true",
                "by=department&all_time=true",
            ] {
                let board: TeamBoard = client.get(&format!("/v1/programme/teams?{query}")).await;
                all.push(
                    board
                        .teams
                        .into_iter()
                        .map(|t| (t.team, t.active_members, t.average_points))
                        .collect::<Vec<_>>(),
                );
            }
            all
        }
    };
    let before = boards(0).await;
    assert_eq!(
        before[0],
        vec![("DE".to_owned(), 5, 30.0), ("FR".to_owned(), 5, 30.0)],
    );
    assert_eq!(before[2], before[0], "all time is this month");
    // Someone new shares, then withdraws her only share: the boards are as before.
    let newcomer = room.employee("P10", "DE", "Support").await;
    let only = record(&newcomer, &declared(&items[0], Network::X, 100)).await;
    let withdrawn = newcomer
        .send::<()>(
            Method::POST,
            &format!("/v1/shares/{}/withdraw", only.share_id),
            None,
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK);
    let four_germans = before;
    assert_eq!(boards(9).await, four_germans);

    // A German moves to France and to Sales, a French leaves and comes back, another leaves,
    // one is erased: every board of the month stays as it was.
    let moved = people[5].person().id.clone();
    room.admin
        .send_ok::<_, Person>(
            Method::PATCH,
            &format!("/v1/people/{moved}"),
            Some(&PersonUpdate {
                country: Some("FR".into()),
                department: Some("Sales".into()),
                ..PersonUpdate::default()
            }),
        )
        .await;
    assert_eq!(boards(9).await, four_germans, "after a move");
    let leaver = people[0].person().id.clone();
    for active in [false, true, false] {
        room.admin
            .send_ok::<_, Person>(
                Method::PATCH,
                &format!("/v1/people/{leaver}"),
                Some(&PersonUpdate {
                    active: Some(active),
                    ..PersonUpdate::default()
                }),
            )
            .await;
        assert_eq!(boards(9).await, four_germans, "after active = {active}");
    }
    let erased = people[1].person().id.clone();
    let answer = room
        .admin
        .send(
            Method::POST,
            &format!("/v1/people/{erased}/erasure"),
            Some(&serde_json::json!({"confirm": true})),
        )
        .await;
    assert!(answer.status.is_success(), "{:?}", answer.body);
    assert_eq!(boards(9).await, four_germans, "after an erasure");
}
