//! What the UI sees: engine types reshaped for the screen, with TypeScript types generated from
//! them (specta). Times are RFC 3339 strings; counts fit a JavaScript number.

use chrono::{DateTime, Utc};
use relay_client::store::{Account, FeedItem, Share, ShareState};
use relay_protocol::Network;
use serde::{Deserialize, Serialize};
use specta::Type;

/// A social network, as the UI names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum NetworkKind {
    Linkedin,
    X,
    Mastodon,
    Bluesky,
    Facebook,
}

impl From<Network> for NetworkKind {
    fn from(n: Network) -> Self {
        match n {
            Network::Linkedin => NetworkKind::Linkedin,
            Network::X => NetworkKind::X,
            Network::Mastodon => NetworkKind::Mastodon,
            Network::Bluesky => NetworkKind::Bluesky,
            Network::Facebook => NetworkKind::Facebook,
        }
    }
}

impl From<NetworkKind> for Network {
    fn from(n: NetworkKind) -> Self {
        match n {
            NetworkKind::Linkedin => Network::Linkedin,
            NetworkKind::X => Network::X,
            NetworkKind::Mastodon => Network::Mastodon,
            NetworkKind::Bluesky => Network::Bluesky,
            NetworkKind::Facebook => Network::Facebook,
        }
    }
}

/// The header of every screen: who, where, how fresh.
#[derive(Debug, Clone, Serialize, Type)]
pub struct AppStatus {
    pub enrolled: bool,
    pub server: Option<String>,
    pub person: Option<String>,
    pub organisation: Option<String>,
    pub signed_in: bool,
    pub signed_out_reason: Option<String>,
    pub synced: bool,
    /// The server answered the last time live mode tried.
    pub online: bool,
    pub items: u32,
    pub unread: u32,
    pub queued_shares: u32,
    pub failed_shares: u32,
}

/// A card in the feed.
#[derive(Debug, Clone, Serialize, Type)]
pub struct Card {
    pub id: String,
    pub kind: String,
    pub channel_id: String,
    pub title: String,
    pub summary: String,
    pub url: String,
    /// Served from the offline image cache (`relay-img:`).
    pub image: Option<String>,
    pub language: String,
    pub published_at: String,
    pub read: bool,
    pub saved: bool,
}

impl Card {
    pub fn from_feed(f: &FeedItem) -> Card {
        Card {
            id: f.item.id.clone(),
            kind: f.item.kind.as_str().to_owned(),
            channel_id: f.item.channel_id.clone(),
            title: f.item.title.clone(),
            summary: f.item.summary.clone(),
            url: f.item.url.clone(),
            image: f.item.image_url.as_deref().map(crate::images::proxied),
            language: f.item.language.clone(),
            published_at: f.item.published_at.to_rfc3339(),
            read: f.read,
            saved: f.saved,
        }
    }
}

/// A wording offered as a starting point for a share.
#[derive(Debug, Clone, Serialize, Type)]
pub struct Suggestion {
    pub network: NetworkKind,
    pub language: String,
    pub text: String,
}

/// An item opened: the card, its article (sanitised on this device) and suggested wordings.
#[derive(Debug, Clone, Serialize, Type)]
pub struct Article {
    pub card: Card,
    pub body_html: String,
    pub suggestions: Vec<Suggestion>,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct ChannelView {
    pub id: String,
    /// In the UI's language when the curators named it so, else English, else the slug.
    pub name: String,
    pub followed: bool,
}

/// Where a connected account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Connected,
    Reconnect,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct AccountView {
    pub id: String,
    pub network: NetworkKind,
    pub handle: String,
    pub status: AccountStatus,
    /// Its own character limit where its server sets one (a Mastodon server's).
    pub char_limit: Option<u32>,
    /// The server it lives on, where the person chose it (a Mastodon server's address): a
    /// reconnect goes back there.
    pub server: Option<String>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        AccountView {
            id: a.id.clone(),
            network: a.network.into(),
            handle: a.handle.clone(),
            status: match a.status {
                relay_client::store::AccountStatus::Connected => AccountStatus::Connected,
                relay_client::store::AccountStatus::Reconnect => AccountStatus::Reconnect,
            },
            char_limit: a.char_limit,
            server: match a.network {
                Network::Mastodon => a.base_url.clone(),
                _ => None,
            },
        }
    }
}

/// A share's state on screen: the outbox's, with queued-for-later told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ShareStatus {
    Queued,
    Scheduled,
    Sending,
    Posted,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct ShareView {
    pub id: String,
    pub item_id: String,
    pub item_title: String,
    pub network: NetworkKind,
    pub account_id: String,
    pub text: String,
    pub scheduled_at: Option<String>,
    pub status: ShareStatus,
    pub attempts: u32,
    pub reason: Option<String>,
    pub retryable: bool,
    pub post_url: Option<String>,
    pub posted_at: Option<String>,
    /// The server has the share record (points, analytics).
    pub recorded: bool,
    /// Points the share earned in the programme.
    pub points: Option<i64>,
    /// Why the server refused the record for good ("too late for November 2026").
    pub refused: Option<String>,
    pub created_at: String,
}

impl ShareView {
    pub fn new(s: &Share, now: DateTime<Utc>) -> ShareView {
        let status = match s.state {
            ShareState::Queued if s.scheduled_at.is_some_and(|t| t > now) => ShareStatus::Scheduled,
            ShareState::Queued => ShareStatus::Queued,
            ShareState::Sending => ShareStatus::Sending,
            ShareState::Posted => ShareStatus::Posted,
            ShareState::Failed => ShareStatus::Failed,
            ShareState::Cancelled => ShareStatus::Cancelled,
        };
        let rfc = |t: &Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339());
        ShareView {
            id: s.id.clone(),
            item_id: s.item_id.clone(),
            item_title: s.item_title.clone(),
            network: s.network.into(),
            account_id: s.account_id.clone(),
            text: s.text.clone(),
            scheduled_at: rfc(&s.scheduled_at),
            status,
            attempts: s.attempts,
            reason: s.reason.clone(),
            retryable: s.retryable,
            post_url: s.post_url.clone(),
            posted_at: rfc(&s.posted_at),
            recorded: s.recorded_at.is_some() && s.refused.is_none(),
            points: s.points,
            refused: s.refused.clone(),
            created_at: s.created_at.to_rfc3339(),
        }
    }
}

/// One share asked for in the composer.
#[derive(Debug, Clone, Deserialize, Type)]
pub struct ShareDraft {
    pub account_id: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize, Type)]
pub struct ShareRequest {
    pub item_id: String,
    pub drafts: Vec<ShareDraft>,
    /// RFC 3339; now when absent.
    pub scheduled_at: Option<String>,
    /// Share the item's own address instead of the person's tracked link.
    pub original_link: bool,
}

/// Which part of the feed to show.
#[derive(Debug, Clone, Default, Deserialize, Type)]
pub struct FeedFilter {
    pub channel_id: Option<String>,
    pub unread_only: bool,
    pub saved_only: bool,
    /// Continue after this card (the last one shown).
    pub after: Option<String>,
}

/// The UI's language: the system's, or one chosen in Settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    System,
    En,
    Fr,
}

/// How long to pause new-content notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum PausePeriod {
    OneHour,
    UntilTomorrow,
    Off,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct Settings {
    pub language: Language,
    /// The system's language (`en` or `fr`), which `System` follows.
    pub system_language: String,
    /// RFC 3339, while paused.
    pub notifications_paused_until: Option<String>,
    pub start_at_login: bool,
    /// Whether this platform can start the app at login.
    pub start_at_login_available: bool,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct About {
    pub version: String,
    pub data_dir: String,
    pub device_id: Option<String>,
}

/// A sync's progress, for the first-sync bar.
#[derive(Debug, Clone, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct SyncProgress {
    pub done: u32,
    pub total: Option<u32>,
}

/// Something changed in the cache, the outbox or the connection: refetch what is on screen.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct Changed {
    pub feed: bool,
    pub outbox: bool,
    pub status: bool,
    /// Points, boards or the top ten moved: ask for the programme again.
    pub programme: bool,
}

/// Go to a screen (a notification click, a deep link, the tray).
#[derive(Debug, Clone, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct Navigate {
    /// `item/<id>`, `queue`, `settings`, `enrol?server=..&code=..`.
    pub route: String,
}
