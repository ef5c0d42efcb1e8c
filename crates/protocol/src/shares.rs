use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Network, ShareProof};

/// Body of `POST /v1/shares`: the caller's device posted (or opened a share intent for) an item.
///
/// `share_id` is chosen by the device (a UUID from its outbox); with the session's device id it
/// names the record, so a repeated request is the same record, never a second one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewShareRecord {
    pub share_id: String,
    pub item_id: String,
    pub network: Network,
    pub shared_at: DateTime<Utc>,
    /// The public URL of the post, when the network tells it. It must be on the network's own
    /// domain (for Mastodon, on `account_host`).
    #[serde(default)]
    pub post_url: Option<String>,
    /// Verified (the network answered with the post) or declared (a share page was opened).
    /// Declared when not said.
    #[serde(default = "declared")]
    pub proof: ShareProof,
    /// The network's id of the post (a verified share has an id or a URL).
    #[serde(default)]
    pub post_id: Option<String>,
    /// The Mastodon account's server (`mastodon.social`), which its post URLs are on.
    #[serde(default)]
    pub account_host: Option<String>,
    /// The tracked link the post carried (`POST /v1/links`), so its clicks count for it.
    #[serde(default)]
    pub link_code: Option<String>,
    /// The posting account's followers as the device read them (Bluesky, Mastodon, X). Kept
    /// as the device's word and never summed into reach: the server reads the count itself
    /// where the network's profiles are public, and nowhere else is reach measured. Refused
    /// for LinkedIn (its counts are never used) and for declared shares. At most 10,000,000,000.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(maximum = 10000000000.0))]
    pub followers: Option<u64>,
}

crate::wire_enum! {
    /// Where a share stands, as the server knows it (not as the device says).
    /// - **pending**: a Bluesky or Mastodon post the server has yet to read;
    /// - **confirmed**: the server read the post where anyone may, on the person's account,
    ///   carrying their link, made when the share says;
    /// - **attested**: posted through the network's API by the device, but the server cannot
    ///   read it (X, LinkedIn): the device's word. Scored as declared unless the month's rules
    ///   trust attested shares;
    /// - **declared**: opened on a share page, or a post the server could not read in time;
    /// - **rejected**: the post is not there, not the person's, or not this share's: no points.
    ShareStatus {
        Pending = "pending",
        Confirmed = "confirmed",
        Attested = "attested",
        Declared = "declared",
        Rejected = "rejected",
    }
}

fn declared() -> ShareProof {
    ShareProof::Declared
}

/// A recorded share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareRecord {
    pub id: String,
    pub device_id: String,
    pub share_id: String,
    pub person_id: String,
    pub item_id: String,
    pub network: Network,
    pub shared_at: DateTime<Utc>,
    pub post_url: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub proof: ShareProof,
    /// The programme month the share counts in (`YYYY-MM`, the organisation's time zone).
    pub month: String,
    /// Points the share earned (its clicks' points included).
    pub points: i64,
    /// Why it earned no share points, when it did not: `already_scored` (this item on this
    /// network) or `daily_cap`.
    pub unscored: Option<String>,
    /// When the post was found deleted (by the server, or by the person's device) and the
    /// record withdrawn, its points with it.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Where the share stands (see [`ShareStatus`]).
    #[serde(default = "declared_status")]
    pub status: ShareStatus,
    /// Why it stands there, when that needs saying (a rejection, a post read too late).
    #[serde(default)]
    pub status_reason: Option<String>,
}

fn declared_status() -> ShareStatus {
    ShareStatus::Declared
}

impl Network {
    /// Whether `url` is a post address of this network: on its own domain, or for Mastodon on
    /// the account's server.
    pub fn owns_post_url(self, url: &str, account_host: Option<&str>) -> bool {
        let Some(rest) = url.strip_prefix("https://") else {
            return false;
        };
        let host = rest
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let on = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
        match self {
            Network::Linkedin => on("linkedin.com"),
            Network::X => on("x.com") || on("twitter.com"),
            Network::Bluesky => on("bsky.app"),
            Network::Facebook => on("facebook.com"),
            Network::Mastodon => {
                account_host.is_some_and(|h| !h.is_empty() && host == h.to_ascii_lowercase())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_urls_belong_to_their_network() {
        assert!(Network::Bluesky.owns_post_url("https://bsky.app/profile/a/post/3k", None));
        assert!(!Network::Bluesky.owns_post_url("https://bsky.app.evil.test/post", None));
        assert!(!Network::Bluesky.owns_post_url("http://bsky.app/profile/a", None));
        assert!(Network::Linkedin.owns_post_url("https://www.linkedin.com/feed/update/x/", None));
        assert!(!Network::Linkedin.owns_post_url("https://evil.test/linkedin.com", None));
        assert!(Network::X.owns_post_url("https://x.com/eve/status/1", None));
        let host = Some("mastodon.social");
        assert!(Network::Mastodon.owns_post_url("https://mastodon.social/@eve/1", host));
        assert!(!Network::Mastodon.owns_post_url("https://other.social/@eve/1", host));
        assert!(!Network::Mastodon.owns_post_url("https://mastodon.social/@eve/1", None));
        assert!(!Network::X.owns_post_url("https://x.com@evil.test/", None));
    }
}
