//! The programme's ledger over real HTTP: points by the rules, caps, refusals, the month close,
//! frozen rules, and the summary's validator.

use chrono::{Duration, Utc};
use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::harness::*;
use crate::newsroom::*;

crate::both_backends!(
    points_follow_the_rules_and_the_ledger_matches_the_totals,
    concurrent_shares_never_pass_the_daily_cap,
    records_that_cannot_be_true_are_refused_and_change_nothing,
    a_month_closes_after_its_grace_and_says_so,
    rules_change_only_for_months_not_begun_and_are_audited,
    the_summary_is_unchanged_until_something_moves
);

async fn me(client: &Client) -> MyProgramme {
    client.get("/v1/programme/me").await
}

/// The ledger's lines add up to the totals, per person and month.
async fn assert_ledger_matches_totals(room: &Newsroom) {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT person_id, month, CAST(SUM(points) AS BIGINT) FROM points_ledger GROUP BY person_id, month",
    )
    .fetch_all(&room.server.db().read)
    .await
    .unwrap();
    for (person, month, sum) in rows {
        let total: i64 = sqlx::query_scalar(
            "SELECT points FROM points_totals WHERE person_id = $1 AND month = $2",
        )
        .bind(&person)
        .bind(&month)
        .fetch_one(&room.server.db().read)
        .await
        .unwrap();
        assert_eq!(total, sum, "{person} {month}");
    }
}

async fn points_follow_the_rules_and_the_ledger_matches_the_totals(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let mut items = Vec::new();
    for i in 0..7 {
        items.push(room.item(&format!("Story {i}")).await);
    }
    // A verified share earns 10 (an attested one, X, as this organisation trusts them), a
    // declared one 3.
    let first = record(&eve, &verified(&items[0], Network::X, 1)).await;
    assert_eq!((first.points, first.proof), (10, ShareProof::Verified));
    assert_eq!(first.status, ShareStatus::Attested);
    assert_eq!(first.unscored, None);
    let second = record(&eve, &declared(&items[0], Network::Facebook, 2)).await;
    assert_eq!((second.points, second.proof), (3, ShareProof::Declared));
    // The same item on the same network again scores nothing.
    let again = record(&eve, &verified(&items[0], Network::X, 3)).await;
    assert_eq!(again.points, 0);
    assert_eq!(again.unscored.as_deref(), Some("already_scored"));
    // A repeated request is the same record, scored once.
    let repeat = record(&eve, &verified(&items[0], Network::X, 1)).await;
    assert_eq!((repeat.id.as_str(), repeat.points), (first.id.as_str(), 10));
    // At most 5 scored shares a day: two so far, three more score, the next does not.
    for (n, item) in items[1..4].iter().enumerate() {
        let r = record(&eve, &verified(item, Network::Linkedin, 10 + n)).await;
        assert_eq!(r.points, 10);
    }
    let capped = record(&eve, &verified(&items[4], Network::Linkedin, 20)).await;
    assert_eq!(capped.points, 0);
    assert_eq!(capped.unscored.as_deref(), Some("daily_cap"));

    let mine = me(&eve).await;
    assert_eq!(mine.points, 10 + 3 + 30);
    assert_eq!(mine.all_time_points, 43);
    assert_eq!((mine.verified_shares, mine.declared_shares), (4, 1));
    assert_eq!(mine.rank, Some(1));
    assert_eq!(mine.shares.len(), 7, "every share is listed, scored or not");
    assert_eq!(
        mine.rules,
        PointsRules {
            trust_attested: true,
            ..PointsRules::default()
        }
    );
    assert!(!mine.on_board);
    // Another person's points are theirs: Eve's rank drops when someone does better.
    let sam = room.employee("Sam Sharer", "FR", "Sales").await;
    for (n, item) in items[..5].iter().enumerate() {
        record(&sam, &verified(item, Network::Linkedin, 30 + n)).await;
    }
    assert_eq!(me(&sam).await.points, 50);
    let mine = me(&eve).await;
    assert_eq!((mine.rank, mine.ranked), (Some(2), 2));
    assert_ledger_matches_totals(&room).await;
    assert_eq!(room.count("points_ledger").await, 5 + 5);
}

async fn concurrent_shares_never_pass_the_daily_cap(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let mut items = Vec::new();
    for i in 0..12 {
        items.push(room.item(&format!("Story {i}")).await);
    }
    let records: Vec<NewShareRecord> = items
        .iter()
        .enumerate()
        .map(|(n, item)| verified(item, Network::X, n))
        .collect();
    // Two processes on one device and a phone, all at once.
    let answers = futures::future::join_all(
        records
            .iter()
            .map(|r| eve.send(Method::POST, "/v1/shares", Some(r))),
    )
    .await;
    let mut scored = 0;
    for answer in answers {
        assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
        let r: ShareRecord = serde_json::from_value(answer.body).unwrap();
        scored += usize::from(r.points > 0);
    }
    assert_eq!(scored, 5);
    assert_eq!(me(&eve).await.points, 50);
    assert_ledger_matches_totals(&room).await;
}

async fn records_that_cannot_be_true_are_refused_and_change_nothing(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let item = room.item("For everyone").await;
    let mut german = article(&room.news, "For Germany");
    german.audience.countries = vec!["DE".into()];
    let german = room.admin.publish(&german).await.item.id;
    let draft = room
        .admin
        .create_content(&article(&room.news, "Draft"))
        .await
        .item
        .id;

    let base = verified(&item, Network::Bluesky, 1);
    let mastodon = verified(&item, Network::Mastodon, 2);
    let cases: Vec<(&str, NewShareRecord)> = vec![
        (
            "unknown item",
            NewShareRecord {
                item_id: "no-such-item".into(),
                ..base.clone()
            },
        ),
        (
            "a draft",
            NewShareRecord {
                item_id: draft,
                ..base.clone()
            },
        ),
        (
            "not for her audience",
            NewShareRecord {
                item_id: german,
                ..base.clone()
            },
        ),
        (
            "in the future",
            NewShareRecord {
                shared_at: Utc::now() + Duration::minutes(6),
                ..base.clone()
            },
        ),
        (
            "before publication",
            NewShareRecord {
                shared_at: Utc::now() - Duration::hours(2),
                ..base.clone()
            },
        ),
        (
            "post elsewhere",
            NewShareRecord {
                post_url: Some("https://evil.test/bsky.app/post/1".into()),
                ..base.clone()
            },
        ),
        (
            "look-alike domain",
            NewShareRecord {
                post_url: Some("https://bsky.app.evil.test/post/1".into()),
                ..base.clone()
            },
        ),
        (
            "another Mastodon server",
            NewShareRecord {
                post_url: Some("https://other.test/@eve/2".into()),
                ..mastodon.clone()
            },
        ),
        (
            "Mastodon without its server",
            NewShareRecord {
                account_host: None,
                ..mastodon.clone()
            },
        ),
        (
            "Mastodon status id with a path in it",
            NewShareRecord {
                post_id: Some("../../admin".into()),
                ..mastodon.clone()
            },
        ),
        (
            "Mastodon server that is no host name",
            NewShareRecord {
                account_host: Some("evil.test/x?".into()),
                post_url: None,
                ..mastodon
            },
        ),
        (
            "a Bluesky post that cannot be read back",
            NewShareRecord {
                post_id: Some("3kabc".into()),
                ..base.clone()
            },
        ),
        (
            "LinkedIn followers",
            NewShareRecord {
                followers: Some(500),
                ..verified(&item, Network::Linkedin, 3)
            },
        ),
        (
            "verified without a post",
            NewShareRecord {
                post_url: None,
                post_id: None,
                ..base.clone()
            },
        ),
        (
            "declared with a post",
            NewShareRecord {
                proof: ShareProof::Declared,
                ..base.clone()
            },
        ),
        (
            "someone's link",
            NewShareRecord {
                link_code: Some("AAAAAAAAAAAAAAAAAAAAAA".into()),
                ..base.clone()
            },
        ),
    ];
    for (why, case) in &cases {
        let answer = eve.send(Method::POST, "/v1/shares", Some(case)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{why}: {answer:?}");
        assert!(answer.problem().detail.is_some(), "{why}");
    }
    // Arrays where an object belongs, a wrong type.
    for body in [
        serde_json::json!([base.share_id, item]),
        serde_json::json!({"share_id": 1}),
    ] {
        let answer = eve.send(Method::POST, "/v1/shares", Some(&body)).await;
        assert!(answer.status.is_client_error(), "{answer:?}");
    }
    for table in ["shares", "points_ledger", "item_totals"] {
        assert_eq!(room.count(table).await, 0, "{table}");
    }
    assert_eq!(me(&eve).await.points, 0);
    // The same record, true, is taken: pending until the server has read the post itself.
    let taken = record(&eve, &base).await;
    assert_eq!((taken.points, taken.status), (0, ShareStatus::Pending));
}

async fn a_month_closes_after_its_grace_and_says_so(backend: Backend) {
    let now = Utc::now();
    let last_month = {
        let m = now.format("%Y-%m-01T00:00:00Z").to_string();
        m.parse::<chrono::DateTime<Utc>>().unwrap() - Duration::days(10)
    };
    // No grace: last month is closed.
    let strict = Newsroom::with(
        backend,
        Options {
            month_grace: Duration::zero(),
            ..Options::default()
        },
    )
    .await;
    let eve = strict.employee("Eve Employee", "FR", "Sales").await;
    let item = strict.item("Old news").await;
    strict
        .published_at(&item, last_month - Duration::days(1))
        .await;
    let late = NewShareRecord {
        shared_at: last_month,
        ..verified(&item, Network::X, 1)
    };
    let answer = eve.send(Method::POST, "/v1/shares", Some(&late)).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{answer:?}"
    );
    let problem = answer.problem();
    assert_eq!(problem.code, "month_closed");
    let name = last_month.format("%B %Y").to_string();
    assert!(
        problem
            .detail
            .as_deref()
            .unwrap_or("")
            .contains(&format!("too late for {name}")),
        "{problem:?}"
    );
    assert_eq!(strict.count("shares").await, 0);
    // This month's records are taken.
    assert_eq!(
        record(&eve, &verified(&item, Network::Linkedin, 2))
            .await
            .points,
        10
    );
    drop(strict);

    // With a long grace, last month is still open and the share counts there.
    let lenient = Newsroom::with(
        backend,
        Options {
            month_grace: Duration::days(62),
            ..Options::default()
        },
    )
    .await;
    let eve = lenient.employee("Eve Employee", "FR", "Sales").await;
    let item = lenient.item("Old news").await;
    lenient
        .published_at(&item, last_month - Duration::days(1))
        .await;
    let late = NewShareRecord {
        item_id: item.clone(),
        ..late
    };
    let taken = record(&eve, &late).await;
    assert_eq!(taken.month, last_month.format("%Y-%m").to_string());
    assert_eq!(taken.points, 10);
    assert_eq!(me(&eve).await.points, 0, "not this month's");
    let then: MyProgramme = eve
        .get(&format!("/v1/programme/me?month={}", taken.month))
        .await;
    assert_eq!(then.points, 10);
}

async fn rules_change_only_for_months_not_begun_and_are_audited(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let current: MonthRules = eve.get("/v1/programme/rules").await;
    assert!(current.frozen);
    assert_eq!(
        current.rules,
        PointsRules {
            trust_attested: true,
            ..PointsRules::default()
        }
    );
    let next = {
        let (y, m) = current.month.split_once('-').unwrap();
        let (y, m): (i32, u32) = (y.parse().unwrap(), m.parse().unwrap());
        if m == 12 {
            format!("{}-01", y + 1)
        } else {
            format!("{y}-{:02}", m + 1)
        }
    };
    let richer = PointsRules {
        verified_share: 15,
        daily_cap: 3,
        ..PointsRules::default()
    };
    // The current month has begun: frozen.
    let frozen = room
        .admin
        .send(
            Method::PUT,
            "/v1/programme/rules",
            Some(&RulesChange {
                from_month: current.month.clone(),
                rules: richer,
            }),
        )
        .await;
    assert_eq!(frozen.status, StatusCode::CONFLICT, "{frozen:?}");
    // Employees cannot change rules at all.
    let change = RulesChange {
        from_month: next.clone(),
        rules: richer,
    };
    let refused = eve
        .send(Method::PUT, "/v1/programme/rules", Some(&change))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let set: MonthRules = room
        .admin
        .send_ok(Method::PUT, "/v1/programme/rules", Some(&change))
        .await;
    assert_eq!((set.month.as_str(), set.rules), (next.as_str(), richer));
    let later: MonthRules = eve.get(&format!("/v1/programme/rules?month={next}")).await;
    assert_eq!(later.rules, richer);
    assert!(!later.frozen);
    let now: MonthRules = eve.get("/v1/programme/rules").await;
    assert_eq!(now.rules, current.rules, "this month keeps its rules");
    let audit: Vec<AuditEntry> = room.admin.get("/v1/audit").await;
    assert!(
        audit
            .iter()
            .any(|e| e.action == "programme.rules_set" && e.subject_id == next),
        "{audit:?}"
    );
    // Out of range is refused.
    let silly = RulesChange {
        from_month: next,
        rules: PointsRules {
            verified_share: 5000,
            ..richer
        },
    };
    let answer = room
        .admin
        .send(Method::PUT, "/v1/programme/rules", Some(&silly))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

async fn the_summary_is_unchanged_until_something_moves(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let item = room.item("Story").await;
    let url = format!("{}/v1/programme/summary", eve.base);
    let token = eve.token.clone().unwrap();
    let get = |etag: Option<String>| {
        let mut request = eve.http.get(&url).bearer_auth(&token);
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.send()
    };
    let first = get(None).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let summary: ProgrammeSummary = first.json().await.unwrap();
    assert_eq!(summary.me.points, 0);
    assert_eq!(
        get(Some(etag.clone())).await.unwrap().status(),
        StatusCode::NOT_MODIFIED
    );
    record(&eve, &verified(&item, Network::X, 1)).await;
    let moved = get(Some(etag.clone())).await.unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    assert_ne!(moved.headers()["etag"].to_str().unwrap(), etag);
    let summary: ProgrammeSummary = moved.json().await.unwrap();
    assert_eq!(summary.me.points, 10);
    assert_eq!(summary.top.items[0].item_id, item);
}
