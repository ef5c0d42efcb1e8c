//! AT Protocol record keys (TIDs) derived from share ids, so that sending a share again
//! writes to the same record key and collides instead of posting twice.

use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// How many record keys a share may try: a key already taken by another post (of another
/// share) moves the share on to its next key. Each share's keys are a fixed sequence, so a resend
/// walks the same keys and finds its own earlier post instead of posting again.
pub const KEYS_PER_SHARE: u32 = 4;

/// The `attempt`th TID of a share: 53 bits of microseconds and 10 bits of clock id, in the
/// sortable base32 of the spec. Shares have UUIDv7 ids: their millisecond timestamp keeps record
/// keys in time order; other ids hash to a key (still stable).
pub fn for_share(share_id: &str, attempt: u32) -> String {
    // Below the millisecond there are 1,000 x 1,024 keys. The first key takes them from the
    // UUID's 42-bit counter, which counts up within a millisecond (the uuid crate's `now_v7`),
    // so shares made in the same millisecond get different keys; later keys from a hash.
    const SUB_MS_KEYS: u64 = 1000 * 1024;
    let mut hasher = Sha256::new();
    hasher.update(share_id.as_bytes());
    hasher.update(attempt.to_be_bytes());
    let d = hasher.finalize();
    let n = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
    let uuid = uuid::Uuid::parse_str(share_id)
        .ok()
        .filter(|u| u.get_version_num() == 7);
    let (ms, sub) = match uuid {
        Some(u) => {
            let b = u.as_bytes();
            let ms = u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]);
            let counter = (u64::from(b[6] & 0x0f) << 38)
                | (u64::from(b[7]) << 30)
                | (u64::from(b[8] & 0x3f) << 24)
                | (u64::from(b[9]) << 16)
                | (u64::from(b[10]) << 8)
                | u64::from(b[11]);
            (ms, if attempt == 0 { counter } else { n } % SUB_MS_KEYS)
        }
        None => (n >> 20, n % SUB_MS_KEYS),
    };
    let micros = ms * 1000 + sub / 1024;
    encode(((micros & ((1 << 53) - 1)) << 10) | (sub % 1024))
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
        let tid = for_share(&id, 0);
        assert_eq!(tid, for_share(&id, 0));
        assert_ne!(tid, for_share(&id, 1));
        assert_eq!(tid.len(), 13);
        // The spec's syntax: first character 234567abcdefghij, then the base32 alphabet.
        assert!(b"234567abcdefghij".contains(&tid.as_bytes()[0]), "{tid}");
        assert!(tid.bytes().all(|c| ALPHABET.contains(&c)), "{tid}");
    }

    #[test]
    fn shares_made_in_the_same_millisecond_get_different_keys() {
        // Far more than fit in one millisecond's 1,024,000 random keys without a birthday
        // collision: the counter, not luck, keeps them apart.
        let ids: Vec<String> = (0..20_000)
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect();
        let mut tids: Vec<String> = ids.iter().map(|id| for_share(id, 0)).collect();
        tids.sort();
        tids.dedup();
        assert_eq!(tids.len(), ids.len());
    }

    #[test]
    fn later_shares_sort_later() {
        let a = for_share("01890a5d-ac96-774b-bcce-b302099a8057", 0);
        let b = for_share("01990a5d-ac96-774b-bcce-b302099a8057", 0);
        assert!(a < b, "{a} {b}");
        // Not a UUIDv7: still stable and valid.
        let c = for_share("share-1", 0);
        assert_eq!(c, for_share("share-1", 0));
        assert!(b"234567abcdefghij".contains(&c.as_bytes()[0]));
    }

    #[test]
    fn encodes_like_the_spec() {
        assert_eq!(encode(0), "2222222222222");
        assert_eq!(encode(1), "2222222222223");
        assert_eq!(encode(32), "2222222222232");
    }
}
