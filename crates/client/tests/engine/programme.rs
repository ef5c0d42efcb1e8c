//! The programme on the device, against the real server: shares carry the person's tracked link
//! (or the item's own address when asked, or when the server cannot be reached in time), their
//! records earn points (attested X posts, which the demo organisation trusts here), a click on
//! the link as a browser elsewhere makes it shows in the person's figures, the leaderboard is
//! joined from the device, and the programme reads from the cache offline.

use relay_client::store::{LinkChoice, NewShare, ShareState};

use crate::harness::*;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

fn share(engine: &relay_client::Engine, item: &str, account: &str, link: LinkChoice) -> String {
    engine
        .store()
        .enqueue(&NewShare {
            link,
            item_id: item.to_owned(),
            account_id: account.to_owned(),
            text: "Worth a read".into(),
            scheduled_at: None,
        })
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_carry_tracked_links_and_earn_points() {
    let mut server = TestServer::start().await;
    let (engine, _dir, _secrets) = synced_device(&server).await;
    let (org, _) = server.demo().await;
    crate::draws::trust_attested(&server, &org).await;
    let (stub, stub_url) = StubNetwork::start("tok").await;
    let account = connect_account_on(&engine, relay_protocol::Network::X, &stub_url, "tok");
    let items: Vec<String> = engine
        .store()
        .feed(&relay_client::store::FeedQuery {
            limit: 3,
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|f| f.item.id)
        .collect();

    // Tracked (the default): the post carries the person's link on the company server.
    let tracked = share(&engine, &items[0], &account, LinkChoice::Tracked);
    let report = engine.dispatch().await.unwrap();
    assert_eq!((report.posted, report.recorded), (1, 1), "{report:?}");
    let sent = engine.store().share(&tracked).unwrap().unwrap();
    let link = sent.link_url.clone().expect("a tracked link");
    assert!(link.starts_with(&format!("{}/l/", server.url())), "{link}");
    let posted = stub.posts.lock().unwrap()[&tracked].clone();
    assert_eq!(posted["link"], link.as_str());
    assert_eq!(sent.points, Some(10), "an attested share, trusted");
    assert!(!sent.link_fallback);

    // Someone follows it, as a browser does (elsewhere than the person's own device, whose
    // clicks would not count): the click counts for the share.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from([127, 0, 0, 5]))
        .build()
        .unwrap();
    let answer = browser
        .get(&link)
        .header("user-agent", FIREFOX)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::FOUND);
    let target = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(target.contains("utm_source=relay"), "{target}");
    let view = engine.programme().await.unwrap();
    assert!(!view.offline);
    let me = &view.programme.as_ref().unwrap().summary.me;
    assert_eq!((me.points, me.clicks, me.verified_shares), (11, 1, 1));

    // The original link when asked: no tracked link is made or carried.
    let original = share(&engine, &items[1], &account, LinkChoice::Original);
    engine.dispatch().await.unwrap();
    let sent = engine.store().share(&original).unwrap().unwrap();
    assert_eq!(sent.link_url, None);
    let posted = stub.posts.lock().unwrap()[&original].clone();
    assert_eq!(posted["link"], sent.item_url.as_str());

    // The server away: the share does not wait; it goes with the original link, the queue
    // says so, and its record reaches the server when it is back.
    server.down().await;
    let away = share(&engine, &items[2], &account, LinkChoice::Tracked);
    let report = engine.dispatch().await.unwrap();
    assert_eq!((report.posted, report.recorded), (1, 0));
    let sent = engine.store().share(&away).unwrap().unwrap();
    assert_eq!(sent.state, ShareState::Posted);
    assert!(sent.link_fallback);
    assert_eq!(
        stub.posts.lock().unwrap()[&away]["link"],
        sent.item_url.as_str()
    );
    // Offline, the programme is the cache, and says so.
    let offline = engine.programme().await.unwrap();
    assert!(offline.offline);
    assert_eq!(offline.programme.unwrap().summary.me.points, 11);
    server.up().await;
    let report = engine.dispatch().await.unwrap();
    assert_eq!(report.recorded, 1);
    let view = engine.programme().await.unwrap();
    assert_eq!(view.programme.unwrap().summary.me.points, 31);

    // The leaderboard, joined from the device under a pseudonym, then left.
    let joined = engine
        .set_on_board(true, Some("Blue Heron".into()))
        .await
        .unwrap();
    let summary = joined.programme.unwrap().summary;
    assert!(summary.me.on_board);
    assert_eq!(summary.board.entries.len(), 1);
    assert_eq!(summary.board.entries[0].name, "Blue Heron");
    assert!(summary.board.entries[0].you);
    let left = engine.set_on_board(false, None).await.unwrap();
    assert!(left.programme.unwrap().summary.board.entries.is_empty());

    // Signed out, the cached programme goes with the session.
    engine.sign_out().unwrap();
    assert!(engine.cached_programme().unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draw_verifies_on_the_device_and_a_tampered_one_does_not() {
    let (mut server, closes) = crate::draws::server_for_a_draw().await;
    let (org, code) = server.demo().await;
    // The command line keeps its session in the keychain.
    if !crate::harness::keychain_available() {
        return;
    }
    // The devices check the replayed rounds on the same moved clock as the server.
    let env = [(
        "RELAY_TEST_DRAND_GENESIS",
        crate::draws::genesis(closes).to_string(),
    )];
    let relay =
        |dir: &std::path::Path, args: &[&str]| crate::harness::relay_with(dir, args, None, &env);
    let dir = crate::sweep::tempdir();
    let (ok, out, err) = relay(dir.path(), &["enrol", &server.url(), &code]);
    assert!(ok, "{out}{err}");
    let late = crate::sweep::tempdir();
    let (_, second_code) = server.demo().await;
    let (ok, out, err) = relay(late.path(), &["enrol", &server.url(), &second_code]);
    assert!(ok, "{out}{err}");
    let (month, admin) = crate::draws::commit_draw(&server, &org, closes).await;

    // The device looks once the list is frozen, before the round exists, and says so.
    tokio::time::sleep(
        (closes + chrono::Duration::milliseconds(2000) - chrono::Utc::now())
            .to_std()
            .unwrap_or_default(),
    )
    .await;
    let (ok, out, err) = relay(dir.path(), &["draw", "verify", &month]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("Not drawn yet"), "{out}");
    assert!(out.contains("before the beacon round existed"), "{out}");
    crate::draws::draw_once_out(&server, &admin, &month, closes).await;

    let (ok, out, err) = relay(dir.path(), &["draw", "verify", &month]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("Verified on this device."), "{out}");
    assert!(out.contains("Tablet: Sharer "), "{out}");
    assert!(
        out.contains(&format!("quicknet round {}", crate::draws::ROUND)),
        "{out}"
    );
    let (ok, out, _) = relay(dir.path(), &["--json", "draw", "verify", &month]);
    assert!(ok);
    let check: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        check["verified"]["Ok"].as_array().map(Vec::len),
        Some(2),
        "{check}"
    );
    assert_eq!(check["witness"], "before_round", "{check}");
    // A device that first looks now verifies the record, and says it cannot vouch for the list.
    let (ok, out, err) = relay(late.path(), &["draw", "verify", &month]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("after the beacon round existed"), "{out}");

    // The operator redraws the entry ids now that the round is public: a record consistent in
    // itself, which this device refuses, loudly, and whose copy it keeps.
    crate::draws::redraw_as_the_operator(&server, &month).await;
    let (ok, out, err) = relay(dir.path(), &["draw", "verify", &month]);
    assert!(!ok, "{out}{err}");
    assert!(
        out.contains("DOES NOT VERIFY") && out.contains("entry list changed"),
        "{out}"
    );

    // Someone edits the device's copy of the draw (one entry), and the server is away: the
    // check runs on the copy and fails.
    let db = rusqlite::Connection::open(dir.path().join("relay.db")).unwrap();
    let key = format!("programme.draw.{month}");
    let json: String = db
        .query_row("SELECT value FROM settings WHERE key = ?1", [&key], |r| {
            r.get(0)
        })
        .unwrap();
    let mut draw: serde_json::Value = serde_json::from_str(&json).unwrap();
    draw["entries"]["entries"][0] = serde_json::Value::String("0".repeat(32));
    db.execute(
        "UPDATE settings SET value = ?1 WHERE key = ?2",
        rusqlite::params![draw.to_string(), key],
    )
    .unwrap();
    server.down().await;
    let (ok, out, err) = relay(dir.path(), &["draw", "verify", &month]);
    assert!(!ok, "{out}{err}");
    assert!(
        out.contains("Offline") && out.contains("DOES NOT VERIFY"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_opened_are_reported_once_a_day_as_counts() {
    let server = TestServer::start().await;
    let (engine, dir, _secrets) = synced_device(&server).await;
    let item = newest_item(&engine);
    engine.store().mark_read(&item, true).unwrap();
    // Today is not over: nothing goes.
    assert_eq!(engine.report_reads().await.unwrap(), 0);
    // The day is over (moved back a day here).
    let db = rusqlite::Connection::open(dir.path().join("relay.db")).unwrap();
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    db.execute("UPDATE reads_pending SET day = ?1", [&yesterday])
        .unwrap();
    assert_eq!(engine.report_reads().await.unwrap(), 1);
    assert_eq!(engine.report_reads().await.unwrap(), 0, "reported once");
    let reads: i64 = sqlx::query_scalar("SELECT reads FROM item_reads WHERE item_id = $1")
        .bind(&item)
        .fetch_one(&server.state().db.read)
        .await
        .unwrap();
    assert_eq!(reads, 1);
}
