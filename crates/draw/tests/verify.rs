//! The draw verified with real recorded quicknet rounds, and every tampering refused.

use chrono::{TimeZone, Utc};
use relay_draw::{list_hash, pick, seed_hash, verify, verify_round, DrawError, Slot};
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

/// A draw made as the server makes it, on `beacon`.
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
    let at = Utc.with_ymd_and_hms(2026, 12, 4, 0, 0, 0).unwrap();
    Draw {
        month: "2026-11".into(),
        setup: Some(DrawSetup {
            prizes,
            eligibility: Eligibility::default(),
        }),
        commitment: Some(DrawCommitment {
            algorithm: relay_draw::ALGORITHM.into(),
            seed_hash: seed_hash(&seed),
            beacon_chain: relay_draw::QUICKNET.hash.into(),
            beacon_round: beacon.round,
            beacon_round_at: at,
            committed_at: at,
        }),
        entries: Some(DrawEntries {
            list_hash: list_hash(&ids),
            entries: ids,
            frozen_at: at,
        }),
        result: Some(DrawResult {
            seed: "07".repeat(32),
            beacon,
            winners,
            drawn_at: at,
        }),
        my_entry_id: None,
        opted_out: false,
    }
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
    // Another seed with its own commitment: the winners change.
    t.commitment.as_mut().unwrap().seed_hash = seed_hash(&[8u8; 32]);
    assert_eq!(verify(&t), Err(DrawError::WinnersMismatch));

    // Another round than committed.
    let mut t = fair.clone();
    t.result.as_mut().unwrap().beacon = round("quicknet-1000.json");
    assert!(matches!(verify(&t), Err(DrawError::RoundMismatch { .. })));
    // ... with the commitment changed too: the winners change.
    t.commitment.as_mut().unwrap().beacon_round = 1000;
    assert_eq!(verify(&t), Err(DrawError::WinnersMismatch));

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
