//! A month's prize draw made on the test server as an organisation makes it: last month closes a
//! few seconds after the server starts, its verified sharers enter, an admin sets the prizes and
//! commits, the server freezes the list at the close, and the draw reads its beacon round from a
//! local copy of drand's API serving a real recorded quicknet round (no network here: test
//! builds replay that round on a clock moved so that it comes [`LEAD`] s after the close; the
//! devices are told the same clock through `RELAY_TEST_DRAND_GENESIS`). Shared with the app's
//! end-to-end tests.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use relay_protocol::*;
use relay_server::programme::draw::BeaconConfig;
use serde_json::json;

use crate::peers::{serve, TestServer};

/// The recorded round (League of Entropy quicknet), as drand's API serves it.
pub const ROUND: u64 = 657413;
const RECORDED: &str = include_str!("../../draw/tests/fixtures/quicknet-657413.json");

/// Seconds between the close (the list frozen) and the round, at least.
pub const LEAD: i64 = 4;

/// The moved genesis that makes the recorded round the first one [`LEAD`] s after `closes`.
pub fn genesis(closes: DateTime<Utc>) -> i64 {
    closes.timestamp() + LEAD - (ROUND as i64 - 2) * 3
}

/// When the recorded round comes out on that clock.
pub fn round_at(closes: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_opt(genesis(closes) + (ROUND as i64 - 1) * 3, 0)
        .unwrap()
}

/// A server whose last month closes 4 s from now, the recorded round coming about 7 s after.
pub async fn server_for_a_draw() -> (TestServer, DateTime<Utc>) {
    server_closing_in(4).await
}

/// A server whose last month closes `secs` seconds from now, the recorded round [`LEAD`] s (and
/// a period) after that.
pub async fn server_closing_in(secs: i64) -> (TestServer, DateTime<Utc>) {
    let now = Utc::now();
    let this_month = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .unwrap();
    let closes = Utc.timestamp_opt(now.timestamp() + secs, 0).unwrap();
    let round: serde_json::Value = serde_json::from_str(RECORDED).unwrap();
    let app = axum::Router::new().route(
        &format!("/{}/public/{ROUND}", relay_draw::QUICKNET.hash),
        axum::routing::get(move || {
            let round = round.clone();
            async move { axum::Json(round) }
        }),
    );
    let beacon = BeaconConfig::replaying(
        serve(app).await,
        genesis(closes),
        std::time::Duration::from_secs(LEAD as u64),
    );
    let server = TestServer::start_calendar(
        Default::default(),
        None,
        None,
        Some((closes - this_month, beacon)),
    )
    .await;
    (server, closes)
}

/// A session for a new person of `org` (their token).
async fn person(server: &TestServer, org: &Org, name: &str, role: Role) -> String {
    let person = relay_server::people::add(
        &server.state().db,
        &org.id,
        None,
        NewPerson {
            name: name.into(),
            email: format!("{}@draw.test", name.to_lowercase().replace(' ', ".")),
            country: "FR".into(),
            language: "fr".into(),
            department: "Sales".into(),
            role,
        },
    )
    .await
    .unwrap();
    let mut tx = server.state().db.begin().await.unwrap();
    let enrolment = relay_server::auth::store::create_enrolment(
        &mut tx,
        &org.id,
        &person.id,
        None,
        &server.url(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let answer: EnrolResponse = reqwest::Client::new()
        .post(format!("{}/v1/enrol", server.url()))
        .json(&EnrolRequest {
            code: enrolment.code,
            device_name: "draw test".into(),
            platform: "cli".into(),
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    crate::sweep::note(&answer.session.access_token);
    crate::sweep::note(&answer.session.refresh_token);
    answer.session.access_token
}

async fn call(
    server: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) {
    let answer = reqwest::Client::new()
        .request(method.clone(), format!("{}{path}", server.url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    assert!(
        status.is_success(),
        "{method} {path}: {status} {}",
        answer.text().await.unwrap_or_default()
    );
}

/// Makes last month's draw of `org` on a server from [`server_for_a_draw`]: three sharers, two
/// prizes; returns the month.
#[allow(dead_code)] // The end-to-end tests'.
pub async fn make_draw(server: &TestServer, org: &Org, closes: DateTime<Utc>) -> String {
    let (month, admin) = commit_draw(server, org, closes).await;
    draw_once_out(server, &admin, &month, closes).await;
    month
}

/// Last month's sharers, its prizes and its commitment; the month and an admin's token.
pub async fn commit_draw(
    server: &TestServer,
    org: &Org,
    closes: DateTime<Utc>,
) -> (String, String) {
    let month = last_months_sharers(server, org, closes).await;
    let admin = person(server, org, "Draw Admin", Role::Admin).await;
    let path = format!("/v1/programme/draws/{month}");
    let setup = json!({
        "prizes": [{"name": "Tablet", "quantity": 1}, {"name": "Team outing", "quantity": 1}],
        "eligibility": {"min_verified_shares": 1},
    });
    call(server, &admin, reqwest::Method::PUT, &path, setup).await;
    call(
        server,
        &admin,
        reqwest::Method::POST,
        &format!("{path}/commitment"),
        json!({}),
    )
    .await;
    (month, admin)
}

/// The draw, made as soon as its round is out.
pub async fn draw_once_out(server: &TestServer, admin: &str, month: &str, closes: DateTime<Utc>) {
    let path = format!("/v1/programme/draws/{month}");
    // The server freezes the list at the close; the round comes out after the lead.
    let wait = (round_at(closes) + Duration::milliseconds(500) - Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait).await;
    call(
        server,
        admin,
        reqwest::Method::POST,
        &format!("{path}/result"),
        json!({}),
    )
    .await;
}

/// The operator's attack once the round is public: new entry ids for everyone, written in the
/// database with the list's hash, and the winners picked again on them (a record that verifies
/// on its own). Answers the new winners' entry ids.
pub async fn redraw_as_the_operator(server: &TestServer, month: &str) -> Vec<String> {
    let db = &server.state().db.write;
    let people: Vec<String> = sqlx::query_scalar(
        "SELECT person_id FROM draw_entries WHERE month = $1 ORDER BY person_id",
    )
    .bind(month)
    .fetch_all(db)
    .await
    .unwrap();
    let mut ids = Vec::new();
    for (k, person) in people.iter().enumerate() {
        let id = format!("{:032x}", 0xabcdef_u128 + k as u128);
        sqlx::query("UPDATE draw_entries SET entry_id = $1 WHERE person_id = $2 AND month = $3")
            .bind(&id)
            .bind(person)
            .bind(month)
            .execute(db)
            .await
            .unwrap();
        ids.push(id);
    }
    ids.sort();
    let (seed, randomness, prizes): (String, String, String) =
        sqlx::query_as("SELECT seed, beacon_randomness, prizes FROM draws WHERE month = $1")
            .bind(month)
            .fetch_one(db)
            .await
            .unwrap();
    let prizes: Vec<Prize> = serde_json::from_str(&prizes).unwrap();
    let picked = relay_draw::pick(
        &relay_draw::hex::decode_32(&seed).unwrap(),
        &relay_draw::hex::decode_32(&randomness).unwrap(),
        &ids,
        &relay_draw::Slot::from_prizes(&prizes),
    )
    .unwrap();
    let winners: Vec<DrawWinner> = picked
        .iter()
        .map(|(slot, entry_id)| DrawWinner {
            prize: slot.prize.clone(),
            entry_id: entry_id.clone(),
            name: "Sharer 0".into(),
        })
        .collect();
    sqlx::query("UPDATE draws SET list_hash = $1, winners = $2 WHERE month = $3")
        .bind(relay_draw::list_hash(&ids))
        .bind(serde_json::to_string(&winners).unwrap())
        .bind(month)
        .execute(db)
        .await
        .unwrap();
    picked.into_iter().map(|(_, e)| e).collect()
}

/// The organisation trusts attested shares (X, LinkedIn) from long ago on, as an admin may have
/// set it: written as setup.
pub async fn trust_attested(server: &TestServer, org: &Org) {
    let trusting = PointsRules {
        trust_attested: true,
        ..PointsRules::default()
    };
    sqlx::query(
        "INSERT INTO points_rules (org_id, from_month, rules, set_at) VALUES ($1, '2000-01', $2, 0) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&org.id)
    .bind(serde_json::to_string(&trusting).unwrap())
    .execute(&server.state().db.write)
    .await
    .unwrap();
}

/// Three people with a verified share last month (a story published before it; X shares, which
/// this organisation trusts, as it may: the draw, not the confirmation, is under test here);
/// returns the month.
pub async fn last_months_sharers(server: &TestServer, org: &Org, closes: DateTime<Utc>) -> String {
    let this_month = Utc
        .with_ymd_and_hms(closes.year(), closes.month(), 1, 0, 0, 0)
        .unwrap();
    let last_month = this_month - Duration::days(1);
    let month = last_month.format("%Y-%m").to_string();
    trust_attested(server, org).await;
    let item = server
        .publish(org, "Last month's story", "<p>Story</p>")
        .await;
    sqlx::query("UPDATE items SET published_at = $1 WHERE id = $2")
        .bind((last_month - Duration::days(2)).timestamp_millis())
        .bind(&item)
        .execute(&server.state().db.write)
        .await
        .unwrap();
    for i in 0..3 {
        let token = person(server, org, &format!("Sharer {i}"), Role::Employee).await;
        let share = json!({
            "share_id": format!("draw-{i}"),
            "item_id": item,
            "network": "x",
            "shared_at": last_month,
            "proof": "verified",
            "post_id": format!("17{i}"),
            "post_url": format!("https://x.com/sharer{i}/status/17{i}"),
        });
        call(server, &token, reqwest::Method::POST, "/v1/shares", share).await;
    }
    month
}
