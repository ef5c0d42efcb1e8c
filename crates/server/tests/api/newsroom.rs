//! The programme tests' cast: an organisation with a channel, an admin who curates, and helpers
//! to publish items and record shares.
//!
//! The organisation trusts attested shares (X, LinkedIn: the device's word) from the start, as
//! an organisation may choose to: tests of points, boards and analytics then score verified
//! shares without a Bluesky PDS. Shares the server confirms are tested in `confirm.rs`, against
//! the real PDS and a Mastodon stub; untrusted attested shares there too.

use chrono::{DateTime, Utc};
use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::Method;

use crate::harness::*;

pub struct Newsroom {
    pub _db: TestDb,
    pub server: Server,
    pub org: Org,
    pub news: Channel,
    pub admin: Client,
}

impl Newsroom {
    pub async fn new(backend: Backend) -> Newsroom {
        Newsroom::with(backend, Options::default()).await
    }

    pub async fn with(backend: Backend, options: Options) -> Newsroom {
        let db = TestDb::new(backend).await;
        let server = Server::start_with(&db, options).await;
        let org = server.org("acme").await;
        let news = server.channel(&org, "news").await;
        let admin = server
            .person(&org, "Ada Admin", Role::Admin, "FR", "fr", "Comms")
            .await;
        // Rules from long ago on: written as setup, as an admin would have set them in advance.
        let trusting = PointsRules {
            trust_attested: true,
            ..PointsRules::default()
        };
        sqlx::query(
            "INSERT INTO points_rules (org_id, from_month, rules, set_at) VALUES ($1, '2000-01', $2, 0)",
        )
        .bind(&org.id)
        .bind(serde_json::to_string(&trusting).unwrap())
        .execute(&server.db().write)
        .await
        .unwrap();
        Newsroom {
            _db: db,
            server,
            org,
            news,
            admin,
        }
    }

    pub async fn employee(&self, name: &str, country: &str, department: &str) -> Client {
        self.server
            .person(&self.org, name, Role::Employee, country, "fr", department)
            .await
    }

    /// Publishes an article now; returns its id.
    pub async fn item(&self, title: &str) -> String {
        self.admin
            .publish(&article(&self.news, title))
            .await
            .item
            .id
    }

    /// Counts rows of a table (the database as an attacker's request would leave it).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.server.db().read)
            .await
            .unwrap()
    }

    /// Moves an item's publication back in time (an item published last month).
    pub async fn published_at(&self, item_id: &str, at: DateTime<Utc>) {
        sqlx::query("UPDATE items SET published_at = $1 WHERE id = $2")
            .bind(at.timestamp_millis())
            .bind(item_id)
            .execute(&self.server.db().write)
            .await
            .unwrap();
    }
}

/// A verified Bluesky-style record of `item` on `network`, shared now.
pub fn verified(item: &str, network: Network, n: usize) -> NewShareRecord {
    let (post_url, account_host) = match network {
        Network::Bluesky => (
            format!("https://bsky.app/profile/did:plc:eve/post/{n}"),
            None,
        ),
        Network::X => (format!("https://x.com/eve/status/{n}"), None),
        Network::Linkedin => (
            format!("https://www.linkedin.com/feed/update/urn:li:share:{n}/"),
            None,
        ),
        Network::Mastodon => (
            format!("https://mastodon.test/@eve/{n}"),
            Some("mastodon.test".to_owned()),
        ),
        Network::Facebook => (format!("https://www.facebook.com/posts/{n}"), None),
    };
    NewShareRecord {
        share_id: format!("share-{n}-{}", network.as_str()),
        item_id: item.to_owned(),
        network,
        shared_at: Utc::now(),
        post_url: Some(post_url),
        proof: ShareProof::Verified,
        post_id: Some(match network {
            Network::Bluesky => format!("at://did:plc:eve/app.bsky.feed.post/{n}"),
            Network::Mastodon => format!("{n}"),
            _ => format!("post-{n}"),
        }),
        account_host,
        link_code: None,
        followers: None,
    }
}

/// A declared record (a share page was opened).
pub fn declared(item: &str, network: Network, n: usize) -> NewShareRecord {
    NewShareRecord {
        post_url: None,
        post_id: None,
        account_host: None,
        proof: ShareProof::Declared,
        ..verified(item, network, n)
    }
}

pub async fn record(client: &Client, record: &NewShareRecord) -> ShareRecord {
    client
        .send_ok(Method::POST, "/v1/shares", Some(record))
        .await
}
