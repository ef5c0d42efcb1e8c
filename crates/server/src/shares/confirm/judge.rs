//! What a post the server read says of a share: the rules of confirmation, with no I/O.

use chrono::{DateTime, Utc};

/// A post as the server read it where anyone may.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// The account it belongs to: a DID, or `user@instance`.
    pub account_key: String,
    /// When the network says it was made.
    pub created_at: DateTime<Utc>,
    /// Readable by anyone (a Mastodon status may be private or direct).
    pub public: bool,
    /// Every address in it: links, link cards, and its text.
    pub links: Vec<String>,
    pub text: String,
    /// The account's followers on its public profile, where it could be read.
    pub followers: Option<u64>,
}

/// Why a post could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The network says there is no such post (never made, or deleted).
    NotFound,
    /// It could not be read now (the network down, a timeout, a refusal): try again later.
    Unreadable(String),
}

/// What the share claims, and what the server knows that bears on it.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    pub person_id: &'a str,
    pub shared_at: DateTime<Utc>,
    pub item_published_at: Option<DateTime<Utc>>,
    /// The person's own tracked link for this item and network, in full.
    pub tracked_link: Option<&'a str>,
    pub item_url: &'a str,
    /// Who the post's account is bound to in the organisation, if anyone.
    pub bound_to: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Counts as confirmed; `bind` the account to the person (its first post with their link).
    Confirmed { bind: bool },
    /// A real post that proves nothing about this person: counts as declared.
    Declared(String),
    /// No points.
    Rejected(String),
}

/// How far a post's own time may be from the share's.
pub const TIME_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

/// The rules: public; on an account that is not someone else's; made when the share says and
/// after the item was published; carrying the person's tracked link. A post carrying only the
/// item's own address proves the person shared it only on an account already theirs (anyone,
/// the company's official account first, posts that address).
pub fn judge(claim: &Claim<'_>, post: &Post) -> Verdict {
    if !post.public {
        return Verdict::Rejected("the post is not public".into());
    }
    if claim.bound_to.is_some_and(|p| p != claim.person_id) {
        return Verdict::Rejected(
            "this account belongs to another person of the organisation".into(),
        );
    }
    if (post.created_at - claim.shared_at).abs() > TIME_WINDOW {
        return Verdict::Rejected(format!(
            "the post was made at {}, not when the share says ({})",
            post.created_at, claim.shared_at
        ));
    }
    if claim
        .item_published_at
        .is_some_and(|p| post.created_at < p - chrono::Duration::minutes(5))
    {
        return Verdict::Rejected("the post is older than the item".into());
    }
    if claim.tracked_link.is_some_and(|link| carries(post, link)) {
        return Verdict::Confirmed {
            bind: claim.bound_to.is_none(),
        };
    }
    if carries(post, claim.item_url) {
        return if claim.bound_to == Some(claim.person_id) {
            Verdict::Confirmed { bind: false }
        } else {
            Verdict::Declared(
                "the post carries the item's address, not your link, on an account not yet yours in Relay"
                    .into(),
            )
        };
    }
    Verdict::Rejected("the post does not carry this item's link".into())
}

/// Whether the post links to `url` (the same address, a trailing slash aside).
fn carries(post: &Post, url: &str) -> bool {
    let wanted = url.trim_end_matches('/');
    if wanted.is_empty() {
        return false;
    }
    post.links.iter().any(|l| l.trim_end_matches('/') == wanted)
        || post
            .text
            .split(|c: char| c.is_whitespace())
            .any(|word| word.trim_end_matches(['/', '.', ',', ')']) == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(links: &[&str]) -> Post {
        Post {
            account_key: "did:plc:alice".into(),
            created_at: "2026-11-10T09:00:30Z".parse().unwrap(),
            public: true,
            links: links.iter().map(|l| l.to_string()).collect(),
            text: "Worth a read".into(),
            followers: Some(120),
        }
    }

    fn claim<'a>(bound_to: Option<&'a str>) -> Claim<'a> {
        Claim {
            person_id: "alice",
            shared_at: "2026-11-10T09:00:00Z".parse().unwrap(),
            item_published_at: Some("2026-11-09T08:00:00Z".parse().unwrap()),
            tracked_link: Some("https://relay.example/l/abc"),
            item_url: "https://contoso.example/news/1",
            bound_to,
        }
    }

    #[test]
    fn the_persons_own_link_confirms_and_binds_the_account() {
        let p = post(&["https://relay.example/l/abc"]);
        assert_eq!(judge(&claim(None), &p), Verdict::Confirmed { bind: true });
        assert_eq!(
            judge(&claim(Some("alice")), &p),
            Verdict::Confirmed { bind: false }
        );
        let mut in_text = post(&[]);
        in_text.text = "Worth a read https://relay.example/l/abc".into();
        assert_eq!(
            judge(&claim(None), &in_text),
            Verdict::Confirmed { bind: true }
        );
    }

    #[test]
    fn what_does_not_prove_the_share_does_not_confirm_it() {
        let mine = post(&["https://relay.example/l/abc"]);
        // Another person's account.
        assert!(matches!(
            judge(&claim(Some("bob")), &mine),
            Verdict::Rejected(_)
        ));
        // Another link, or none.
        assert!(matches!(
            judge(&claim(None), &post(&["https://relay.example/l/other"])),
            Verdict::Rejected(_)
        ));
        assert!(matches!(
            judge(&claim(None), &post(&["https://relay.example/l/abcd"])),
            Verdict::Rejected(_)
        ));
        // Made at another time, or before the item.
        let mut late = mine.clone();
        late.created_at = "2026-11-10T09:20:00Z".parse().unwrap();
        assert!(matches!(judge(&claim(None), &late), Verdict::Rejected(_)));
        let mut old = mine.clone();
        old.created_at = "2026-11-01T09:00:00Z".parse().unwrap();
        let mut c = claim(None);
        c.shared_at = old.created_at;
        assert!(matches!(judge(&c, &old), Verdict::Rejected(_)));
        // Not public.
        let mut private = mine.clone();
        private.public = false;
        assert!(matches!(
            judge(&claim(None), &private),
            Verdict::Rejected(_)
        ));
        // The item's own address: the company's official post, claimed by someone.
        let official = post(&["https://contoso.example/news/1/"]);
        assert!(matches!(
            judge(&claim(None), &official),
            Verdict::Declared(_)
        ));
        assert_eq!(
            judge(&claim(Some("alice")), &official),
            Verdict::Confirmed { bind: false }
        );
    }
}
