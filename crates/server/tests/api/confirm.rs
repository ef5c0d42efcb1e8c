//! Shares the server confirms, attacked as an employee with `curl` would: a post the server
//! reads on a real Bluesky PDS (its DID resolved through the real PLC directory) or on a stub of
//! Mastodon's documented API (no Mastodon server installs here), forged, borrowed and backdated
//! posts, a post on another person's account, follower counts, share-then-delete; and what
//! scores when the server cannot read the post at all (attested shares), or when the device
//! dates its declared shares.

use chrono::{Duration, Utc};
use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::*;
use crate::newsroom::*;
use crate::pds::{Pds, PdsAccount};

crate::both_backends!(
    bluesky_posts_count_once_the_server_has_read_them,
    mastodon_statuses_are_read_on_their_own_server,
    attested_shares_count_as_declared_unless_the_month_trusts_them,
    the_daily_cap_counts_the_day_a_record_arrives
);

/// Waits until the caller's share `share_id` has left `pending` (the confirmer runs every
/// 200 ms here), or, with `withdrawn`, until it is withdrawn.
async fn settled(client: &Client, share_id: &str, withdrawn: bool) -> ShareRecord {
    for _ in 0..150 {
        let mine: Vec<ShareRecord> = client.get("/v1/shares").await;
        if let Some(r) = mine.into_iter().find(|r| r.share_id == share_id) {
            let done = if withdrawn {
                r.withdrawn_at.is_some()
            } else {
                r.status != ShareStatus::Pending
            };
            if done {
                return r;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("share {share_id} was not settled in 15 s");
}

async fn link(client: &Client, item: &str, network: Network) -> TrackedLink {
    client
        .send_ok(
            Method::POST,
            "/v1/links",
            Some(&NewLink {
                item_id: item.into(),
                network,
            }),
        )
        .await
}

/// A post on `account` with `text`, a link facet on `link` when given, made `ago` before now;
/// its at:// address.
async fn post(
    pds: &Pds,
    account: &PdsAccount,
    text: &str,
    link: Option<&str>,
    ago: Duration,
) -> String {
    let mut record = json!({
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": (Utc::now() - ago).to_rfc3339(),
    });
    if let Some(link) = link {
        let start = text.find(link).expect("the link is in the text");
        record["facets"] = json!([{
            "index": {"byteStart": start, "byteEnd": start + link.len()},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": link}],
        }]);
    }
    pds.create_record(account, record).await["uri"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn bluesky(item: &str, share_id: &str, uri: &str, code: Option<&str>) -> NewShareRecord {
    NewShareRecord {
        share_id: share_id.into(),
        item_id: item.into(),
        network: Network::Bluesky,
        shared_at: Utc::now(),
        post_url: None,
        proof: ShareProof::Verified,
        post_id: Some(uri.into()),
        account_host: None,
        link_code: code.map(Into::into),
        // The device's own figure: kept, never reach.
        followers: Some(9_000_000_000),
    }
}

async fn bluesky_posts_count_once_the_server_has_read_them(backend: Backend) {
    let Some(pds) = Pds::start() else {
        return;
    };
    let mut options = Options::default();
    options.sources.plc_directory = pds.plc.clone();
    // No AppView runs here: follower counts stay unknown rather than guessed.
    options.sources.bluesky_appview = "http://127.0.0.1:9".into();
    let room = Newsroom::with(backend, options).await;
    let item = room.item("Our new plant").await;
    room.published_at(&item, Utc::now() - Duration::days(2))
        .await;
    let eve = room.employee("Eve", "FR", "Sales").await;
    let sam = room.employee("Sam", "FR", "Sales").await;
    let eves_account = pds.create_account("eve.test", "eve-password-1").await;
    let sams_account = pds.create_account("sam.test", "sam-password-1").await;
    let company = pds
        .create_account("contoso.test", "contoso-password-1")
        .await;

    // Eve posts with her tracked link: pending, then confirmed by the server's own reading.
    let eves_link = link(&eve, &item, Network::Bluesky).await;
    let text = format!("Our new plant {}", eves_link.url);
    let uri = post(
        &pds,
        &eves_account,
        &text,
        Some(&eves_link.url),
        Duration::zero(),
    )
    .await;
    let recorded = record(&eve, &bluesky(&item, "eve-1", &uri, Some(&eves_link.code))).await;
    assert_eq!(
        (recorded.status, recorded.points),
        (ShareStatus::Pending, 0)
    );
    let confirmed = settled(&eve, "eve-1", false).await;
    assert_eq!(
        (confirmed.status, confirmed.points),
        (ShareStatus::Confirmed, 10),
        "{confirmed:?}"
    );
    let (followers, reported, account): (Option<i64>, Option<i64>, Option<String>) = sqlx::query_as(
        "SELECT followers, reported_followers, account_key FROM shares WHERE share_id = 'eve-1'",
    )
    .fetch_one(&room.server.db().read)
    .await
    .unwrap();
    assert_eq!(
        followers, None,
        "no public profile read: no reach, not the device's"
    );
    assert_eq!(reported, Some(9_000_000_000));
    assert_eq!(account.as_deref(), Some(eves_account.did.as_str()));

    // Sam borrows Eve's post: a post counts once.
    let borrowed = sam
        .send(
            Method::POST,
            "/v1/shares",
            Some(&bluesky(&item, "sam-1", &uri, None)),
        )
        .await;
    assert_eq!(borrowed.status, StatusCode::CONFLICT, "{borrowed:?}");
    // Sam's link, posted on Eve's account (bound to Eve by her first post): rejected.
    let sams_link = link(&sam, &item, Network::Bluesky).await;
    let text = format!("Look {}", sams_link.url);
    let on_eves = post(
        &pds,
        &eves_account,
        &text,
        Some(&sams_link.url),
        Duration::zero(),
    )
    .await;
    record(
        &sam,
        &bluesky(&item, "sam-2", &on_eves, Some(&sams_link.code)),
    )
    .await;
    let rejected = settled(&sam, "sam-2", false).await;
    assert_eq!(
        (rejected.status, rejected.points),
        (ShareStatus::Rejected, 0)
    );
    assert!(
        rejected
            .status_reason
            .as_deref()
            .unwrap_or("")
            .contains("another person"),
        "{rejected:?}"
    );
    // A post that does not exist.
    let forged = format!("at://{}/app.bsky.feed.post/3kforged22", sams_account.did);
    record(&sam, &bluesky(&item, "sam-3", &forged, None)).await;
    let rejected = settled(&sam, "sam-3", false).await;
    assert_eq!(
        (rejected.status, rejected.points),
        (ShareStatus::Rejected, 0)
    );
    // The company's own post of the item, claimed by Sam: a real post, but nothing says Sam made
    // it: declared at most.
    let official_text = "Our new plant https://news.example.com/our-new-plant";
    let official = post(
        &pds,
        &company,
        official_text,
        Some("https://news.example.com/our-new-plant"),
        Duration::zero(),
    )
    .await;
    record(&sam, &bluesky(&item, "sam-4", &official, None)).await;
    let declared = settled(&sam, "sam-4", false).await;
    assert_eq!(
        (declared.status, declared.points),
        (ShareStatus::Declared, 3),
        "{declared:?}"
    );
    // A real post of Sam's with his link, dated by his device to yesterday: the post says when
    // it was made.
    let item2 = room.item("Second story").await;
    room.published_at(&item2, Utc::now() - Duration::days(2))
        .await;
    let sams_link2 = link(&sam, &item2, Network::Bluesky).await;
    let text = format!("Second {}", sams_link2.url);
    let fresh = post(
        &pds,
        &sams_account,
        &text,
        Some(&sams_link2.url),
        Duration::zero(),
    )
    .await;
    let backdated = NewShareRecord {
        shared_at: Utc::now() - Duration::days(1),
        ..bluesky(&item2, "sam-5", &fresh, Some(&sams_link2.code))
    };
    record(&sam, &backdated).await;
    let rejected = settled(&sam, "sam-5", false).await;
    assert_eq!(
        (rejected.status, rejected.points),
        (ShareStatus::Rejected, 0)
    );
    // Sam's points: the declared one only.
    let mine: MyProgramme = sam.get("/v1/programme/me").await;
    assert_eq!((mine.points, mine.verified_shares), (3, 0));
    let statuses: Vec<ShareStatus> = mine.shares.iter().map(|s| s.status).collect();
    assert!(statuses.contains(&ShareStatus::Rejected) && statuses.contains(&ShareStatus::Declared));

    // Eve deletes her post after it was confirmed: the server's next reading withdraws it.
    let rkey = uri.rsplit('/').next().unwrap();
    pds.delete_post(&eves_account, rkey).await;
    let withdrawn = settled(&eve, "eve-1", true).await;
    assert_eq!(withdrawn.status, ShareStatus::Confirmed);
    let mine: MyProgramme = eve.get("/v1/programme/me").await;
    assert_eq!((mine.points, mine.verified_shares), (0, 0));
}

async fn mastodon_statuses_are_read_on_their_own_server(backend: Backend) {
    let (mastodon, url) = crate::mastodon_stub::MastodonStub::start(500).await;
    let host = url.trim_start_matches("http://").to_owned();
    let mut options = Options::default();
    options.sources.instance_scheme = "http".into();
    let room = Newsroom::with(backend, options).await;
    let item = room.item("Our new plant").await;
    room.published_at(&item, Utc::now() - Duration::days(2))
        .await;
    let eve = room.employee("Eve", "FR", "Sales").await;
    let toot = |share_id: &str, id: &str, code: Option<&str>| NewShareRecord {
        share_id: share_id.into(),
        item_id: item.clone(),
        network: Network::Mastodon,
        shared_at: Utc::now(),
        post_url: None,
        proof: ShareProof::Verified,
        post_id: Some(id.into()),
        account_host: Some(host.clone()),
        link_code: code.map(Into::into),
        followers: Some(10_000_000_000),
    };

    // A public status with Eve's link: confirmed, reach from the status's own account.
    let eves_link = link(&eve, &item, Network::Mastodon).await;
    let id = mastodon.publish(
        "eve",
        &format!("Read this {}", eves_link.url),
        "public",
        321,
        Duration::zero(),
    );
    record(&eve, &toot("eve-1", &id, Some(&eves_link.code))).await;
    let confirmed = settled(&eve, "eve-1", false).await;
    assert_eq!(
        (confirmed.status, confirmed.points),
        (ShareStatus::Confirmed, 10)
    );
    let (followers, reported): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT followers, reported_followers FROM shares WHERE share_id = 'eve-1'")
            .fetch_one(&room.server.db().read)
            .await
            .unwrap();
    assert_eq!(
        (followers, reported),
        (Some(321), Some(10_000_000_000)),
        "reach is what the server read; the device's figure is kept apart"
    );

    // A private status, another server's status shown here, and an unknown id: no points.
    let item2 = room.item("Second").await;
    room.published_at(&item2, Utc::now() - Duration::days(2))
        .await;
    let link2 = link(&eve, &item2, Network::Mastodon).await;
    let private = mastodon.publish(
        "eve",
        &format!("Psst {}", link2.url),
        "private",
        321,
        Duration::zero(),
    );
    let remote = mastodon.publish(
        "eve@elsewhere.test",
        &format!("Hi {}", link2.url),
        "public",
        9,
        Duration::zero(),
    );
    for (share_id, status) in [
        ("eve-2", private.as_str()),
        ("eve-3", remote.as_str()),
        ("eve-4", "99999"),
    ] {
        record(
            &eve,
            &NewShareRecord {
                item_id: item2.clone(),
                ..toot(share_id, status, Some(&link2.code))
            },
        )
        .await;
        let r = settled(&eve, share_id, false).await;
        assert_eq!(
            (r.status, r.points),
            (ShareStatus::Rejected, 0),
            "{share_id}: {r:?}"
        );
    }

    // Share-then-delete: gone from the server, gone from the ledger.
    mastodon.delete_status(&id);
    settled(&eve, "eve-1", true).await;
    let mine: MyProgramme = eve.get("/v1/programme/me").await;
    assert_eq!(mine.points, 0);
}

async fn attested_shares_count_as_declared_unless_the_month_trusts_them(backend: Backend) {
    let room = Newsroom::new(backend).await;
    // This organisation does not trust attested shares this month (the default).
    let month = Utc::now().format("%Y-%m").to_string();
    sqlx::query(
        "INSERT INTO points_rules (org_id, from_month, rules, set_at) VALUES ($1, $2, $3, 0)",
    )
    .bind(&room.org.id)
    .bind(&month)
    .bind(serde_json::to_string(&PointsRules::default()).unwrap())
    .execute(&room.server.db().write)
    .await
    .unwrap();
    let mallory = room.employee("Mallory", "FR", "Sales").await;
    let item = room.item("Story").await;
    // A forged X record, with a follower count out of nowhere: the device's word, scored as a
    // declared share, no reach.
    let forged = NewShareRecord {
        followers: Some(9_999_999_999),
        ..verified(&item, Network::X, 1)
    };
    let r = record(&mallory, &forged).await;
    assert_eq!((r.status, r.points), (ShareStatus::Attested, 3));
    let mine: MyProgramme = mallory.get("/v1/programme/me").await;
    assert_eq!((mine.verified_shares, mine.declared_shares), (0, 1));
    assert!(!mine.rules.trust_attested, "every employee sees the rule");
    let figures: Vec<MonthFigures> = room.admin.get("/v1/analytics/months?months=1").await;
    assert_ne!(figures[0].verified, Some(1));
}

async fn the_daily_cap_counts_the_day_a_record_arrives(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let mallory = room.employee("Mallory", "FR", "Sales").await;
    let mut scored = 0;
    // Fifteen declared shares dated to earlier days of the month, all sent today.
    for n in 0..15 {
        let item = room.item(&format!("Story {n}")).await;
        room.published_at(&item, Utc::now() - Duration::days(40))
            .await;
        let r = record(
            &mallory,
            &NewShareRecord {
                shared_at: Utc::now() - Duration::hours(20 * (n as i64 % 3)),
                ..declared(&item, Network::Facebook, n)
            },
        )
        .await;
        scored += usize::from(r.points > 0);
    }
    assert_eq!(scored, 5, "five a day, the day the server received them");
}
