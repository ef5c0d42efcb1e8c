//! Tracked links over real HTTP: the redirect with UTM parameters, visitors counted once a day
//! by address (rotating user agents changes nothing), the sharer's own clicks not counted,
//! preview fetchers and HEAD requests not counted, click points within the cap, and nothing
//! identifying a visitor stored.

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::harness::*;
use crate::newsroom::*;

crate::both_backends!(
    a_tracked_link_redirects_and_counts_people_once_a_day,
    links_belong_to_their_person_item_and_network,
    behind_a_trusted_proxy_each_visitor_counts_and_a_forged_header_does_not
);

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

async fn link(client: &Client, item: &str, network: Network) -> (StatusCode, TrackedLink) {
    let answer = client
        .send(
            Method::POST,
            "/v1/links",
            Some(&NewLink {
                item_id: item.into(),
                network,
            }),
        )
        .await;
    let status = answer.status;
    assert!(status.is_success(), "{answer:?}");
    (status, serde_json::from_value(answer.body).unwrap())
}

/// Follows a link as a browser (or a bot) would from 127.0.0.`host`, without following the
/// redirect.
async fn follow(
    base: &str,
    code: &str,
    method: Method,
    agent: Option<&str>,
    host: u8,
) -> reqwest::Response {
    let mut request = browser(host).request(method, format!("{base}/l/{code}"));
    if let Some(agent) = agent {
        request = request.header("user-agent", agent);
    }
    request.send().await.unwrap()
}

async fn a_tracked_link_redirects_and_counts_people_once_a_day(backend: Backend) {
    let room = Newsroom::new(backend).await;
    // This month a click is worth 2 points, 20 at most a share (set as an admin would have
    // before the month began).
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let rules = PointsRules {
        click: 2,
        click_cap: 20,
        trust_attested: true,
        ..PointsRules::default()
    };
    sqlx::query(
        "INSERT INTO points_rules (org_id, from_month, rules, set_at) VALUES ($1, $2, $3, 0)",
    )
    .bind(&room.org.id)
    .bind(&month)
    .bind(serde_json::to_string(&rules).unwrap())
    .execute(&room.server.db().write)
    .await
    .unwrap();
    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let item = room.item("Launch day").await;
    let (status, tracked) = link(&eve, &item, Network::X).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(tracked.url.ends_with(&format!("/l/{}", tracked.code)));
    assert!(tracked.code.len() >= 22, "unguessable: {}", tracked.code);
    let (again, same) = link(&eve, &item, Network::X).await;
    assert_eq!((again, &same.code), (StatusCode::OK, &tracked.code));

    // Clicks before the share is recorded count for it once it is.
    let base = &room.server.base;
    let answer = follow(base, &tracked.code, Method::GET, Some(FIREFOX), 2).await;
    assert_eq!(answer.status(), StatusCode::FOUND);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        "https://news.example.com/launch-day?utm_source=relay&utm_medium=x&utm_campaign=news"
    );
    // The same address again the same day, whatever browser it says it is: not counted again.
    follow(base, &tracked.code, Method::GET, Some(FIREFOX), 2).await;
    follow(base, &tracked.code, Method::GET, Some(SAFARI), 2).await;
    // Eve herself, from the address her device uses: not a visitor of her own link.
    let own = follow(base, &tracked.code, Method::GET, Some(SAFARI), 1).await;
    assert_eq!(own.status(), StatusCode::FOUND);
    // Preview fetchers and HEAD requests get the redirect, uncounted.
    for (n, bot) in [
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    ]
    .into_iter()
    .enumerate()
    {
        let answer = follow(base, &tracked.code, Method::GET, Some(bot), 3 + n as u8).await;
        assert_eq!(answer.status(), StatusCode::FOUND, "{bot}");
    }
    let head = follow(base, &tracked.code, Method::HEAD, Some(SAFARI), 9).await;
    assert_eq!(head.status(), StatusCode::FOUND);
    assert_eq!(link(&eve, &item, Network::X).await.1.clicks, 1);

    let shared = record(
        &eve,
        &NewShareRecord {
            link_code: Some(tracked.code.clone()),
            ..verified(&item, Network::X, 1)
        },
    )
    .await;
    assert_eq!(shared.points, 10 + 2, "the click before the record counts");
    // Another visitor after the record.
    follow(base, &tracked.code, Method::GET, Some(SAFARI), 10).await;
    let mine: MyProgramme = eve.get("/v1/programme/me").await;
    assert_eq!((mine.points, mine.clicks), (14, 2));
    assert_eq!(mine.shares[0].clicks, 2);

    // Nothing that identifies a visitor is stored: no address, no user agent.
    let stored: Vec<(String, String, String)> =
        sqlx::query_as("SELECT code, day, visitor FROM link_visitors")
            .fetch_all(&room.server.db().read)
            .await
            .unwrap();
    assert_eq!(stored.len(), 2);
    let addresses: Vec<(String,)> = sqlx::query_as("SELECT address FROM sharer_addresses")
        .fetch_all(&room.server.db().read)
        .await
        .unwrap();
    assert!(!addresses.is_empty(), "Eve's device's address, hidden");
    for value in stored
        .iter()
        .map(|s| &s.2)
        .chain(addresses.iter().map(|a| &a.0))
    {
        for secret in ["127.0.0", "Mozilla", "Firefox", "Safari"] {
            assert!(!value.contains(secret), "{value}");
        }
    }
    let dump: Vec<(String,)> = sqlx::query_as("SELECT target FROM links")
        .fetch_all(&room.server.db().read)
        .await
        .unwrap();
    assert!(dump.iter().all(|(t,)| !t.contains("127.0.0.1")));

    // One address rotating its user agent is still one visitor.
    for n in 0..20 {
        follow(
            base,
            &tracked.code,
            Method::GET,
            Some(&format!("{FIREFOX} rotated/{n}")),
            11,
        )
        .await;
    }
    assert_eq!(link(&eve, &item, Network::X).await.1.clicks, 3);
    // Click points stop at the cap (20 points a share, 10 clicks at 2): 25 more visitors.
    for n in 0..25u8 {
        follow(base, &tracked.code, Method::GET, Some(FIREFOX), 20 + n).await;
    }
    let mine: MyProgramme = eve.get("/v1/programme/me").await;
    assert_eq!(mine.points, 10 + 20, "the cap counts points, not clicks");
    assert_eq!(mine.clicks, 10);
    assert_eq!(link(&eve, &item, Network::X).await.1.clicks, 28);
    // An unknown code is a problem, not a redirect; so is anything the direct path (serve.rs)
    // leaves to the router: other methods, codes spelt otherwise, oversized headers.
    let unknown = follow(base, "nope", Method::GET, Some(FIREFOX), 60).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_problem(unknown).await;
    let posted = follow(base, &tracked.code, Method::POST, Some(FIREFOX), 61).await;
    assert_eq!(posted.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_problem(posted).await;
    let encoded = follow(base, &format!("{}%2E", tracked.code), Method::GET, None, 62).await;
    assert_eq!(encoded.status(), StatusCode::NOT_FOUND);
    let huge = format!("{FIREFOX} {}", "x".repeat(40 * 1024));
    let oversized = follow(base, &tracked.code, Method::GET, Some(&huge), 63).await;
    assert_eq!(
        oversized.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    assert_problem(oversized).await;
    assert_eq!(
        link(&eve, &item, Network::X).await.1.clicks,
        28,
        "none of those counted"
    );
}

async fn assert_problem(answer: reqwest::Response) {
    let kind = answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(kind, "application/problem+json");
    let problem: serde_json::Value = answer.json().await.unwrap();
    assert!(problem["title"].is_string(), "{problem}");
}

async fn links_belong_to_their_person_item_and_network(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let sam = room.employee("Sam Sharer", "FR", "Sales").await;
    let item = room.item("Launch day").await;
    let other = room.item("Another").await;
    let (_, eves) = link(&eve, &item, Network::Bluesky).await;
    let (_, sams) = link(&sam, &item, Network::Bluesky).await;
    let (_, on_x) = link(&eve, &item, Network::X).await;
    assert_ne!(eves.code, sams.code);
    assert_ne!(eves.code, on_x.code);
    assert!(on_x.target.contains("utm_medium=x"));
    // Sam's link, or Eve's for another item or network, cannot carry Eve's share.
    for (code, item) in [
        (&sams.code, &item),
        (&on_x.code, &item),
        (&eves.code, &other),
    ] {
        let answer = eve
            .send(
                Method::POST,
                "/v1/shares",
                Some(&NewShareRecord {
                    link_code: Some(code.clone()),
                    ..verified(item, Network::Bluesky, 1)
                }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
    }
    // No link for an item that was never offered.
    let draft = room
        .admin
        .create_content(&article(&room.news, "Draft"))
        .await
        .item
        .id;
    let answer = eve
        .send(
            Method::POST,
            "/v1/links",
            Some(&NewLink {
                item_id: draft,
                network: Network::X,
            }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let anonymous = room
        .server
        .anonymous()
        .send(
            Method::POST,
            "/v1/links",
            Some(&NewLink {
                item_id: item,
                network: Network::X,
            }),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

/// Behind a reverse proxy every request comes from the proxy: the visitors it names count each
/// once, and a visitor who writes `X-Forwarded-For` themselves, straight to the server, is
/// counted by their own address (the header is believed from the trusted proxy only).
async fn behind_a_trusted_proxy_each_visitor_counts_and_a_forged_header_does_not(backend: Backend) {
    let room = Newsroom::with(
        backend,
        Options {
            trusted_proxies: relay_server::proxies::TrustedProxies::parse("127.0.0.9").unwrap(),
            ..Options::default()
        },
    )
    .await;
    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let item = room.item("Story").await;
    let (_, tracked) = link(&eve, &item, Network::Linkedin).await;
    let follow_as = |host: u8, forwarded: &'static str| {
        let url = format!("{}/l/{}", room.server.base, tracked.code);
        async move {
            let answer = browser(host)
                .get(url)
                .header("user-agent", FIREFOX)
                .header("x-forwarded-for", forwarded)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::FOUND);
        }
    };
    // Through the proxy: two people, one of them twice.
    follow_as(9, "203.0.113.7").await;
    follow_as(9, "198.51.100.2").await;
    follow_as(9, "203.0.113.7").await;
    // Straight to the server, claiming to be many: one visitor.
    follow_as(10, "192.0.2.1").await;
    follow_as(10, "192.0.2.2").await;
    let clicks: i64 = sqlx::query_scalar("SELECT clicks FROM links WHERE code = $1")
        .bind(&tracked.code)
        .fetch_one(&room.server.db().read)
        .await
        .unwrap();
    assert_eq!(clicks, 3);
}
