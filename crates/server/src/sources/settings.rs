//! What sources may reach, and how often they are looked at.

use super::fetch;

/// What the server's sources may reach (tests allow loopback addresses), and how often the
/// poller looks for sources that are due (`None`: no poller, sources are polled on request).
#[derive(Debug, Clone)]
pub struct SourcesConfig {
    pub fetch: fetch::FetchPolicy,
    pub poll_every: Option<std::time::Duration>,
    /// Where YouTube channel feeds are read (`/feeds/videos.xml?channel_id=`).
    pub youtube_base: String,
    /// How Mastodon instances are reached: `https`, or `http` for a test's local instance.
    pub instance_scheme: String,
    /// Where Bluesky handles are resolved (`com.atproto.identity.resolveHandle`).
    pub bluesky_resolver: String,
    /// The PLC directory, where `did:plc` documents are read.
    pub plc_directory: String,
    /// A Bluesky AppView, where public profiles (their follower counts) are read.
    pub bluesky_appview: String,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        SourcesConfig {
            fetch: fetch::FetchPolicy::default(),
            poll_every: Some(std::time::Duration::from_secs(5)),
            youtube_base: "https://www.youtube.com".into(),
            instance_scheme: "https".into(),
            bluesky_resolver: "https://bsky.social".into(),
            plc_directory: "https://plc.directory".into(),
            bluesky_appview: "https://public.api.bsky.app".into(),
        }
    }
}
