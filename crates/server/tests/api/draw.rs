//! The prize draw over real HTTP: prizes and eligibility, the commitment before the close (which
//! binds them), the opt-out, the entry list frozen by the server's clock at the close and
//! published before the beacon round exists, the round read from a local copy of drand's API
//! that serves a real recorded quicknet round (no network here; the test build replays it on a
//! clock moved so that it comes a few seconds after this test's month closes), a forged round
//! refused, and the result verified as a device verifies it. Then the operator's attacks: a list
//! redrawn once the round is public, caught by a device that pinned the first one.

use chrono::{Datelike, Duration, TimeZone, Utc};
use relay_draw::pins::{Pins, Witness};
use relay_protocol::*;
use relay_server::db::Backend;
use relay_server::programme::draw::BeaconConfig;
use reqwest::{Method, StatusCode};

use crate::harness::*;
use crate::newsroom::*;

crate::both_backends!(
    a_draw_is_committed_frozen_drawn_and_verifies,
    an_operator_redrawing_the_list_is_caught
);

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

/// The lead between the close (the freeze) and the round in these tests.
const LEAD: i64 = 4;

/// A newsroom whose last month closes `secs` from now, the recorded round coming [`LEAD`] s
/// (and one period) after that; and the replayed chain devices check it on.
async fn closing_in(
    backend: Backend,
    secs: i64,
) -> (Newsroom, chrono::DateTime<Utc>, relay_draw::Chain) {
    let now = Utc::now();
    let this_month = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .unwrap();
    let closes = Utc.timestamp_opt(now.timestamp() + secs, 0).unwrap();
    // The first round after close + lead is the recorded one.
    let genesis = closes.timestamp() + LEAD - (ROUND as i64 - 2) * 3;
    let room = Newsroom::with(
        backend,
        Options {
            month_grace: closes - this_month,
            beacon: BeaconConfig::replaying(
                beacon_copy().await,
                genesis,
                std::time::Duration::from_secs(LEAD as u64),
            ),
            ..Options::default()
        },
    )
    .await;
    (room, closes, relay_draw::Chain::replayed(genesis))
}

async fn sleep_until(at: chrono::DateTime<Utc>) {
    tokio::time::sleep((at - Utc::now()).to_std().unwrap_or_default()).await;
}

async fn a_draw_is_committed_frozen_drawn_and_verifies(backend: Backend) {
    let (room, closes, chain) = closing_in(backend, 4).await;
    let this_month = Utc
        .with_ymd_and_hms(closes.year(), closes.month(), 1, 0, 0, 0)
        .unwrap();
    let last_month = this_month - Duration::days(1);
    let month = last_month.format("%Y-%m").to_string();
    let item = room.item("Old news").await;
    room.published_at(&item, last_month - Duration::days(2))
        .await;

    // Five people with verified shares last month (X, which this organisation trusts), one with
    // a declared share only.
    let mut people = Vec::new();
    for i in 0..5 {
        let person = room.employee(&format!("Sharer {i}"), "FR", "Sales").await;
        record(
            &person,
            &NewShareRecord {
                shared_at: last_month,
                ..verified(&item, Network::X, i)
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
    // A round that would be public before the list is frozen (or too soon after) is refused.
    let public_already = room
        .admin
        .send(
            Method::POST,
            &format!("{path}/commitment"),
            Some(&CommitRequest {
                beacon_round: Some(ROUND - 1),
            }),
        )
        .await;
    assert_eq!(public_already.status, StatusCode::BAD_REQUEST);
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
        "the first round after the close and the lead"
    );
    assert_eq!(commitment.algorithm, "relay-draw-v1");
    assert_eq!(commitment.prizes, setup.prizes, "the prizes are bound");
    assert_eq!(commitment.closes_at, closes);
    assert!(committed.result.is_none(), "the seed stays secret");
    assert_eq!(
        relay_draw::check(&committed, &chain),
        Ok(relay_draw::Stage::Committed)
    );
    let mut device = Pins::default()
        .observe(&committed, Utc::now())
        .expect("a device pins the commitment");
    let again = room
        .admin
        .send(
            Method::POST,
            &format!("{path}/commitment"),
            Some(&CommitRequest::default()),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // Committed: the prizes can no longer change.
    let richer = DrawSetup {
        prizes: vec![Prize {
            name: "Car".into(),
            quantity: 1,
        }],
        ..setup.clone()
    };
    assert_eq!(
        room.admin
            .send(Method::PUT, &path, Some(&richer))
            .await
            .status,
        StatusCode::CONFLICT
    );

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

    // At the close the server freezes the list by itself, before the round exists: a device
    // sees it then, and can say so.
    sleep_until(closes + Duration::milliseconds(2500)).await;
    let frozen: Draw = people[1].get(&path).await;
    let round_at = commitment.beacon_round_at;
    assert!(Utc::now() < round_at, "the round is not out yet");
    let entries = frozen.entries.clone().expect("frozen at the close");
    assert_eq!(entries.entries.len(), 4, "verified sharers who stayed in");
    assert!(entries.frozen_at >= closes && entries.frozen_at < round_at);
    assert_eq!(
        relay_draw::check(&frozen, &chain),
        Ok(relay_draw::Stage::Frozen)
    );
    device = device.observe(&frozen, Utc::now()).unwrap();
    assert_eq!(device.witness(&frozen, &chain), Witness::BeforeRound);
    let audit: Vec<AuditEntry> = room.admin.get("/v1/audit").await;
    assert!(audit.iter().any(|e| e.action == "draw.frozen"));
    // Closed: the entries are settled, nobody opts in or out any more.
    let settled = people[4]
        .send(
            Method::PUT,
            &format!("{path}/me"),
            Some(&DrawParticipation { opted_out: false }),
        )
        .await;
    assert_eq!(settled.status, StatusCode::CONFLICT);
    // The round is not out: no draw yet, pasted or fetched.
    let not_out = room
        .admin
        .send(
            Method::POST,
            &format!("{path}/result"),
            Some(&DrawRequest {
                beacon: Some(recorded("quicknet-657413.json")),
            }),
        )
        .await;
    assert_eq!(not_out.status, StatusCode::CONFLICT, "{not_out:?}");

    // Once the round is out, a forged round is refused...
    sleep_until(round_at + Duration::milliseconds(500)).await;
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
    assert!(untouched.result.is_none());

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

    // Every employee sees it and verifies it on their own, against what they pinned.
    let seen: Draw = people[1].get(&path).await;
    let winners = match relay_draw::check(&seen, &chain) {
        Ok(relay_draw::Stage::Drawn(w)) => w,
        other => panic!("{other:?}"),
    };
    assert_eq!(winners.len(), 3);
    device.observe(&seen, Utc::now()).expect("the list it saw");
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
    assert!(relay_draw::check(&tampered, &chain).is_err());

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
    for action in ["draw.setup", "draw.committed", "draw.frozen", "draw.drawn"] {
        assert!(audit.iter().any(|e| e.action == action), "{action}");
    }
}

/// The operator of the server (who holds the database) waits for the round, then draws new
/// entry ids until the person they favour wins, and publishes a record consistent in every way:
/// the list's hash, the winners, even the freeze's date. The record verifies on its own; a
/// device that saw the first list refuses it, and one that did not says it cannot vouch.
async fn an_operator_redrawing_the_list_is_caught(backend: Backend) {
    let (room, closes, chain) = closing_in(backend, 3).await;
    let last_month = Utc
        .with_ymd_and_hms(closes.year(), closes.month(), 1, 0, 0, 0)
        .unwrap()
        - Duration::days(1);
    let month = last_month.format("%Y-%m").to_string();
    let item = room.item("Old news").await;
    room.published_at(&item, last_month - Duration::days(2))
        .await;
    let mut people = Vec::new();
    for i in 0..6 {
        let person = room.employee(&format!("Sharer {i}"), "FR", "Sales").await;
        record(
            &person,
            &NewShareRecord {
                shared_at: last_month,
                ..verified(&item, Network::X, i)
            },
        )
        .await;
        people.push(person);
    }
    let path = format!("/v1/programme/draws/{month}");
    let setup = DrawSetup {
        prizes: vec![Prize {
            name: "Phone".into(),
            quantity: 1,
        }],
        eligibility: Eligibility {
            top_points: None,
            min_verified_shares: Some(1),
        },
    };
    room.admin
        .send_ok::<_, Draw>(Method::PUT, &path, Some(&setup))
        .await;
    room.admin
        .send_ok::<_, Draw>(
            Method::POST,
            &format!("{path}/commitment"),
            Some(&CommitRequest::default()),
        )
        .await;
    // A watchful device pins the list as soon as it is frozen.
    sleep_until(closes + Duration::milliseconds(2000)).await;
    let first: Draw = people[0].get(&path).await;
    assert!(first.entries.is_some());
    let watchful = Pins::default().observe(&first, Utc::now()).unwrap();
    let round_at = first.commitment.as_ref().unwrap().beacon_round_at;
    sleep_until(round_at + Duration::milliseconds(500)).await;

    // The operator: the round is public; new ids until Sharer 5 wins, written straight into the
    // database, with the draw made on them.
    let favoured_person: String = sqlx::query_scalar(
        "SELECT person_id FROM draw_entries WHERE month = $1 ORDER BY entry_id LIMIT 1",
    )
    .bind(&month)
    .fetch_one(&room.server.db().read)
    .await
    .unwrap();
    let randomness =
        relay_draw::verify_round(ROUND, &recorded("quicknet-657413.json").signature).unwrap();
    let seed: String = sqlx::query_scalar("SELECT seed FROM draws WHERE month = $1")
        .bind(&month)
        .fetch_one(&room.server.db().read)
        .await
        .unwrap();
    let seed = relay_draw::hex::decode_32(&seed).unwrap();
    let people_ids: Vec<String> =
        sqlx::query_scalar("SELECT person_id FROM draw_entries WHERE month = $1")
            .bind(&month)
            .fetch_all(&room.server.db().read)
            .await
            .unwrap();
    let mut tries = 0u32;
    let (ids, favoured_id) = loop {
        tries += 1;
        let ids: Vec<String> = (0..people_ids.len())
            .map(|k| {
                format!(
                    "{:016x}{:08x}{:08x}",
                    0xfeed_u64 + u64::from(tries),
                    k,
                    tries
                )
            })
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        let picked = relay_draw::pick(
            &seed,
            &randomness,
            &sorted,
            &relay_draw::Slot::from_prizes(&setup.prizes),
        )
        .unwrap();
        let favoured_index = people_ids
            .iter()
            .position(|p| *p == favoured_person)
            .unwrap();
        if picked[0].1 == ids[favoured_index] {
            let favoured = ids[favoured_index].clone();
            break (ids, favoured);
        }
        assert!(tries < 1000);
    };
    let db = &room.server.db().write;
    for (person, id) in people_ids.iter().zip(&ids) {
        sqlx::query("UPDATE draw_entries SET entry_id = $1 WHERE person_id = $2 AND month = $3")
            .bind(id)
            .bind(person)
            .bind(&month)
            .execute(db)
            .await
            .unwrap();
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sqlx::query("UPDATE draws SET list_hash = $1 WHERE month = $2")
        .bind(relay_draw::list_hash(&sorted))
        .bind(&month)
        .execute(db)
        .await
        .unwrap();
    let drawn: Draw = room
        .admin
        .send_ok(
            Method::POST,
            &format!("{path}/result"),
            Some(&DrawRequest::default()),
        )
        .await;
    assert_eq!(
        drawn.result.as_ref().unwrap().winners[0].entry_id,
        favoured_id
    );
    assert!(
        matches!(
            relay_draw::check(&drawn, &chain),
            Ok(relay_draw::Stage::Drawn(_))
        ),
        "the operator's record is consistent on its own"
    );
    // The watchful device refuses it, loudly; one that first looks now cannot vouch for it.
    assert!(matches!(
        watchful.observe(&drawn, Utc::now()),
        Err(relay_draw::DrawError::ListChanged { .. })
    ));
    let late = Pins::default().observe(&drawn, Utc::now()).unwrap();
    assert_eq!(late.witness(&drawn, &chain), Witness::AfterRound);
}
