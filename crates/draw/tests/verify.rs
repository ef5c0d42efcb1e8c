//! The draw verified with real recorded quicknet rounds, and every tampering refused.

use chrono::{Datelike, Duration, TimeZone, Utc};
use relay_draw::pins::{Pins, Witness};
use relay_draw::{
    check, commitment, list_hash, pick, seed_hash, verify, verify_round, DrawError, Slot, Stage,
    QUICKNET,
};
use relay_protocol::*;

fn round(file: &str) -> BeaconRound {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn entries(n: usize) -> Vec<String> {
    let mut ids: Vec<String> = (0..n)
        .map(|i| format!("{:032x}", (i as u128 + 1) * 0x9e37_79b9_7f4a_7c15_u128))
        .collect();
    ids.sort();
    ids
}

/// A draw made as the server makes it, on `beacon`, with times that hold: committed before the
/// month closes, frozen at the close, the round a day later, drawn once it is out.
fn draw(beacon: BeaconRound, ids: Vec<String>) -> Draw {
    let seed = [7u8; 32];
    let prizes = vec![
        Prize {
            name: "Phone".into(),
            quantity: 1,
        },
        Prize {
            name: "Team outing".into(),
            quantity: 2,
        },
    ];
    let randomness = verify_round(beacon.round, &beacon.signature).unwrap();
    let winners = pick(&seed, &randomness, &ids, &Slot::from_prizes(&prizes))
        .unwrap()
        .into_iter()
        .map(|(slot, entry_id)| DrawWinner {
            prize: slot.prize,
            name: format!("winner {entry_id}"),
            entry_id,
        })
        .collect();
    let round_at = Utc
        .timestamp_opt(QUICKNET.round_time(beacon.round), 0)
        .unwrap();
    let closes_at = round_at - Duration::hours(24) - Duration::seconds(3);
    // The month before the one the close falls in.
    let first = Utc
        .with_ymd_and_hms(closes_at.year(), closes_at.month(), 1, 0, 0, 0)
        .unwrap();
    let month = (first - Duration::days(1)).format("%Y-%m").to_string();
    let eligibility = Eligibility::default();
    let seed_hash = seed_hash(&seed);
    let digest = commitment::digest(&commitment::Bound {
        month: &month,
        seed_hash: &seed_hash,
        chain: QUICKNET.hash,
        round: beacon.round,
        closes_at: closes_at.timestamp(),
        prizes: &prizes,
        eligibility,
    });
    Draw {
        month,
        setup: Some(DrawSetup {
            prizes: prizes.clone(),
            eligibility,
        }),
        commitment: Some(DrawCommitment {
            algorithm: relay_draw::ALGORITHM.into(),
            seed_hash,
            beacon_chain: QUICKNET.hash.into(),
            beacon_round: beacon.round,
            beacon_round_at: round_at,
            closes_at,
            prizes,
            eligibility,
            digest,
            committed_at: closes_at - Duration::days(4),
        }),
        entries: Some(DrawEntries {
            list_hash: list_hash(&ids),
            entries: ids,
            frozen_at: closes_at + Duration::seconds(2),
        }),
        result: Some(DrawResult {
            seed: "07".repeat(32),
            beacon,
            winners,
            drawn_at: round_at + Duration::minutes(5),
        }),
        my_entry_id: None,
        opted_out: false,
    }
}

/// The commitment's digest made again from what it binds (as an operator rewriting it would).
fn redigest(d: &mut Draw) {
    let c = d.commitment.as_mut().unwrap();
    c.digest = commitment::digest(&commitment::Bound {
        month: &d.month,
        seed_hash: &c.seed_hash,
        chain: &c.beacon_chain,
        round: c.beacon_round,
        closes_at: c.closes_at.timestamp(),
        prizes: &c.prizes,
        eligibility: c.eligibility,
    });
}

#[test]
fn recorded_rounds_verify_and_give_their_randomness() {
    for file in ["quicknet-1000.json", "quicknet-657413.json"] {
        let beacon = round(file);
        let randomness = verify_round(beacon.round, &beacon.signature).unwrap();
        let hex: String = randomness.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(Some(hex), beacon.randomness, "{file}");
    }
    // A round's signature does not sign another round.
    let beacon = round("quicknet-1000.json");
    assert!(verify_round(1001, &beacon.signature).is_err());
    assert!(verify_round(1000, "zz").is_err());
}

#[test]
fn a_fair_draw_verifies() {
    let drawn = draw(round("quicknet-657413.json"), entries(40));
    let winners = verify(&drawn).unwrap();
    assert_eq!(winners.len(), 3);
    let mut unique = winners.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "without replacement");
    // Fewer entries than prizes: everyone wins once.
    let small = draw(round("quicknet-1000.json"), entries(2));
    assert_eq!(verify(&small).unwrap().len(), 2);
}

#[test]
fn tampering_with_anything_fails() {
    let fair = draw(round("quicknet-657413.json"), entries(40));

    // One entry changed (the list hash no longer matches).
    let mut t = fair.clone();
    t.entries.as_mut().unwrap().entries[5] = format!("{:032x}", 1u128);
    t.entries.as_mut().unwrap().entries.sort();
    assert_eq!(verify(&t), Err(DrawError::ListMismatch));
    // ... even with the hash recomputed: the winners change.
    let ids = t.entries.as_ref().unwrap().entries.clone();
    t.entries.as_mut().unwrap().list_hash = list_hash(&ids);
    assert_eq!(verify(&t), Err(DrawError::WinnersMismatch));

    // Another seed.
    let mut t = fair.clone();
    t.result.as_mut().unwrap().seed = "08".repeat(32);
    assert_eq!(verify(&t), Err(DrawError::SeedMismatch));
    // Another seed with its own commitment: the digest no longer matches...
    t.commitment.as_mut().unwrap().seed_hash = seed_hash(&[8u8; 32]);
    assert_eq!(verify(&t), Err(DrawError::DigestMismatch));
    // ... and with the digest remade too, the winners change.
    redigest(&mut t);
    assert_eq!(verify(&t), Err(DrawError::WinnersMismatch));

    // Another round than committed.
    let mut t = fair.clone();
    t.result.as_mut().unwrap().beacon = round("quicknet-1000.json");
    assert!(matches!(verify(&t), Err(DrawError::RoundMismatch { .. })));
    // ... with the commitment's round changed too: its time and digest no longer hold.
    t.commitment.as_mut().unwrap().beacon_round = 1000;
    assert!(matches!(verify(&t), Err(DrawError::Times(_))));

    // A forged signature.
    let mut t = fair.clone();
    let beacon = &mut t.result.as_mut().unwrap().beacon;
    beacon.signature = round("quicknet-1000.json").signature;
    assert!(matches!(verify(&t), Err(DrawError::Beacon(_))));

    // Published randomness that is not the round's.
    let mut t = fair.clone();
    t.result.as_mut().unwrap().beacon.randomness = Some("00".repeat(32));
    assert_eq!(verify(&t), Err(DrawError::RandomnessMismatch));

    // A winner swapped for someone else.
    let mut t = fair.clone();
    let loser = fair
        .entries
        .as_ref()
        .unwrap()
        .entries
        .iter()
        .find(|e| {
            !fair
                .result
                .as_ref()
                .unwrap()
                .winners
                .iter()
                .any(|w| &&w.entry_id == e)
        })
        .unwrap()
        .clone();
    t.result.as_mut().unwrap().winners[0].entry_id = loser;
    assert_eq!(verify(&t), Err(DrawError::WinnersMismatch));

    // An unsorted list.
    let mut t = fair.clone();
    t.entries.as_mut().unwrap().entries.swap(0, 1);
    assert_eq!(verify(&t), Err(DrawError::ListUnsorted));

    // Not drawn yet.
    let mut t = fair;
    t.result = None;
    assert_eq!(verify(&t), Err(DrawError::NotDrawn));
    assert_eq!(check(&t, &QUICKNET), Ok(Stage::Frozen));
    t.entries = None;
    assert_eq!(check(&t, &QUICKNET), Ok(Stage::Committed));
}

#[test]
fn times_that_do_not_hold_are_refused() {
    let fair = draw(round("quicknet-657413.json"), entries(20));
    let round_at = fair.commitment.as_ref().unwrap().beacon_round_at;

    // A list frozen once the round was out (an operator re-freezing, dates and all).
    let mut t = fair.clone();
    t.entries.as_mut().unwrap().frozen_at = round_at;
    assert!(
        matches!(verify(&t), Err(DrawError::Times(_))),
        "{:?}",
        verify(&t)
    );
    // A result dated before its round existed.
    let mut t = fair.clone();
    t.result.as_mut().unwrap().drawn_at = round_at - Duration::seconds(1);
    assert!(matches!(verify(&t), Err(DrawError::Times(_))));
    // A round time that is not quicknet's for that round (the clock moved).
    let mut t = fair.clone();
    t.commitment.as_mut().unwrap().beacon_round_at = round_at + Duration::hours(1);
    assert!(matches!(verify(&t), Err(DrawError::Times(_))));
    // A commitment made after the close, or a close before the month's end.
    let mut t = fair.clone();
    let closes = t.commitment.as_ref().unwrap().closes_at;
    t.commitment.as_mut().unwrap().committed_at = closes;
    assert!(matches!(verify(&t), Err(DrawError::Times(_))));
    let mut t = fair.clone();
    t.month = "2023-09".into();
    redigest(&mut t);
    assert!(matches!(verify(&t), Err(DrawError::Times(_))));
    // A round that is not after the close.
    let mut t = fair.clone();
    t.commitment.as_mut().unwrap().closes_at = round_at;
    t.entries.as_mut().unwrap().frozen_at = round_at;
    redigest(&mut t);
    assert!(matches!(verify(&t), Err(DrawError::Times(_))));
}

#[test]
fn prizes_chain_and_entries_are_bound() {
    let fair = draw(round("quicknet-657413.json"), entries(20));
    // Prizes changed after the commitment: the setup no longer matches...
    let mut t = fair.clone();
    t.setup.as_mut().unwrap().prizes[0].quantity = 2;
    assert_eq!(verify(&t), Err(DrawError::SetupChanged));
    // ... and changing the commitment's own prizes breaks its digest.
    let mut t = fair.clone();
    t.commitment.as_mut().unwrap().prizes[0].name = "Car".into();
    assert_eq!(verify(&t), Err(DrawError::DigestMismatch));
    let mut t = fair.clone();
    t.commitment.as_mut().unwrap().eligibility.top_points = Some(3);
    assert_eq!(verify(&t), Err(DrawError::DigestMismatch));
    // Another chain.
    let mut t = fair.clone();
    t.commitment.as_mut().unwrap().beacon_chain = "00".repeat(32);
    assert!(matches!(verify(&t), Err(DrawError::WrongChain(_))));
    // Entry ids in another spelling.
    let mut t = fair.clone();
    let ids: Vec<String> = t
        .entries
        .as_ref()
        .unwrap()
        .entries
        .iter()
        .map(|e| e.to_uppercase())
        .collect();
    t.entries.as_mut().unwrap().list_hash = list_hash(&ids);
    t.entries.as_mut().unwrap().entries = ids;
    assert_eq!(verify(&t), Err(DrawError::BadEntryId));
    // The person's own entry missing from the list.
    let mut t = fair.clone();
    t.my_entry_id = Some("f".repeat(32));
    assert!(matches!(verify(&t), Err(DrawError::MyEntryMissing(_))));
    let mut t = fair.clone();
    t.my_entry_id = Some(t.entries.as_ref().unwrap().entries[3].clone());
    assert!(verify(&t).is_ok());
}

/// The operator's move the record alone cannot show: once the round is public, draw new entry
/// ids until the chosen person wins, and publish a record consistent in every way, dates
/// included. A device that saw the first list refuses it; one that did not says so.
#[test]
fn a_device_refuses_a_list_redrawn_after_it_saw_one() {
    let fair = draw(round("quicknet-657413.json"), entries(20));
    let c = fair.commitment.clone().unwrap();
    let seen = fair.entries.as_ref().unwrap().frozen_at + Duration::minutes(3);

    // Before the draw: the device sees the commitment, then the frozen list.
    let mut before = fair.clone();
    before.result = None;
    before.entries = None;
    let pins = Pins::default().observe(&before, c.committed_at).unwrap();
    before.entries = fair.entries.clone();
    let pins = pins.observe(&before, seen).unwrap();
    assert_eq!(pins.witness(&fair, &QUICKNET), Witness::BeforeRound);
    assert_eq!(
        pins.observe(&fair, seen).unwrap(),
        pins,
        "the same draw, nothing new"
    );

    // The redrawn record: other ids, their own hash, a fresh pick; it verifies on its own.
    let mut redrawn = fair.clone();
    let ids: Vec<String> = entries(21).into_iter().skip(1).collect();
    redrawn.entries.as_mut().unwrap().list_hash = list_hash(&ids);
    redrawn.entries.as_mut().unwrap().entries = ids.clone();
    let randomness = verify_round(
        c.beacon_round,
        &fair.result.as_ref().unwrap().beacon.signature,
    )
    .unwrap();
    redrawn.result.as_mut().unwrap().winners =
        pick(&[7u8; 32], &randomness, &ids, &Slot::from_prizes(&c.prizes))
            .unwrap()
            .into_iter()
            .map(|(slot, entry_id)| DrawWinner {
                prize: slot.prize,
                name: "chosen".into(),
                entry_id,
            })
            .collect();
    assert!(verify(&redrawn).is_ok(), "consistent on its own");
    assert!(matches!(
        pins.observe(&redrawn, Utc::now()),
        Err(DrawError::ListChanged { .. })
    ));
    // A new commitment is refused the same way.
    let mut recommitted = fair.clone();
    recommitted.commitment.as_mut().unwrap().seed_hash = seed_hash(&[9u8; 32]);
    redigest(&mut recommitted);
    assert!(matches!(
        pins.observe(&recommitted, Utc::now()),
        Err(DrawError::CommitmentChanged { .. })
    ));
    // The list or the person's entry gone.
    let mut gone = fair.clone();
    gone.entries = None;
    gone.result = None;
    assert!(matches!(
        pins.observe(&gone, Utc::now()),
        Err(DrawError::ListChanged { .. })
    ));
    let mut mine = fair.clone();
    mine.my_entry_id = Some(fair.entries.as_ref().unwrap().entries[0].clone());
    let with_mine = pins.observe(&mine, seen).unwrap();
    let dropped = fair.clone();
    assert!(matches!(
        with_mine.observe(&dropped, Utc::now()),
        Err(DrawError::MyEntryMissing(_))
    ));

    // A device that first sees the list after the round cannot vouch for its timing.
    let late = Pins::default().observe(&fair, Utc::now()).unwrap();
    assert_eq!(late.witness(&fair, &QUICKNET), Witness::AfterRound);
}

/// The draw made here, as a test vector for the console's own check (`console/src/lib/draw.ts`,
/// in TypeScript): both implementations must agree on it. Rewritten with
/// `RELAY_WRITE_DRAW_VECTOR=1`; otherwise the committed file must match.
#[test]
fn the_console_test_vector_is_current() {
    let drawn = draw(round("quicknet-657413.json"), entries(12));
    assert!(verify(&drawn).is_ok());
    let json = serde_json::to_string_pretty(&drawn).unwrap() + "\n";
    let path = format!(
        "{}/tests/fixtures/draw-vector.json",
        env!("CARGO_MANIFEST_DIR")
    );
    if std::env::var_os("RELAY_WRITE_DRAW_VECTOR").is_some() {
        std::fs::write(&path, &json).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap_or_default(),
        json,
        "stale: run with RELAY_WRITE_DRAW_VECTOR=1"
    );
}
