//! Sources: real-world feeds served by a local HTTP server become drafts once, conditional
//! requests answer 304, duplicates across sources are dropped, bad feeds fail on the source
//! alone, and private addresses are refused unless allowed.

use std::time::Duration;

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::feeds::FeedServer;
use crate::harness::*;
use crate::newsroom::*;

crate::both_backends!(
    real_feeds_become_drafts_once,
    bad_sources_fail_alone_and_change_nothing,
    private_addresses_are_refused_unless_allowed,
    the_poller_polls_due_sources_by_itself,
    a_bluesky_account_is_read_from_its_pds,
);

fn options_for(feeds: &FeedServer) -> Options {
    let mut options = Options::default();
    options.sources.youtube_base = feeds.base.clone();
    options.sources.instance_scheme = "http".into();
    options
}

async fn add(room: &Newsroom, kind: SourceKind, address: &str, auto_publish: bool) -> Source {
    room.admin
        .send_ok(
            Method::POST,
            "/v1/sources",
            Some(&NewSource {
                kind,
                address: address.to_owned(),
                channel_id: room.news.id.clone(),
                auto_publish,
                interval_minutes: None,
            }),
        )
        .await
}

async fn poll(room: &Newsroom, source: &Source) -> PollReport {
    room.admin
        .send_ok::<(), _>(
            Method::POST,
            &format!("/v1/sources/{}/poll", source.id),
            None,
        )
        .await
}

async fn drafts(room: &Newsroom) -> Vec<CuratedContent> {
    room.admin.get("/v1/content?state=draft&limit=200").await
}

async fn real_feeds_become_drafts_once(backend: Backend) {
    let feeds = FeedServer::start().await;
    let room = Newsroom::with(backend, options_for(&feeds)).await;
    let employee = room.employee("Eve", "FR", "Sales").await;

    // Employees do not manage sources.
    let refused = employee.send::<()>(Method::GET, "/v1/sources", None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let blog = add(&room, SourceKind::Feed, &feeds.url("blog.rss"), false).await;
    let youtube = add(
        &room,
        SourceKind::Youtube,
        "UC7_gcs09iThXybpVgjHZ_7g",
        false,
    )
    .await;
    let mastodon = add(
        &room,
        SourceKind::Mastodon,
        &format!("@pdxjohnny@{}", feeds.addr),
        false,
    )
    .await;
    let json = add(&room, SourceKind::Feed, &feeds.url("blog.json"), false).await;
    assert_eq!(mastodon.address, format!("@pdxjohnny@{}", feeds.addr));
    let again = room
        .admin
        .send(
            Method::POST,
            "/v1/sources",
            Some(&NewSource {
                kind: SourceKind::Feed,
                address: feeds.url("blog.rss"),
                channel_id: room.news.id.clone(),
                auto_publish: false,
                interval_minutes: None,
            }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "a source is added once");

    let reports = [
        poll(&room, &blog).await,
        poll(&room, &youtube).await,
        poll(&room, &mastodon).await,
        poll(&room, &json).await,
    ];
    for report in &reports {
        assert_eq!(report.error, None, "{report:?}");
    }
    assert_eq!(reports[0].created, 1);
    assert_eq!(reports[1].created, 1);
    assert_eq!(reports[2].created, 2);
    assert!(reports[3].created >= 2, "{:?}", reports[3]);
    let inbox = drafts(&room).await;
    let total: u32 = reports.iter().map(|r| r.created).sum();
    assert_eq!(inbox.len() as u32, total);
    let find = |title: &str| {
        inbox
            .iter()
            .find(|c| c.item.title.contains(title))
            .unwrap_or_else(|| panic!("no draft {title:?} in {inbox:#?}"))
            .clone()
    };
    let video = find("Navigating with Quantum Entanglement");
    assert_eq!(video.item.kind, ContentKind::Video);
    assert_eq!(
        video.item.url,
        "https://www.youtube.com/watch?v=0A1ouV7iD8o"
    );
    assert_eq!(
        video.item.image_url.as_deref(),
        Some("https://i1.ytimg.com/vi/0A1ouV7iD8o/hqdefault.jpg")
    );
    let toot = find("RSS VEX feeds?");
    assert_eq!(toot.item.kind, ContentKind::SocialPost);
    assert_eq!(toot.item.language, "en");
    assert!(
        !toot.item.body_html.contains("target="),
        "{}",
        toot.item.body_html
    );
    let article = find("InfluxDB vs. Graphite");
    assert_eq!(article.item.language, "en", "the JSON Feed says en-US");
    assert_eq!(article.state, ContentState::Draft);

    // Health: fetched, entries counted, no error.
    let listed: Vec<Source> = room.admin.get("/v1/sources").await;
    assert_eq!(listed.len(), 4);
    let blog_now: Source = room.admin.get(&format!("/v1/sources/{}", blog.id)).await;
    assert_eq!(blog_now.health.entries, 1);
    assert!(blog_now.health.last_fetch_at.is_some());
    assert!(blog_now.health.last_new_entry_at.is_some());
    assert!(!blog_now.health.flagged);

    // Polled again: a conditional request answered 304, nothing new.
    let before = feeds.not_modified();
    let second = poll(&room, &blog).await;
    assert!(second.not_modified, "{second:?}");
    assert_eq!(feeds.not_modified(), before + 1);
    assert_eq!(drafts(&room).await.len() as u32, total);

    // The same article through another source (its link with tracking and other case) is a
    // duplicate; a redirected source reads its target, and finds nothing new either.
    let mirror = add(&room, SourceKind::Feed, &feeds.url("mirror.rss"), false).await;
    let mirrored = poll(&room, &mirror).await;
    assert_eq!(
        (mirrored.created, mirrored.duplicates),
        (0, 1),
        "{mirrored:?}"
    );
    let moved = add(&room, SourceKind::Feed, &feeds.url("moved.rss"), false).await;
    let followed = poll(&room, &moved).await;
    assert_eq!(
        (followed.created, followed.duplicates, followed.error),
        (0, 1, None)
    );
    // Five redirects are followed, as documented (a sixth is refused: see below).
    let far = add(&room, SourceKind::Feed, &feeds.url("hops-5.rss"), false).await;
    let followed = poll(&room, &far).await;
    assert_eq!(followed.error, None, "{followed:?}");

    // A page read from its OpenGraph tags, published directly: it reaches the employee.
    let page = add(&room, SourceKind::Page, &feeds.url("page.html"), true).await;
    let report = poll(&room, &page).await;
    assert_eq!(report.created, 1, "{report:?}");
    let mut replica = crate::replica::Replica::default();
    replica.sync(&employee, 100).await;
    let titles: Vec<&str> = replica.items.values().map(|i| i.title.as_str()).collect();
    assert_eq!(
        titles,
        vec!["We opened a new office in Lyon"],
        "drafts are not fed"
    );
    let lyon = replica.items.values().next().unwrap();
    assert_eq!(lyon.url, "https://company.example/news/lyon");
    assert_eq!(
        lyon.image_url.as_deref(),
        Some(format!("{}/img/lyon.jpg", feeds.base).as_str())
    );
}

async fn bad_sources_fail_alone_and_change_nothing(backend: Backend) {
    let feeds = FeedServer::start().await;
    let room = Newsroom::with(backend, options_for(&feeds)).await;
    for (name, expected) in [
        ("invalid.rss", "not a readable feed"),
        ("picture.rss", "image/png"),
        ("huge.rss", "larger than 5 MiB"),
        ("endless.rss", "larger than 5 MiB"),
        ("bomb.rss", "larger than 5 MiB"),
        ("loop.rss", "redirects"),
        ("hops-6.rss", "more than 5 redirects"),
        ("slow.rss", "no answer within"),
        ("broken.rss", "answered 500"),
        ("missing.rss", "answered 404"),
        ("laughs.rss", ""),
    ] {
        let source = add(&room, SourceKind::Feed, &feeds.url(name), false).await;
        let report = poll(&room, &source).await;
        let health: Source = room.admin.get(&format!("/v1/sources/{}", source.id)).await;
        if name == "laughs.rss" {
            // Entities are not expanded: either refused, or one entry with a short title.
            for draft in drafts(&room).await {
                assert!(draft.item.title.len() < 400, "{name}: {}", draft.item.title);
            }
            continue;
        }
        let error = report
            .error
            .clone()
            .unwrap_or_else(|| panic!("{name} should fail: {report:?}"));
        assert!(error.contains(expected), "{name}: {error}");
        assert_eq!(health.health.last_error.as_deref(), Some(error.as_str()));
        assert!(health.health.failing_since.is_some());
        assert!(!health.health.flagged, "failing for less than a day");
    }
    assert!(drafts(&room).await.len() <= 1, "bad feeds made no drafts");

    // Too busy: the next try waits as long as the source asked.
    let busy = add(&room, SourceKind::Feed, &feeds.url("busy.rss"), false).await;
    let report = poll(&room, &busy).await;
    assert!(report.error.unwrap().contains("429"));
    let health: Source = room.admin.get(&format!("/v1/sources/{}", busy.id)).await;
    let wait = health.health.next_poll_at.unwrap() - chrono::Utc::now();
    assert!(wait >= chrono::Duration::seconds(7000), "{wait}");

    // 20,000 entries at once: the 50 newest become drafts, every other one is remembered as
    // seen (none comes back as a draft later).
    let before = drafts(&room).await.len();
    let many = add(&room, SourceKind::Feed, &feeds.url("many.rss"), false).await;
    let report = poll(&room, &many).await;
    assert_eq!(
        (report.seen, report.created, report.skipped),
        (20_000, 50, 19_950)
    );
    let remembered: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM source_entries WHERE source_id = $1")
            .bind(&many.id)
            .fetch_one(&room.server.db().read)
            .await
            .unwrap();
    assert_eq!(remembered, 20_000);
    let inbox = drafts(&room).await;
    assert_eq!(inbox.len(), before + 50);
    assert!(inbox.iter().any(|c| c.item.title == "Entry number 0"));
    assert!(!inbox.iter().any(|c| c.item.title == "Entry number 50"));
    let again = poll(&room, &many).await;
    assert_eq!((again.created, again.skipped), (0, 0));

    // An entry repeated within one answer is gathered once.
    let repeats = add(&room, SourceKind::Feed, &feeds.url("repeats.rss"), false).await;
    let report = poll(&room, &repeats).await;
    assert_eq!(
        (report.seen, report.created, report.error.clone()),
        (3, 1, None),
        "{report:?}"
    );

    // Missing, future and garbled dates are no reason to fail; an entry without a link is.
    let dates = add(&room, SourceKind::Feed, &feeds.url("dates.rss"), false).await;
    let report = poll(&room, &dates).await;
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!((report.created, report.skipped), (3, 1), "{report:?}");
}

async fn private_addresses_are_refused_unless_allowed(backend: Backend) {
    let feeds = FeedServer::start().await;
    let internal = FeedServer::start().await;
    let mut options = options_for(&feeds);
    // Only the public-facing feed server is allowed, as an operator would list one host.
    options.sources.fetch.allow_private = false;
    options.sources.fetch.allowed = vec![feeds.addr];
    let room = Newsroom::with(backend, options).await;

    let allowed = add(&room, SourceKind::Feed, &feeds.url("blog.rss"), false).await;
    assert_eq!(poll(&room, &allowed).await.created, 1);

    for address in [
        internal.url("blog.rss"),
        format!("http://localhost:{}/feeds/blog.rss", internal.addr.port()),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::1]/feed".to_owned(),
    ] {
        let source = add(&room, SourceKind::Feed, &address, false).await;
        let report = poll(&room, &source).await;
        let error = report.error.unwrap_or_default();
        assert!(error.starts_with("refused"), "{address}: {error:?}");
    }
    // Through a redirect from the allowed server to the internal one: refused as well.
    let sneaky = format!("{}/redirect?to={}", feeds.base, internal.url("blog.rss"));
    let source = add(&room, SourceKind::Feed, &sneaky, false).await;
    let error = poll(&room, &source).await.error.unwrap_or_default();
    assert!(error.starts_with("refused"), "after a redirect: {error:?}");
    assert_eq!(
        internal.requests(),
        0,
        "the internal server was never reached"
    );
    assert_eq!(drafts(&room).await.len(), 1);
}

async fn the_poller_polls_due_sources_by_itself(backend: Backend) {
    let feeds = FeedServer::start().await;
    let mut options = options_for(&feeds);
    options.sources.poll_every = Some(Duration::from_millis(100));
    let room = Newsroom::with(backend, options).await;
    let source = add(&room, SourceKind::Feed, &feeds.url("blog.rss"), false).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let health: Source = room.admin.get(&format!("/v1/sources/{}", source.id)).await;
        if health.health.entries == 1 {
            assert!(health.health.next_poll_at.unwrap() > chrono::Utc::now());
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never polled: {health:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Paused, it is left alone; its next poll is not due for its interval anyway.
    let paused: Source = room
        .admin
        .send_ok(
            Method::PATCH,
            &format!("/v1/sources/{}", source.id),
            Some(&SourceUpdate {
                paused: Some(true),
                ..SourceUpdate::default()
            }),
        )
        .await;
    assert!(paused.paused);
    assert_eq!(paused.health.next_poll_at, None);
    let requests = feeds.requests();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(feeds.requests(), requests);
    assert_eq!(drafts(&room).await.len(), 1);
}

/// A Bluesky account on a real PDS: its handle resolved to its DID and PDS (through the PLC
/// directory), its posts read with `listRecords`.
async fn a_bluesky_account_is_read_from_its_pds(backend: Backend) {
    let Some(pds) = crate::pds::Pds::start() else {
        return;
    };
    let account = pds
        .create_account("comms-team.test", "comms-password-1")
        .await;
    pds.create_record(
        &account,
        serde_json::json!({
            "$type": "app.bsky.feed.post",
            "text": "Our results are out",
            "langs": ["en"],
            "createdAt": chrono::Utc::now().to_rfc3339(),
            "embed": {
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": "https://company.example/news/results",
                    "title": "Quarterly results",
                    "description": "Growth in every region.",
                },
            },
        }),
    )
    .await;
    pds.create_record(
        &account,
        serde_json::json!({
            "$type": "app.bsky.feed.post",
            "text": "Bonjour à toutes et à tous, l'équipe communication vous souhaite une excellente semaine.",
            "createdAt": (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
        }),
    )
    .await;
    let mut options = Options::default();
    options.sources.bluesky_resolver = pds.url.clone();
    options.sources.plc_directory = pds.plc.clone();
    let room = Newsroom::with(backend, options).await;

    let source = add(&room, SourceKind::Bluesky, "@comms-team.test", false).await;
    assert_eq!(source.address, "@comms-team.test");
    assert!(
        source.fetch_url.contains(&account.did),
        "{}",
        source.fetch_url
    );
    let report = poll(&room, &source).await;
    assert_eq!(
        (report.created, report.error.clone()),
        (2, None),
        "{report:?}"
    );
    let inbox = drafts(&room).await;
    let card = inbox
        .iter()
        .find(|c| c.item.title == "Quarterly results")
        .expect("the link card's post");
    assert_eq!(card.item.url, "https://company.example/news/results");
    assert_eq!(card.item.summary, "Growth in every region.");
    assert_eq!(card.item.kind, ContentKind::SocialPost);
    let plain = inbox
        .iter()
        .find(|c| c.item.title.starts_with("Bonjour"))
        .expect("the plain post");
    assert!(plain
        .item
        .url
        .starts_with("https://bsky.app/profile/comms-team.test/post/"));
    assert_eq!(plain.item.language, "fr", "detected");
    assert_eq!(poll(&room, &source).await.created, 0, "read once");

    let unknown = room
        .admin
        .send(
            Method::POST,
            "/v1/sources",
            Some(&NewSource {
                kind: SourceKind::Bluesky,
                address: "@nobody.test".into(),
                channel_id: room.news.id.clone(),
                auto_publish: false,
                interval_minutes: None,
            }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown
            .problem()
            .detail
            .unwrap_or_default()
            .contains("nobody.test"),
        "{unknown:?}"
    );
}
