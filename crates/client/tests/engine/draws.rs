//! A month's prize draw made on the test server as an organisation makes it: last month closes a
//! few seconds after the server starts, its verified sharers enter, an admin sets the prizes and
//! commits, and the draw reads its beacon round from a local copy of drand's API serving a real
//! recorded quicknet round (no network here: the server's beacon clock is moved so that round is
//! the first one after the close). Shared with the app's end-to-end tests.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use relay_protocol::*;
use relay_server::programme::draw::BeaconConfig;
use serde_json::json;

use crate::peers::{serve, TestServer};

/// The recorded round (League of Entropy quicknet), as drand's API serves it.
pub const ROUND: u64 = 657413;
const RECORDED: &str = include_str!("../../../draw/tests/fixtures/quicknet-657413.json");

/// A server whose last month closes 4 s from now, the recorded round coming 3 s after that.
pub async fn server_for_a_draw() -> (TestServer, DateTime<Utc>) {
    server_closing_in(4).await
}

/// A server whose last month closes `secs` seconds from now, the recorded round 3 s after that.
pub async fn server_closing_in(secs: i64) -> (TestServer, DateTime<Utc>) {
    let now = Utc::now();
    let this_month = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .unwrap();
    let closes = now + Duration::seconds(secs);
    let round: serde_json::Value = serde_json::from_str(RECORDED).unwrap();
    let app = axum::Router::new().route(
        &format!("/{}/public/{ROUND}", relay_draw::QUICKNET.hash),
        axum::routing::get(move || {
            let round = round.clone();
            async move { axum::Json(round) }
        }),
    );
    let beacon = BeaconConfig {
        url: serve(app).await,
        genesis_unix: closes.timestamp() + 3 - (ROUND as i64 - 1) * 3,
    };
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
pub async fn make_draw(server: &TestServer, org: &Org, closes: DateTime<Utc>) -> String {
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
    let wait = (closes + Duration::seconds(4) - Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait).await;
    call(
        server,
        &admin,
        reqwest::Method::POST,
        &format!("{path}/result"),
        json!({}),
    )
    .await;
    month
}

/// Three people with a verified share last month (a story published before it); returns the
/// month.
pub async fn last_months_sharers(server: &TestServer, org: &Org, closes: DateTime<Utc>) -> String {
    let this_month = Utc
        .with_ymd_and_hms(closes.year(), closes.month(), 1, 0, 0, 0)
        .unwrap();
    let last_month = this_month - Duration::days(1);
    let month = last_month.format("%Y-%m").to_string();
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
            "network": "bluesky",
            "shared_at": last_month,
            "proof": "verified",
            "post_url": format!("https://bsky.app/profile/sharer{i}.test/post/{i}"),
        });
        call(server, &token, reqwest::Method::POST, "/v1/shares", share).await;
    }
    month
}
