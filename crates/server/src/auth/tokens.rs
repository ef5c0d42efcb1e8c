use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The two kinds of bearer secret, told apart by prefix so a misplaced one fails clearly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
    /// A one-time console sign-in link.
    ConsoleLink,
    /// A console browser session (its cookie).
    ConsoleSession,
    /// An organisation's SCIM provisioning token (its directory's).
    Scim,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Access => "rla_",
            TokenKind::Refresh => "rlr_",
            TokenKind::ConsoleLink => "rlc_",
            TokenKind::ConsoleSession => "rls_",
            TokenKind::Scim => "rlp_",
        }
    }
}

/// A fresh random token: 256 bits, URL-safe.
pub fn new_token(kind: TokenKind) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes))
}

/// A session's refresh-token family: 128 random bits, fixed for the session's whole life.
pub fn new_refresh_family() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh refresh token of `family`: `rlr_<family>.<256 random bits>`. Every token a session is
/// ever issued names its family, so a rotated-out token is recognised as the session's for
/// good (its reuse revokes the session) without keeping a row per token.
pub fn new_refresh_token(family: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "{}{family}.{}",
        TokenKind::Refresh.prefix(),
        URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The family a refresh token names (`None` for tokens issued before families existed).
pub fn refresh_family(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(TokenKind::Refresh.prefix())?;
    let (family, secret) = rest.split_once('.')?;
    (!family.is_empty() && !secret.is_empty()).then_some(family)
}

/// Seals `plain` with a key derived from `key_secret` (a token the database keeps only hashed),
/// so what is stored opens only for whoever presents that token again.
///
/// The key is used once (a refresh token is rotated out once): a SHA-256 keystream in counter
/// mode and a 128-bit tag are enough.
pub fn seal(key_secret: &str, plain: &[u8]) -> String {
    let key = seal_key(key_secret);
    let mut out: Vec<u8> = plain
        .iter()
        .zip(keystream(&key))
        .map(|(p, k)| p ^ k)
        .collect();
    let tag = seal_tag(&key, &out);
    out.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(out)
}

/// Opens what [`seal`] sealed with the same secret; `None` for another secret or altered data.
pub fn unseal(key_secret: &str, sealed: &str) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    let split = bytes.len().checked_sub(16)?;
    let (cipher, tag) = bytes.split_at(split);
    let key = seal_key(key_secret);
    if seal_tag(&key, cipher) != tag {
        return None;
    }
    Some(
        cipher
            .iter()
            .zip(keystream(&key))
            .map(|(c, k)| c ^ k)
            .collect(),
    )
}

fn seal_key(secret: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"relay seal v1\0");
    h.update(secret.as_bytes());
    h.finalize().into()
}

fn keystream(key: &[u8; 32]) -> impl Iterator<Item = u8> + '_ {
    (0u64..).flat_map(move |block| {
        let mut h = Sha256::new();
        h.update(key);
        h.update(block.to_be_bytes());
        <[u8; 32]>::from(h.finalize())
    })
}

fn seal_tag(key: &[u8; 32], cipher: &[u8]) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(b"tag");
    h.update(key);
    h.update(cipher);
    let digest: [u8; 32] = h.finalize().into();
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&digest[..16]);
    tag
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

    #[test]
    fn refresh_tokens_name_their_family() {
        let family = new_refresh_family();
        let a = new_refresh_token(&family);
        let b = new_refresh_token(&family);
        assert_ne!(a, b);
        assert_eq!(refresh_family(&a), Some(family.as_str()));
        assert_eq!(refresh_family(&b), Some(family.as_str()));
        assert_eq!(refresh_family(&new_token(TokenKind::Refresh)), None);
        assert_eq!(refresh_family("rlr_.x"), None);
    }

    #[test]
    fn sealed_data_opens_only_with_its_secret() {
        let plain = b"{\"access_token\":\"rla_secret\"}".repeat(5);
        let sealed = seal("rlr_key", &plain);
        assert!(!sealed.contains("secret"));
        assert_eq!(unseal("rlr_key", &sealed).as_deref(), Some(&plain[..]));
        assert_eq!(unseal("rlr_other", &sealed), None);
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        bytes[3] ^= 1;
        assert_eq!(unseal("rlr_key", &URL_SAFE_NO_PAD.encode(bytes)), None);
        assert_eq!(unseal("rlr_key", "AAAA"), None);
    }
}
