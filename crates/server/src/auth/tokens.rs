use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The two kinds of bearer secret, told apart by prefix so a misplaced one fails clearly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Access => "rla_",
            TokenKind::Refresh => "rlr_",
        }
    }
}

/// A fresh random token: 256 bits, URL-safe.
pub fn new_token(kind: TokenKind) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes))
}

/// Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or typed is unambiguous.
const CODE_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh enrolment code, 16 symbols (80 bits) in groups of four: `7Q2M-...`.
pub fn new_enrolment_code() -> String {
    let mut rng = rand::thread_rng();
    let symbols: Vec<char> = (0..16)
        .map(|_| CODE_ALPHABET[(rng.next_u32() % 32) as usize] as char)
        .collect();
    symbols
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The canonical form of a typed code: upper case, no separators, look-alikes mapped.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// What the database stores for a secret.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_survive_sloppy_typing() {
        let code = new_enrolment_code();
        assert_eq!(code.len(), 19);
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(normalise_code(&typed), normalise_code(&code));
        assert_eq!(normalise_code("abcd-efgh-ijkl-mnop"), "ABCDEFGH1JK1MN0P");
    }

    #[test]
    fn tokens_are_distinct_and_hashes_stable() {
        let a = new_token(TokenKind::Access);
        let b = new_token(TokenKind::Access);
        assert_ne!(a, b);
        assert!(a.starts_with("rla_"));
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert!(!hash_secret(&a).contains(&a[4..]));
    }
}
