//! A person's own data: the download holds everything about them and nothing about anyone else;
//! erasure leaves nothing of them in any table of the schema while the company's figures keep
//! their counts; exports of one person's figures exist only while switched on, with a reason.

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::{Column, Row};

use crate::harness::*;
use crate::newsroom::*;

crate::both_backends!(
    the_download_holds_everything_about_me_and_nothing_else,
    erasure_leaves_nothing_of_the_person_in_any_table,
    an_erased_persons_groups_last_until_their_month_is_kept,
    individual_exports_need_the_switch_and_a_reason,
);

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// Everything that identifies Eve, and the ids that would tie rows back to her.
struct Traces {
    person_id: String,
    device_ids: Vec<String>,
    words: Vec<String>,
}

/// Eve, a curator with two devices, a tracked link clicked once, a verified and a declared share,
/// a leaderboard pseudonym, a draw opt-out, a read, a story she wrote and a console sign-in link.
async fn eve_at_work(room: &Newsroom) -> (Client, Client, String, Traces) {
    let eve = room
        .server
        .person(
            &room.org,
            "Eve Lindqvist",
            Role::Curator,
            "SE",
            "en",
            "Design",
        )
        .await;
    let phone = room
        .server
        .anonymous()
        .enrol(
            room.server
                .enrolment(&room.org, &eve.person().id)
                .await
                .code,
            "Eve's phone",
        )
        .await;
    let item = room.item("Our new plant").await;
    let written = eve
        .publish(&article(&room.news, "Written by Eve"))
        .await
        .item
        .id;
    let link: TrackedLink = eve
        .send_ok(
            Method::POST,
            "/v1/links",
            Some(&NewLink {
                item_id: item.clone(),
                network: Network::X,
            }),
        )
        .await;
    // Someone follows it (from another address than Eve's devices').
    let visit = crate::harness::browser(9)
        .get(format!("{}/l/{}", room.server.anonymous().base, link.code))
        .header("user-agent", FIREFOX)
        .send()
        .await
        .unwrap();
    assert_eq!(visit.status(), StatusCode::FOUND);
    record(
        &eve,
        &NewShareRecord {
            link_code: Some(link.code.clone()),
            post_url: Some("https://x.com/eve_lindqvist/status/3031".into()),
            ..verified(&item, Network::X, 1)
        },
    )
    .await;
    record(&phone, &declared(&written, Network::Facebook, 2)).await;
    let board: Value = eve
        .send_ok(
            Method::PUT,
            "/v1/programme/board/me",
            Some(&BoardMembership {
                pseudonym: Some("Nordic Fox".into()),
            }),
        )
        .await;
    assert!(board.is_object());
    let rules: MonthRules = room.admin.get("/v1/programme/rules").await;
    let opt_out = eve
        .send(
            Method::PUT,
            &format!("/v1/programme/draws/{}/me", rules.month),
            Some(&DrawParticipation { opted_out: true }),
        )
        .await;
    assert!(opt_out.status.is_success(), "{opt_out:?}");
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let read = phone
        .send(
            Method::POST,
            "/v1/reads",
            Some(&ReadReport {
                day: yesterday,
                items: vec![item.clone()],
            }),
        )
        .await;
    assert!(read.status.is_success(), "{read:?}");
    let console_link = relay_server::console::links::create(
        room.server.db(),
        &room.org.id,
        eve.person(),
        "http://relay.test",
        std::time::Duration::from_secs(900),
    )
    .await
    .unwrap();
    assert!(console_link.contains("#/signin/"));
    let traces = Traces {
        person_id: eve.person().id.clone(),
        device_ids: vec![eve.device_id().to_owned(), phone.device_id().to_owned()],
        words: vec![
            "Eve Lindqvist".into(),
            eve.person().email.clone(),
            "Eve's phone".into(),
            "eve_lindqvist/status/3031".into(),
            "Nordic Fox".into(),
            link.code.clone(),
        ],
    };
    (eve, phone, item, traces)
}

/// Every table of the schema (not a list kept by hand: a new table is checked too).
async fn all_tables(room: &Newsroom) -> Vec<String> {
    let db = &room.server.db().read;
    let names: Vec<String> = match room.server.db().backend {
        Backend::Sqlite => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
        )
        .fetch_all(db)
        .await
        .unwrap(),
        Backend::Postgres => sqlx::query_scalar(
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'",
        )
        .fetch_all(db)
        .await
        .unwrap(),
    };
    assert!(names.len() >= 25, "{names:?}");
    names
}

/// Each cell of every table that contains one of `needles`, as `table.column = value`.
async fn cells_containing(room: &Newsroom, needles: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for table in all_tables(room).await {
        let rows = sqlx::query(&format!("SELECT * FROM {table}"))
            .fetch_all(&room.server.db().read)
            .await
            .unwrap();
        for row in &rows {
            for (i, column) in row.columns().iter().enumerate() {
                let text = match row.try_get::<Option<String>, _>(i) {
                    Ok(Some(text)) => text,
                    _ => continue,
                };
                let lower = text.to_lowercase();
                if needles.iter().any(|n| lower.contains(&n.to_lowercase())) {
                    found.push(format!("{table}.{} = {text}", column.name()));
                }
            }
        }
    }
    found
}

/// The database's files (the main file and its write-ahead log) that hold any of `needles`, as
/// `file: needle`.
fn files_holding(room: &Newsroom, needles: &[String]) -> Vec<String> {
    let url = room.server.db().url();
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let mut found = Vec::new();
    for file in [
        path.clone(),
        format!("{path}-wal"),
        format!("{path}-journal"),
    ] {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        for needle in needles {
            for form in [needle.clone(), needle.to_lowercase()] {
                if bytes.windows(form.len()).any(|w| w == form.as_bytes()) {
                    found.push(format!("{file}: {needle}"));
                    break;
                }
            }
        }
    }
    found
}

async fn the_download_holds_everything_about_me_and_nothing_else(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let bob = room.employee("Bob Other", "FR", "Sales").await;
    let (eve, _phone, item, traces) = eve_at_work(&room).await;
    record(&bob, &verified(&item, Network::Linkedin, 9)).await;

    let data: PersonalData = eve.get("/v1/me/data").await;
    assert_eq!(data.format, PERSONAL_DATA_FORMAT);
    assert_eq!(data.person_id, traces.person_id);
    let count = |table: &str| data.tables.get(table).map_or(0, Vec::len);
    assert_eq!(count("people"), 1);
    assert_eq!(count("sessions"), 2, "both devices");
    assert_eq!(count("shares"), 2);
    assert_eq!(count("links"), 1);
    assert_eq!(count("board_members"), 1);
    assert_eq!(count("draw_opt_outs"), 1);
    assert_eq!(count("consults"), 1);
    assert_eq!(count("read_batches"), 1);
    assert_eq!(count("console_links"), 1);
    assert_eq!(count("items"), 1, "the story she wrote");
    assert!(count("points_ledger") >= 2 && count("points_totals") >= 2);
    assert!(count("enrolments") >= 2 && count("audit_log") >= 3);
    let text = serde_json::to_string(&data).unwrap();
    for word in &traces.words {
        assert!(
            text.contains(word.as_str()),
            "{word} missing from the download"
        );
    }
    // Nothing of Bob, and no hash of a secret (they describe no one and would help an attacker).
    assert!(!text.contains(&bob.person().id) && !text.contains("bob.other"));
    for rows in data.tables.values() {
        for row in rows {
            assert!(row.keys().all(|k| !k.contains("hash")), "{row:?}");
        }
    }
    assert_eq!(
        data.tables["sessions"][0]["person_id"],
        traces.person_id.as_str()
    );
    // The download is the caller's own: nobody asks for another's.
    let bobs: PersonalData = bob.get("/v1/me/data").await;
    assert!(!serde_json::to_string(&bobs).unwrap().contains("Lindqvist"));
    let anonymous = room
        .server
        .anonymous()
        .send::<()>(Method::GET, "/v1/me/data", None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn erasure_leaves_nothing_of_the_person_in_any_table(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let bob = room.employee("Bob Other", "FR", "Sales").await;
    let (eve, phone, item, traces) = eve_at_work(&room).await;
    record(&bob, &verified(&item, Network::Linkedin, 9)).await;
    let top_before: Value = room.admin.get("/v1/programme/top").await;
    let month_before: Vec<MonthFigures> = room.admin.get("/v1/analytics/months?months=1").await;
    let shares_before = room.count("shares").await;
    let mut needles = traces.words.clone();
    needles.push(traces.person_id.clone());
    needles.extend(traces.device_ids.iter().cloned());
    assert!(!cells_containing(&room, &needles).await.is_empty());

    // Refused without saying so, and with an array: nothing changes.
    for body in [json!({ "confirm": false }), json!([true]), json!({})] {
        let answer = eve.send(Method::POST, "/v1/me/erasure", Some(&body)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        answer.problem();
    }
    let me = eve.send::<()>(Method::GET, "/v1/me", None).await;
    assert_eq!(me.status, StatusCode::OK);
    // Employees cannot erase someone else.
    let answer = bob
        .send(
            Method::POST,
            &format!("/v1/people/{}/erasure", traces.person_id),
            Some(&json!({ "confirm": true })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    let erased: Erasure = eve
        .send_ok(
            Method::POST,
            "/v1/me/erasure",
            Some(&json!({ "confirm": true })),
        )
        .await;
    assert!(erased.deleted >= 10 && erased.anonymised >= 5, "{erased:?}");
    let left = cells_containing(&room, &needles).await;
    assert!(left.is_empty(), "traces of Eve left: {left:#?}");
    // Nor on disk: no file of the database holds her, not the main file's free space, not the
    // write-ahead log (SQLite); the tables she was in are vacuumed (PostgreSQL).
    match backend {
        Backend::Sqlite => {
            let held = files_holding(&room, &needles);
            assert!(held.is_empty(), "Eve is still on disk: {held:#?}");
        }
        Backend::Postgres => {
            for table in ["people", "shares", "links", "sessions", "audit_log"] {
                let mut vacuumed = false;
                for _ in 0..50 {
                    let last: Option<i64> = sqlx::query_scalar(
                        "SELECT CAST(EXTRACT(EPOCH FROM last_vacuum) AS BIGINT) FROM pg_stat_user_tables \
                         WHERE relname = $1 AND schemaname = current_schema()",
                    )
                    .bind(table)
                    .fetch_optional(&room.server.db().read)
                    .await
                    .unwrap()
                    .flatten();
                    if last.is_some() {
                        vacuumed = true;
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                assert!(vacuumed, "{table} vacuumed after the erasure");
            }
        }
    }

    // Both devices are signed out; she is gone from the people list.
    for device in [&eve, &phone] {
        let answer = device.send::<()>(Method::GET, "/v1/me", None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let gone = room
        .admin
        .send::<()>(
            Method::GET,
            &format!("/v1/people/{}", traces.person_id),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let people: Vec<Person> = room.admin.get("/v1/people").await;
    assert_eq!(people.len(), 2, "Ada and Bob: {people:?}");
    // The company's figures keep their counts.
    assert_eq!(room.count("shares").await, shares_before);
    let top_after: Value = room.admin.get("/v1/programme/top").await;
    assert_eq!(top_after, top_before);
    let month_after: Vec<MonthFigures> = room.admin.get("/v1/analytics/months?months=1").await;
    assert_eq!(month_after[0].shares, month_before[0].shares);
    // Bob is untouched; the erasure is in the audit log, naming no one.
    let bobs: PersonalData = bob.get("/v1/me/data").await;
    assert_eq!(bobs.tables["shares"].len(), 1);
    let audit: Vec<AuditEntry> = room.admin.get("/v1/audit?action=person.erase").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].detail["by"], "themselves");

    // An admin erases Bob; a second erasure finds no one; the only admin cannot go.
    let bob_id = bob.person().id.clone();
    let path = format!("/v1/people/{bob_id}/erasure");
    let erased: Erasure = room
        .admin
        .send_ok(Method::POST, &path, Some(&json!({ "confirm": true })))
        .await;
    assert!(erased.deleted >= 3, "{erased:?}");
    let again = room
        .admin
        .send(Method::POST, &path, Some(&json!({ "confirm": true })))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(cells_containing(&room, &[bob_id, "Bob Other".into()])
        .await
        .is_empty());
    let audit: Vec<AuditEntry> = room.admin.get("/v1/audit?action=person.erase").await;
    assert_eq!(audit[0].detail["by"], "admin");
    let admin_path = format!("/v1/people/{}/erasure", room.admin.person().id);
    let last = room
        .admin
        .send(Method::POST, &admin_path, Some(&json!({ "confirm": true })))
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT);
    assert_eq!(room.count("shares").await, shares_before);
}

/// A tombstone keeps no attribute of its own; the group an erased person counted in during a
/// month stays only until that month's figures are kept, which the server does by itself once
/// the month closes (no one has to read them), with the figures unchanged.
async fn an_erased_persons_groups_last_until_their_month_is_kept(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let item = room.item("Story").await;
    let mut people = Vec::new();
    for n in 0..6 {
        let person = room.employee(&format!("Sales {n}"), "FR", "Sales").await;
        record(&person, &verified(&item, Network::Linkedin, n)).await;
        people.push(person);
    }
    // The only person in Operations, and one of the sales people.
    let lone = room.employee("Lone Ops", "FR", "Ops").await;
    record(&lone, &verified(&item, Network::Linkedin, 10)).await;
    let rules: MonthRules = room.admin.get("/v1/programme/rules").await;
    let this = rules.month.clone();
    let before: Vec<MonthFigures> = room
        .admin
        .get(&format!("/v1/analytics/months?to={this}&months=1"))
        .await;
    for id in [lone.person().id.clone(), people[0].person().id.clone()] {
        let _: Erasure = room
            .admin
            .send_ok(
                Method::POST,
                &format!("/v1/people/{id}/erasure"),
                Some(&json!({ "confirm": true })),
            )
            .await;
    }
    let db = &room.server.db().write;
    // The tombstones themselves are alike: no country, language or department.
    let attributes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT country, language, department FROM people WHERE erased_at IS NOT NULL",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert_eq!(attributes, [(String::new(), String::new(), String::new())]);
    let erased_groups = || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM month_members m JOIN people p ON p.id = m.person_id \
             WHERE p.erased_at IS NOT NULL",
        )
        .fetch_one(db)
        .await
        .unwrap();
        n
    };
    // While the month is open its figures stand still, so the groups stay.
    assert_eq!(erased_groups().await, 2);
    let state = room.server.state();
    assert_eq!(
        relay_server::analytics::publication::keep_closed(state)
            .await
            .unwrap(),
        0,
        "an open month is not kept"
    );
    let after: Vec<MonthFigures> = room
        .admin
        .get(&format!("/v1/analytics/months?to={this}&months=1"))
        .await;
    assert_eq!(after, before, "the erasures move no figure");

    // The month closes (moved two months back: closed whatever today's date and the grace).
    let (y, m) = this.split_once('-').unwrap();
    let index = y.parse::<i32>().unwrap() * 12 + m.parse::<i32>().unwrap() - 1 - 2;
    let closed = format!("{}-{:02}", index / 12, index % 12 + 1);
    for table in ["shares", "month_members", "month_items", "points_totals"] {
        sqlx::query(&format!("UPDATE {table} SET month = $1 WHERE month = $2"))
            .bind(&closed)
            .bind(&this)
            .execute(db)
            .await
            .unwrap();
    }
    assert_eq!(
        relay_server::analytics::publication::keep_closed(state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        erased_groups().await,
        0,
        "kept: the erased people's groups go"
    );
    assert_eq!(
        relay_server::analytics::publication::keep_closed(state)
            .await
            .unwrap(),
        0,
        "nothing left to keep"
    );
    let kept: Vec<MonthFigures> = room
        .admin
        .get(&format!("/v1/analytics/months?to={closed}&months=1"))
        .await;
    assert_eq!(
        (kept[0].sharers, kept[0].shares, kept[0].verified),
        (before[0].sharers, before[0].shares, before[0].verified),
        "the kept month's figures are the ones published before"
    );
    assert_eq!(kept[0].shares, Some(7));
}

async fn individual_exports_need_the_switch_and_a_reason(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let item = room.item("Story").await;
    record(&eve, &verified(&item, Network::X, 1)).await;
    let figures = format!("/v1/people/{}/figures", eve.person().id);

    let settings: PrivacySettings = eve.get("/v1/privacy").await;
    assert!(!settings.individual_export.enabled);
    assert_eq!(settings.min_group, 5);
    let off = room.admin.send::<()>(Method::GET, &figures, None).await;
    assert_eq!(off.status, StatusCode::FORBIDDEN);
    assert!(off.problem().detail.unwrap_or_default().contains("off"));

    let set = |enabled: bool, reason: Option<&str>| IndividualExportChange {
        enabled,
        reason: reason.map(Into::into),
    };
    let path = "/v1/privacy/individual-export";
    let answer = eve
        .send(Method::PUT, path, Some(&set(true, Some("we want to"))))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    for bad in [set(true, None), set(true, Some("short"))] {
        let answer = room.admin.send(Method::PUT, path, Some(&bad)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad:?}");
    }
    let reason = "Works council agreement of 2026-11-12, article 4";
    let on: PrivacySettings = room
        .admin
        .send_ok(Method::PUT, path, Some(&set(true, Some(reason))))
        .await;
    assert!(on.individual_export.enabled);
    // Every employee sees it, with its reason and date.
    let seen: PrivacySettings = eve.get("/v1/privacy").await;
    assert_eq!(seen.individual_export.reason.as_deref(), Some(reason));
    assert!(seen.individual_export.since.is_some());
    let months: Vec<PersonMonth> = room.admin.get(&figures).await;
    assert_eq!(months.len(), 1);
    assert_eq!((months[0].points, months[0].verified), (10, 1));
    // Curators are not admins.
    let cleo = room
        .server
        .person(
            &room.org,
            "Cleo Curator",
            Role::Curator,
            "FR",
            "fr",
            "Comms",
        )
        .await;
    assert_eq!(
        cleo.send::<()>(Method::GET, &figures, None).await.status,
        StatusCode::FORBIDDEN
    );

    let off: PrivacySettings = room
        .admin
        .send_ok(Method::PUT, path, Some(&set(false, None)))
        .await;
    assert!(!off.individual_export.enabled && off.individual_export.reason.is_none());
    let answer = room.admin.send::<()>(Method::GET, &figures, None).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let audit: Vec<AuditEntry> = room.admin.get("/v1/audit?action=privacy.").await;
    assert_eq!(audit.len(), 2, "on, then off");
    let exports: Vec<AuditEntry> = room
        .admin
        .get("/v1/audit?action=person.figures_export")
        .await;
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0].subject_id, eve.person().id);
}
