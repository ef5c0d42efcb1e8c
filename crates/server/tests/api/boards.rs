//! The leaderboard is opt-in, team boards need five active members, and the top ten ranks by
//! verified shares with clicks breaking ties.

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::newsroom::*;

crate::both_backends!(
    the_leaderboard_is_opt_in_and_teams_need_five,
    the_top_ten_counts_verified_shares_and_clicks_break_ties,
    team_totals_follow_records_withdrawals_moves_and_departures
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

    // Teams: France has five active members and is shown; Germany's four are not.
    let by_country: TeamBoard = germans[0].get("/v1/programme/teams?by=country").await;
    assert_eq!(by_country.teams.len(), 1, "{by_country:?}");
    let france = &by_country.teams[0];
    assert_eq!((france.team.as_str(), france.active_members), ("FR", 5));
    assert!((france.average_points - 14.0).abs() < 1e-9);
    assert!(!france.yours);
    let by_department: TeamBoard = french[1].get("/v1/programme/teams?by=department").await;
    assert!(by_department.teams[0].yours);
    // A fifth German makes a team.
    let fifth = room.employee("Greta 4", "DE", "Support").await;
    record(&fifth, &verified(&items[1], Network::X, 200)).await;
    let by_country: TeamBoard = fifth.get("/v1/programme/teams?by=country").await;
    let names: Vec<&str> = by_country.teams.iter().map(|t| t.team.as_str()).collect();
    assert_eq!(names, vec!["FR", "DE"]);
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
    // Two more people share Story 05: five people are behind its counts, which show.
    for (k, name) in ["Eve", "Fay"].iter().enumerate() {
        let p = room.employee(name, "FR", "Sales").await;
        record(&p, &verified(&items[5], Network::Linkedin, 550 + k)).await;
    }
    let top: TopTen = people[2].get("/v1/programme/top").await;
    assert_eq!(top.items[0].title, "Story 05");
    assert_eq!(
        (top.items[0].verified_shares, top.items[0].declared_shares),
        (Some(5), Some(0))
    );
    assert_eq!(top.items[1].clicks, None);
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
}

/// The running team totals equal what grouping every person's totals gives, for both kinds and
/// both periods, after records (some at once), a withdrawal that empties a month, a move to
/// another country and department, a departure and a return.
async fn team_totals_follow_records_withdrawals_moves_and_departures(backend: Backend) {
    use relay_server::programme::teams;
    let room = Newsroom::new(backend).await;
    let items = [
        room.item("One").await,
        room.item("Two").await,
        room.item("Three").await,
    ];
    let org_id = room.org.id.clone();
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let check = |what: &'static str| {
        let (org_id, month) = (org_id.clone(), month.clone());
        let db = room.server.db().clone();
        async move {
            let mut conn = db.read.acquire().await.unwrap();
            for period in [month.as_str(), "*"] {
                for kind in [TeamKind::Country, TeamKind::Department] {
                    let mut kept = teams::read(&mut conn, &org_id, period, kind, 1)
                        .await
                        .unwrap();
                    kept.sort_by(|a, b| a.team.cmp(&b.team));
                    let scanned = teams::scan(&mut conn, &org_id, period, kind).await.unwrap();
                    assert_eq!(kept, scanned, "{what}: {kind:?} in {period}");
                }
            }
        }
    };

    let mut people = Vec::new();
    for i in 0..6 {
        let (country, department) = if i < 4 {
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
    check("after concurrent records").await;
    let board: TeamBoard = people[0].get("/v1/programme/teams?by=country").await;
    let fr: Vec<(&str, u32)> = board
        .teams
        .iter()
        .map(|t| (t.team.as_str(), t.active_members))
        .collect();
    assert_eq!(fr, vec![], "four French and two Germans: no team of five");

    // A fifth French sharer, then one who withdraws her only share: the team is back to four.
    let fifth = room.employee("P6", "FR", "Sales").await;
    let only = record(&fifth, &declared(&items[0], Network::X, 60)).await;
    let board: TeamBoard = fifth.get("/v1/programme/teams?by=country").await;
    assert_eq!(board.teams.len(), 1);
    assert_eq!(
        (board.teams[0].team.as_str(), board.teams[0].active_members),
        ("FR", 5)
    );
    assert!((board.teams[0].average_points - (4.0 * 30.0 + 3.0) / 5.0).abs() < 0.06);
    let withdrawn = fifth
        .send::<()>(
            Method::POST,
            &format!("/v1/shares/{}/withdraw", only.share_id),
            None,
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK);
    check("after a withdrawal").await;
    let board: TeamBoard = fifth.get("/v1/programme/teams?by=country").await;
    assert!(board.teams.is_empty(), "{board:?}");

    // A German moves to France and to Sales: France has five active members again.
    let moved = people[4].person().id.clone();
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
    check("after a move").await;
    let board: TeamBoard = fifth.get("/v1/programme/teams?by=department").await;
    assert_eq!(board.teams.len(), 1);
    assert_eq!(
        (board.teams[0].team.as_str(), board.teams[0].active_members),
        ("Sales", 5)
    );

    // One of them leaves the company: their points leave the teams; a return brings them back.
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
        check(if active {
            "after a return"
        } else {
            "after a departure"
        })
        .await;
    }
    let board: TeamBoard = fifth.get("/v1/programme/teams?by=country").await;
    assert!(board.teams.is_empty(), "{board:?}");
    // An edit that changes no team moves nothing.
    room.admin
        .send_ok::<_, Person>(
            Method::PATCH,
            &format!("/v1/people/{moved}"),
            Some(&PersonUpdate {
                name: Some("P4 renamed".into()),
                ..PersonUpdate::default()
            }),
        )
        .await;
    check("after a rename").await;
}
