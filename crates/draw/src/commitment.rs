//! The commitment's canonical text and digest, and the entry ids' format: what a device pins and
//! what every verifier recomputes (`docs/draw.md` gives the same bytes).

use relay_protocol::{Eligibility, Prize};
use sha2::{Digest, Sha256};

use crate::hex;

/// What a commitment binds, as its canonical text is made of.
pub struct Bound<'a> {
    pub month: &'a str,
    pub seed_hash: &'a str,
    pub chain: &'a str,
    pub round: u64,
    /// Unix seconds.
    pub closes_at: i64,
    pub prizes: &'a [Prize],
    pub eligibility: Eligibility,
}

/// The commitment's canonical text: UTF-8 lines, each ending in one `\n`, in this order.
pub fn canonical(b: &Bound<'_>) -> String {
    let mut text = format!(
        "{}\nmonth {}\nseed_hash {}\nchain {}\nround {}\ncloses_at {}\n",
        crate::COMMITMENT_HEADER,
        b.month,
        b.seed_hash,
        b.chain,
        b.round,
        b.closes_at
    );
    text.push_str(&match b.eligibility {
        Eligibility {
            top_points: Some(n),
            ..
        } => format!("eligibility top_points {n}\n"),
        Eligibility {
            min_verified_shares: Some(k),
            ..
        } => format!("eligibility min_verified_shares {k}\n"),
        _ => "eligibility none\n".to_owned(),
    });
    for prize in b.prizes {
        text.push_str(&format!("prize {} {}\n", prize.quantity, prize.name));
    }
    text
}

/// SHA-256 of the canonical text, lowercase hex.
pub fn digest(b: &Bound<'_>) -> String {
    hex::encode(&Sha256::digest(canonical(b).as_bytes()))
}

/// Whether a prize name can go in the canonical text unambiguously: no control characters
/// (a newline would make a second line), no leading or trailing white space.
pub fn prize_name_ok(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_control) && name.trim() == name
}

/// An entry id: 16 random bytes as 32 lowercase hexadecimal digits.
pub fn entry_id_ok(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_text_is_the_documented_one() {
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
        let b = Bound {
            month: "2023-08",
            seed_hash: "ab",
            chain: "cd",
            round: 657413,
            closes_at: 1_694_768_400,
            prizes: &prizes,
            eligibility: Eligibility::default(),
        };
        assert_eq!(
            canonical(&b),
            "relay-draw-v1 commitment\nmonth 2023-08\nseed_hash ab\nchain cd\nround 657413\n\
             closes_at 1694768400\neligibility top_points 50\nprize 1 Phone\nprize 2 Team outing\n"
        );
        assert_eq!(digest(&b).len(), 64);
        assert!(entry_id_ok("0123456789abcdef0123456789abcdef"));
        assert!(!entry_id_ok("0123456789ABCDEF0123456789abcdef"));
        assert!(!entry_id_ok("0123"));
        assert!(!prize_name_ok("Phone\nprize 9 Car"));
        assert!(!prize_name_ok(" Phone"));
    }
}
