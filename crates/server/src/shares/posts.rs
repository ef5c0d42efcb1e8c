//! A post's identity, from what the device says of it: the key it is recorded under (once per
//! organisation and network), and where the server can read it back.

use relay_protocol::Network;

/// A Bluesky post: `at://{did}/app.bsky.feed.post/{rkey}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtUri {
    pub did: String,
    pub rkey: String,
}

pub const POST_COLLECTION: &str = "app.bsky.feed.post";

impl AtUri {
    pub fn parse(uri: &str) -> Option<AtUri> {
        let rest = uri.strip_prefix("at://")?;
        let mut parts = rest.split('/');
        let (did, collection, rkey) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || collection != POST_COLLECTION {
            return None;
        }
        let did_ok = (did.starts_with("did:plc:") || did.starts_with("did:web:"))
            && did.len() <= 253
            && did.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'-' | b'_' | b'%')
            });
        // Record keys: 1 to 512 of letters, digits and `.-_:~` (the AT Protocol's rule).
        let rkey_ok = !rkey.is_empty()
            && rkey.len() <= 512
            && rkey != "."
            && rkey != ".."
            && rkey.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'~')
            });
        (did_ok && rkey_ok).then(|| AtUri {
            did: did.to_ascii_lowercase(),
            rkey: rkey.to_owned(),
        })
    }
}

/// A Mastodon account's server as the device names it: a host name, with a port where it is
/// not the default one.
pub fn instance_ok(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
}

/// The key a verified post is recorded under, or why the record does not name its post well
/// enough to be read back (Bluesky, Mastodon) or told apart (X, LinkedIn, Facebook).
pub fn key(
    network: Network,
    post_id: Option<&str>,
    post_url: Option<&str>,
    account_host: Option<&str>,
) -> Result<String, &'static str> {
    match network {
        Network::Bluesky => {
            let uri = post_id.and_then(AtUri::parse).ok_or(
                "a Bluesky share names its post as at://{did}/app.bsky.feed.post/{rkey} (post_id)",
            )?;
            Ok(format!("{}/{}", uri.did, uri.rkey))
        }
        Network::Mastodon => {
            let host = account_host
                .filter(|h| instance_ok(h))
                .ok_or("a Mastodon share names its account's server (account_host)")?;
            let id = post_id
                .filter(|id| {
                    id.len() <= 64
                        && id
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
                .ok_or("a Mastodon share names its status id (post_id)")?;
            Ok(format!("{}/{id}", host.to_ascii_lowercase()))
        }
        Network::X | Network::Linkedin | Network::Facebook => post_id
            .or(post_url)
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .ok_or("a verified share names its post (post_id or post_url)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_are_named_well_enough_to_read_back() {
        let uri = AtUri::parse("at://did:plc:abc123/app.bsky.feed.post/3kxyz").unwrap();
        assert_eq!(
            (uri.did.as_str(), uri.rkey.as_str()),
            ("did:plc:abc123", "3kxyz")
        );
        assert!(AtUri::parse("at://did:plc:abc/app.bsky.feed.like/3k").is_none());
        assert!(AtUri::parse("at://alice.test/app.bsky.feed.post/3k").is_none());
        assert!(AtUri::parse("at://did:plc:abc/app.bsky.feed.post/..").is_none());
        assert!(AtUri::parse("at://did:plc:abc/app.bsky.feed.post/a/b").is_none());
        assert!(AtUri::parse("https://bsky.app/profile/x/post/3k").is_none());
        assert_eq!(
            key(
                Network::Bluesky,
                Some("at://did:plc:ABC/app.bsky.feed.post/3k"),
                None,
                None
            ),
            Ok("did:plc:abc/3k".into())
        );
        assert!(key(
            Network::Bluesky,
            None,
            Some("https://bsky.app/profile/a/post/3k"),
            None
        )
        .is_err());
        assert_eq!(
            key(
                Network::Mastodon,
                Some("1123"),
                None,
                Some("Mastodon.Social")
            ),
            Ok("mastodon.social/1123".into())
        );
        assert_eq!(
            key(Network::Mastodon, Some("7"), None, Some("127.0.0.1:4567")),
            Ok("127.0.0.1:4567/7".into())
        );
        assert!(key(Network::Mastodon, Some("7"), None, Some("evil/../x")).is_err());
        assert!(key(Network::Mastodon, Some("../7"), None, Some("m.social")).is_err());
        assert!(key(Network::Mastodon, Some("7"), None, None).is_err());
        assert_eq!(key(Network::X, Some("1789"), None, None), Ok("1789".into()));
        assert!(instance_ok("m.social:443") && !instance_ok("m.social:0") && !instance_ok(""));
    }
}
