//! The prize draw over real HTTP: prizes and eligibility, the commitment before the close, the
//! opt-out, the frozen entry list, the beacon round read from a local copy of drand's API that
//! serves a real recorded quicknet round (no network here; its genesis is moved so that round
//! comes right after this test's month closes), a forged round refused, and the result verified
//! as a device verifies it.

use chrono::{Datelike, Duration, TimeZone, Utc};
use relay_protocol::*;
use relay_server::db::Backend;
use relay_server::programme::draw::BeaconConfig;
use reqwest::{Method, StatusCode};

use crate::harness::*;
use crate::newsroom::*;

crate::both_backends!(a_draw_is_committed_frozen_drawn_and_verifies);

const ROUND: u64 = 657413;

fn recorded(file: &str) -> BeaconRound {
    let path = format!(
        "{}/../draw/tests/fixtures/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A local copy of drand's `/public/{round}` for the one recorded round.
async fn beacon_copy() -> String {
    let round = recorded("quicknet-657413.json");
    let app = axum::Router::new().route(
        &format!("/{}/public/{ROUND}", relay_draw::QUICKNET.hash),
        axum::routing::get(move || {
            let round = round.clone();
            async move { axum::Json(round) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn a_draw_is_committed_frozen_drawn_and_verifies(backend: Backend) {
    // Last month closes 3 s from now; the recorded round is published 3 s after that.
    let now = Utc::now();
    let this_month = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .unwrap();
    let closes = now + Duration::seconds(3);
    let genesis = closes.timestamp() + 3 - (ROUND as i64 - 1) * 3;
    let room = Newsroom::with(
        backend,
        Options {
            month_grace: closes - this_month,
            beacon: BeaconConfig {
                url: beacon_copy().await,
                genesis_unix: genesis,
            },
            ..Options::default()
        },
    )
    .await;
    let last_month = this_month - Duration::days(1);
    let month = last_month.format("%Y-%m").to_string();
    let item = room.item("Old news").await;
    room.published_at(&item, last_month - Duration::days(2))
        .await;

    // Five people with verified shares last month, one with a declared share only.
    let mut people = Vec::new();
    for i in 0..5 {
        let person = room.employee(&format!("Sharer {i}"), "FR", "Sales").await;
        record(
            &person,
            &NewShareRecord {
                shared_at: last_month,
                ..verified(&item, Network::Bluesky, i)
            },
        )
        .await;
        people.push(person);
    }
    let declarer = room.employee("Declarer", "FR", "Sales").await;
    record(
        &declarer,
        &NewShareRecord {
            shared_at: last_month,
            ..declared(&item, Network::Facebook, 9)
        },
    )
    .await;
    let path = format!("/v1/programme/draws/{month}");

    // Prizes and eligibility (admins only), then the commitment before the close.
    let setup = DrawSetup {
        prizes: vec![
            Prize {
                name: "Phone".into(),
                quantity: 1,
            },
            Prize {
                name: "Team outing".into(),
                quantity: 2,
            },
        ],
        eligibility: Eligibility {
            top_points: None,
            min_verified_shares: Some(1),
        },
    };
    let refused = people[0].send(Method::PUT, &path, Some(&setup)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bad = DrawSetup {
        eligibility: Eligibility {
            top_points: Some(5),
            min_verified_shares: Some(1),
        },
        ..setup.clone()
    };
    assert_eq!(
        room.admin.send(Method::PUT, &path, Some(&bad)).await.status,
        StatusCode::BAD_REQUEST
    );
    room.admin
        .send_ok::<_, Draw>(Method::PUT, &path, Some(&setup))
        .await;
    let too_early = room
        .admin
        .send(
            Method::POST,
            &format!("{path}/result"),
            Some(&DrawRequest::default()),
        )
        .await;
    assert_eq!(too_early.status, StatusCode::CONFLICT, "not committed yet");
    let committed: Draw = room
        .admin
        .send_ok(
            Method::POST,
            &format!("{path}/commitment"),
            Some(&CommitRequest::default()),
        )
        .await;
    let commitment = committed.commitment.clone().unwrap();
    assert_eq!(
        commitment.beacon_round, ROUND,
        "the first round after the close"
    );
    assert_eq!(commitment.algorithm, "relay-draw-v1");
    assert!(committed.result.is_none(), "the seed stays secret");
    let again = room
        .admin
        .send(
            Method::POST,
            &format!("{path}/commitment"),
            Some(&CommitRequest::default()),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // One sharer opts out; the draw cannot be made before the month closes.
    let out: Draw = people[4]
        .send_ok(
            Method::PUT,
            &format!("{path}/me"),
            Some(&DrawParticipation { opted_out: true }),
        )
        .await;
    assert!(out.opted_out);
    let early = room
        .admin
        .send(
            Method::POST,
            &format!("{path}/result"),
            Some(&DrawRequest::default()),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{early:?}");

    // After the close (and once the round is out), a forged round is refused...
    let wait = (closes + Duration::seconds(4) - Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait).await;
    // Closed: the entries are settled, nobody opts in or out any more.
    let settled = people[4]
        .send(
            Method::PUT,
            &format!("{path}/me"),
            Some(&DrawParticipation { opted_out: false }),
        )
        .await;
    assert_eq!(settled.status, StatusCode::CONFLICT);
    let forged = BeaconRound {
        round: ROUND,
        signature: recorded("quicknet-1000.json").signature,
        randomness: None,
    };
    let answer = room
        .admin
        .send(
            Method::POST,
            &format!("{path}/result"),
            Some(&DrawRequest {
                beacon: Some(forged),
            }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
    let untouched: Draw = people[0].get(&path).await;
    assert!(untouched.result.is_none() && untouched.entries.is_none());

    // ... and the real one, read from the beacon, makes the draw.
    let drawn: Draw = room
        .admin
        .send_ok(
            Method::POST,
            &format!("{path}/result"),
            Some(&DrawRequest::default()),
        )
        .await;
    let result = drawn.result.clone().unwrap();
    assert_eq!(result.winners.len(), 3);
    assert_eq!(
        drawn.entries.as_ref().unwrap().entries.len(),
        4,
        "verified sharers who stayed in"
    );

    // Every employee sees it and verifies it on their own.
    let seen: Draw = people[1].get(&path).await;
    let winners = relay_draw::verify(&seen).expect("the draw verifies");
    assert_eq!(winners.len(), 3);
    let mine = seen.my_entry_id.clone().expect("an entrant knows their id");
    assert!(seen.entries.as_ref().unwrap().entries.contains(&mine));
    for w in &result.winners {
        assert!(w.name.starts_with("Sharer "), "{w:?}");
    }
    let opted: Draw = people[4].get(&path).await;
    assert!(opted.opted_out && opted.my_entry_id.is_none());
    let declared_only: Draw = declarer.get(&path).await;
    assert!(
        declared_only.my_entry_id.is_none(),
        "declared shares do not enter"
    );
    // Tampering shows: another entry list does not verify.
    let mut tampered = seen.clone();
    tampered.entries.as_mut().unwrap().entries[0] = "0".repeat(32);
    assert!(relay_draw::verify(&tampered).is_err());

    // Done once: no second draw, no new prizes, no opting out after the freeze.
    let twice = room
        .admin
        .send(
            Method::POST,
            &format!("{path}/result"),
            Some(&DrawRequest::default()),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(
        room.admin
            .send(Method::PUT, &path, Some(&setup))
            .await
            .status,
        StatusCode::CONFLICT
    );
    let late = people[0]
        .send(
            Method::PUT,
            &format!("{path}/me"),
            Some(&DrawParticipation { opted_out: true }),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    let audit: Vec<AuditEntry> = room.admin.get("/v1/audit").await;
    for action in ["draw.setup", "draw.committed", "draw.drawn"] {
        assert!(audit.iter().any(|e| e.action == action), "{action}");
    }
}
