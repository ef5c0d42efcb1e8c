//! Upgrades from a database people have used: each folder under `tests/fixtures/upgrade/` holds a
//! database made by the schema of its day, with representative data (the demo company, four
//! employees who shared, clicked links, read, joined the board and set their notifications; a
//! curator's draft), dumped from both backends. Every migration written since must upgrade it:
//! this test loads each dump into a fresh database, lets the server migrate it at start, and
//! checks that nothing was lost (every table keeps its rows) and that people read their data
//! back through the API.
//!
//! A fixture is written once and never regenerated (that would only test the new schema
//! against itself). To add one for a later schema, pick a new folder name:
//! `RELAY_WRITE_UPGRADE_FIXTURE=2027-06 cargo test -p relay-server --test api upgrade`
//! (with PostgreSQL reachable and `sqlite3` and `pg_dump` installed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::harness::*;
use crate::newsroom::{declared, record, verified};

crate::both_backends!(every_fixture_upgrades_and_reads_back);

/// What the fixture's people see, written beside the dumps when they are made.
#[derive(Debug, Serialize, Deserialize)]
struct Expected {
    /// The employee whose history is read back, with their all-time points.
    email: String,
    all_time_points: i64,
    shares: usize,
    /// Items that never expire: they stay in that employee's feed.
    titles: Vec<String>,
    /// Pseudonyms on the all-time leaderboard.
    pseudonyms: Vec<String>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade")
}

fn dump_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite.sql",
        Backend::Postgres => "postgres.sql",
    }
}

async fn every_fixture_upgrades_and_reads_back(backend: Backend) {
    if let Ok(name) = std::env::var("RELAY_WRITE_UPGRADE_FIXTURE") {
        write_fixture(backend, &fixtures().join(name)).await;
        return;
    }
    let mut folders: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    assert!(!folders.is_empty(), "no upgrade fixture");
    for folder in folders {
        upgrade(backend, &folder).await;
    }
}

async fn upgrade(backend: Backend, folder: &Path) {
    let expected: Expected =
        serde_json::from_slice(&std::fs::read(folder.join("expect.json")).unwrap()).unwrap();
    let dump = std::fs::read_to_string(folder.join(dump_name(backend))).unwrap();
    assert!(
        dump.contains("_sqlx_migrations"),
        "a dump with its migrations"
    );
    let db = TestDb::new(backend).await;
    let before = {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&create_url(&db.url))
            .await
            .unwrap();
        match backend {
            Backend::Sqlite => {
                sqlx::raw_sql(&dump)
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
            }
            // As an operator restores a plain dump (it holds psql's meta-commands).
            Backend::Postgres => {
                let out = std::process::Command::new("psql")
                    .args(["-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f"])
                    .arg(folder.join(dump_name(backend)))
                    .arg(&db.url)
                    .output()
                    .expect("psql");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        let counts = row_counts(&mut conn, backend).await;
        conn.close().await.unwrap();
        counts
    };
    assert!(before["people"] > 0 && before["shares"] > 0);

    // The server migrates at start, as after an upgrade.
    let server = Server::start(&db).await;
    let ready = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK, "{}", folder.display());
    let after = {
        let mut conn = server.db().read.acquire().await.unwrap();
        row_counts(&mut conn, backend).await
    };
    for (table, rows) in &before {
        assert_eq!(
            after.get(table),
            Some(rows),
            "{}: table {table} kept its rows",
            folder.display()
        );
    }

    // The employee, on a device enrolled after the upgrade, finds their history and feed.
    let org = relay_server::orgs::find(server.db(), relay_server::demo::DEMO_ORG)
        .await
        .unwrap()
        .expect("the fixture's organisation");
    let person = relay_server::people::find_by_email(server.db(), &org.id, &expected.email)
        .await
        .unwrap();
    let employee = server.enrol(&org, &person.id).await;
    let mine: MyProgramme = employee.get("/v1/programme/me").await;
    assert_eq!(mine.all_time_points, expected.all_time_points);
    let page = employee.sync_page(None, 500).await;
    let titles: Vec<&str> = page
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Upsert { item } => Some(item.title.as_str()),
            _ => None,
        })
        .collect();
    for title in &expected.titles {
        assert!(titles.contains(&title.as_str()), "{title} in the feed");
    }
    let board: Board = employee.get("/v1/programme/board?all_time=true").await;
    for pseudonym in &expected.pseudonyms {
        assert!(
            board.entries.iter().any(|e| &e.name == pseudonym),
            "{pseudonym} on the all-time board: {board:?}"
        );
    }
    // And the curator's draft is still in the inbox.
    let curator_id = relay_server::people::find_by_email(
        server.db(),
        &org.id,
        relay_server::demo::DEMO_CURATOR_EMAIL,
    )
    .await
    .unwrap()
    .id;
    let curator = server.enrol(&org, &curator_id).await;
    let drafts: Value = curator.get("/v1/content?state=draft").await;
    assert!(
        drafts.to_string().contains("Written before the upgrade"),
        "{drafts}"
    );
}

type Value = serde_json::Value;

/// A SQLite URL that creates the file (the server's own opening does too, but the dump is
/// loaded before it starts).
fn create_url(url: &str) -> String {
    if url.starts_with("sqlite:") {
        format!("{url}?mode=rwc")
    } else {
        url.to_owned()
    }
}

async fn row_counts(conn: &mut sqlx::AnyConnection, backend: Backend) -> BTreeMap<String, i64> {
    let tables: Vec<String> = sqlx::query_scalar(match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        }
    })
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut counts = BTreeMap::new();
    for table in tables.into_iter().filter(|t| t != "_sqlx_migrations") {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        counts.insert(table, n);
    }
    counts
}

/// The items of a person's feed that never expire.
async fn lasting_items(person: &Client) -> Vec<Item> {
    let page = person.sync_page(None, 500).await;
    page.changes
        .into_iter()
        .filter_map(|c| match c {
            Change::Upsert { item } if item.expires_at.is_none() => Some(item),
            _ => None,
        })
        .collect()
}

/// Makes the fixture: the demo company and a month of use, then dumps it.
async fn write_fixture(backend: Backend, folder: &Path) {
    std::fs::create_dir_all(folder).unwrap();
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    relay_server::demo::ensure(server.state()).await.unwrap();
    let org = relay_server::orgs::find(server.db(), relay_server::demo::DEMO_ORG)
        .await
        .unwrap()
        .unwrap();
    // Attested shares count as verified in this company (as in the programme's tests).
    sqlx::query(
        "INSERT INTO points_rules (org_id, from_month, rules, set_at) VALUES ($1, '2000-01', $2, 0)",
    )
    .bind(&org.id)
    .bind(
        serde_json::to_string(&PointsRules {
            trust_attested: true,
            ..PointsRules::default()
        })
        .unwrap(),
    )
    .execute(&server.db().write)
    .await
    .unwrap();

    let emails = [
        relay_server::demo::DEMO_EMAIL,
        "camille.durand@contoso.example",
        "priya.nair@contoso.example",
        "jonas.weber@contoso.example",
    ];
    let mut people = Vec::new();
    for email in emails {
        let id = relay_server::people::find_by_email(server.db(), &org.id, email)
            .await
            .unwrap()
            .id;
        people.push(server.enrol(&org, &id).await);
    }
    let networks = [Network::Linkedin, Network::X, Network::Bluesky];
    let mut n = 0;
    let mut alexs = Vec::new();
    for (p, person) in people.iter().enumerate() {
        let lasting = lasting_items(person).await;
        assert!(lasting.len() >= 6, "the demo has lasting items");
        if p == 0 {
            alexs = lasting.clone();
        }
        for item in lasting.iter().skip(p).take(3) {
            n += 1;
            record(person, &verified(&item.id, networks[n % 3], n)).await;
        }
        n += 1;
        record(person, &declared(&lasting[p].id, Network::Facebook, n)).await;
        // A tracked link followed by two people elsewhere.
        let link: TrackedLink = person
            .send_ok(
                Method::POST,
                "/v1/links",
                Some(&NewLink {
                    item_id: lasting[p].id.clone(),
                    network: Network::Linkedin,
                }),
            )
            .await;
        for host in [7, 8] {
            let answer = browser(host)
                .get(format!("{}/l/{}", server.base, link.code))
                .header(
                    "user-agent",
                    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0",
                )
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_redirection());
        }
        let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
            .format("%Y-%m-%d")
            .to_string();
        person
            .send_ok::<_, ReadsCounted>(
                Method::POST,
                "/v1/reads",
                Some(&ReadReport {
                    day: yesterday,
                    items: lasting.iter().take(4).map(|i| i.id.clone()).collect(),
                }),
            )
            .await;
    }
    let pseudonyms = vec!["Blue Heron".to_owned(), "Red Kite".to_owned()];
    for (person, pseudonym) in people.iter().zip(&pseudonyms) {
        person
            .send_ok::<_, BoardMembership>(
                Method::PUT,
                "/v1/programme/board/me",
                Some(&BoardMembership {
                    pseudonym: Some(pseudonym.clone()),
                }),
            )
            .await;
    }
    people[2]
        .send_ok::<_, NotificationPrefs>(
            Method::PUT,
            "/v1/me/notifications",
            Some(&NotificationPrefs {
                paused_until: None,
                quiet_hours: QuietHours {
                    start: "20:00".into(),
                    end: "07:30".into(),
                },
                time_zone: Some("Asia/Kolkata".into()),
            }),
        )
        .await;
    let curator_id = relay_server::people::find_by_email(
        server.db(),
        &org.id,
        relay_server::demo::DEMO_CURATOR_EMAIL,
    )
    .await
    .unwrap()
    .id;
    let curator = server.enrol(&org, &curator_id).await;
    let mut draft = article(
        &Channel {
            id: alexs[0].channel_id.clone(),
            slug: String::new(),
            names: BTreeMap::new(),
        },
        "Written before the upgrade",
    );
    draft.language = "fr".into();
    curator.create_content(&draft).await;

    let mine: MyProgramme = people[0].get("/v1/programme/me").await;
    let expected = Expected {
        email: relay_server::demo::DEMO_EMAIL.into(),
        all_time_points: mine.all_time_points,
        shares: mine.shares.len(),
        titles: alexs.iter().map(|i| i.title.clone()).collect(),
        pseudonyms,
    };
    assert!(expected.all_time_points > 0 && expected.shares > 0);
    std::fs::write(
        folder.join("expect.json"),
        serde_json::to_string_pretty(&expected).unwrap() + "\n",
    )
    .unwrap();

    let out = folder.join(dump_name(backend));
    let status = match backend {
        Backend::Sqlite => {
            let file = db.url.strip_prefix("sqlite:").unwrap();
            let dump = std::process::Command::new("sqlite3")
                .args([file, ".dump"])
                .output()
                .expect("sqlite3");
            std::fs::write(&out, &dump.stdout).unwrap();
            dump.status
        }
        Backend::Postgres => std::process::Command::new("pg_dump")
            .args(["--inserts", "--no-owner", "--no-privileges", "--file"])
            .arg(&out)
            .arg(&db.url)
            .status()
            .expect("pg_dump"),
    };
    assert!(status.success(), "dump {}", out.display());
    drop(server);
}
