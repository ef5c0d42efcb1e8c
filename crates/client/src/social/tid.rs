//! AT Protocol record keys (TIDs) derived from share ids, so that sending a share again
//! writes to the same record key and collides instead of posting twice.

use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// The TID of a share: 53 bits of microseconds and 10 bits of clock id, in the sortable base32
/// of the spec. Shares have UUIDv7 ids: their millisecond timestamp keeps record keys in time
/// order; other ids hash to a key (still stable).
pub fn for_share(share_id: &str) -> String {
    // The sub-millisecond part and the clock id come from a hash of the whole id: two shares
    // made in the same millisecond (their UUIDs differ only in later bits) get different keys.
    let d = Sha256::digest(share_id.as_bytes());
    let n = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
    let (micros, clock) = match uuid::Uuid::parse_str(share_id) {
        Ok(u) if u.get_version_num() == 7 => {
            let b = u.as_bytes();
            let ms = u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]);
            (ms * 1000 + (n >> 10) % 1000, n & 0x3ff)
        }
        _ => (n >> 11, n & 0x3ff),
    };
    encode(((micros & ((1 << 53) - 1)) << 10) | clock)
}

fn encode(mut n: u64) -> String {
    let mut out = [b'2'; 13];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n & 31) as usize];
        n >>= 5;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_always_gets_the_same_valid_tid() {
        let id = uuid::Uuid::now_v7().to_string();
        let tid = for_share(&id);
        assert_eq!(tid, for_share(&id));
        assert_eq!(tid.len(), 13);
        // The spec's syntax: first character 234567abcdefghij, then the base32 alphabet.
        assert!(b"234567abcdefghij".contains(&tid.as_bytes()[0]), "{tid}");
        assert!(tid.bytes().all(|c| ALPHABET.contains(&c)), "{tid}");
    }

    #[test]
    fn shares_made_in_the_same_millisecond_get_different_keys() {
        let ids: Vec<String> = (0..1000)
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect();
        let mut tids: Vec<String> = ids.iter().map(|id| for_share(id)).collect();
        tids.sort();
        tids.dedup();
        assert_eq!(tids.len(), ids.len());
    }

    #[test]
    fn later_shares_sort_later() {
        let a = for_share("01890a5d-ac96-774b-bcce-b302099a8057");
        let b = for_share("01990a5d-ac96-774b-bcce-b302099a8057");
        assert!(a < b, "{a} {b}");
        // Not a UUIDv7: still stable and valid.
        let c = for_share("share-1");
        assert_eq!(c, for_share("share-1"));
        assert!(b"234567abcdefghij".contains(&c.as_bytes()[0]));
    }

    #[test]
    fn encodes_like_the_spec() {
        assert_eq!(encode(0), "2222222222222");
        assert_eq!(encode(1), "2222222222223");
        assert_eq!(encode(32), "2222222222232");
    }
}
