//! Push notifications for new content, over real HTTP to a real Web Push receiver (payloads
//! decrypted here) and to stubs of FCM and APNs: one batched notification per device, in the
//! person's language, quiet hours and pause respected, gone subscriptions removed, throttled
//! ones retried, and several server instances sending each notification once.

use std::time::Duration;

use relay_protocol::*;
use relay_server::db::Backend;
use relay_server::push::{PushSettings, WebPushConfig};
use reqwest::{Method, StatusCode};

use crate::harness::{article, Client, Options, Server, TestDb};
use crate::push_peers::{ApnsStub, FcmStub, WebPushReceiver};

crate::both_backends!(
    a_burst_of_approvals_is_one_encrypted_notification_per_device_in_each_language,
    quiet_hours_hold_notifications_and_a_pause_drops_them,
    gone_subscriptions_are_removed_and_throttled_ones_retried,
    fcm_and_apns_receive_their_documented_requests,
    registrations_are_checked,
    an_endpoint_leading_to_an_internal_address_is_never_reached,
);

/// The batch window in tests: long enough to gather a burst, short enough to wait for.
const WINDOW: Duration = Duration::from_millis(1500);

fn settings(receiver_vapid: &WebPushConfig) -> PushSettings {
    PushSettings {
        web_push: Some(receiver_vapid.clone()),
        batch_window: WINDOW,
        tick: Duration::from_millis(100),
        retry_base: Duration::from_millis(200),
        local_endpoints: true,
        ..Default::default()
    }
}

fn vapid() -> WebPushConfig {
    let (private_key, _) = WebPushConfig::generate();
    WebPushConfig {
        private_key,
        subject: "mailto:push@relay.test".into(),
    }
}

struct Cast {
    _db: TestDb,
    server: Server,
    org: Org,
    news: Channel,
    curator: Client,
}

async fn cast(backend: Backend, push: PushSettings) -> Cast {
    let db = TestDb::new(backend).await;
    let server = Server::start_with(
        &db,
        Options {
            push,
            ..Default::default()
        },
    )
    .await;
    let org = server.org("acme").await;
    let news = server.channel(&org, "news").await;
    let curator = server
        .person(&org, "Cora Curator", Role::Curator, "FR", "fr", "Comms")
        .await;
    Cast {
        _db: db,
        server,
        org,
        news,
        curator,
    }
}

/// Switches quiet hours off (tests run at any hour).
async fn awake(client: &Client) {
    set_prefs(client, None, "00:00", "00:00", Some("UTC")).await;
}

async fn set_prefs(
    client: &Client,
    paused_until: Option<chrono::DateTime<chrono::Utc>>,
    start: &str,
    end: &str,
    zone: Option<&str>,
) -> NotificationPrefs {
    client
        .send_ok(
            Method::PUT,
            "/v1/me/notifications",
            Some(&NotificationPrefs {
                paused_until,
                quiet_hours: QuietHours {
                    start: start.into(),
                    end: end.into(),
                },
                time_zone: zone.map(str::to_owned),
            }),
        )
        .await
}

async fn register(client: &Client, channel: &PushChannel) {
    let answer = client.send(Method::PUT, "/v1/me/push", Some(channel)).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{answer:?}");
}

/// Waits until `count()` reaches `n` (or fails after 20 s), then a batch window more to see
/// that nothing else comes.
async fn settle(n: usize, count: impl Fn() -> usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while count() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {n} notifications",
            count()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(WINDOW + Duration::from_millis(700)).await;
    assert_eq!(count(), n, "exactly {n} notifications");
}

async fn a_burst_of_approvals_is_one_encrypted_notification_per_device_in_each_language(
    backend: Backend,
) {
    let keys = vapid();
    let receiver = WebPushReceiver::start(&keys.public_key().unwrap()).await;
    let c = cast(backend, settings(&keys)).await;
    let config: PushConfig = c.curator.get("/v1/push/config").await;
    assert_eq!(config.kinds, [PushKind::WebPush]);
    assert_eq!(config.vapid_public_key, Some(keys.public_key().unwrap()));

    // Amélie (French, in France) on a phone and a laptop; Bob (English, in Germany) on one.
    let amelie = c
        .server
        .person(&c.org, "Amelie", Role::Employee, "FR", "fr", "Sales")
        .await;
    let amelie_laptop = c.server.enrol(&c.org, &amelie.person().id).await;
    let bob = c
        .server
        .person(&c.org, "Bob", Role::Employee, "DE", "en", "Sales")
        .await;
    // The default: quiet from 21:00 to 08:00, not paused.
    let prefs: NotificationPrefs = bob.get("/v1/me/notifications").await;
    assert_eq!(
        (
            prefs.quiet_hours.start.as_str(),
            prefs.quiet_hours.end.as_str()
        ),
        ("21:00", "08:00")
    );
    assert_eq!(prefs.paused_until, None);
    for (client, id) in [
        (&amelie, "amelie-phone"),
        (&amelie_laptop, "amelie-laptop"),
        (&bob, "bob"),
    ] {
        awake(client).await;
        register(client, &receiver.subscribe(id)).await;
    }

    // Three approvals within a few moments: one notification per device.
    let mut ids = Vec::new();
    for title in ["First story", "Second story", "Third story"] {
        ids.push(c.curator.publish(&article(&c.news, title)).await.item.id);
    }
    settle(3, || receiver.log.delivered().len()).await;
    let log = receiver.log.delivered();
    let to = |who: &str| {
        log.iter()
            .find(|r| r.to == who)
            .unwrap()
            .payload
            .clone()
            .unwrap()
    };
    for device in ["amelie-phone", "amelie-laptop"] {
        let payload = to(device);
        assert_eq!(payload.title, "3 nouveaux contenus à partager");
        assert_eq!(payload.open, "relay://feed");
        let mut items = payload.items.clone();
        items.sort();
        let mut expected = ids.clone();
        expected.sort();
        assert_eq!(items, expected);
    }
    assert_eq!(to("bob").title, "3 new stories to share");

    // One item for France only: one notification per French device, its title, a tap opens it.
    let mut for_france = article(&c.news, "Nouvelle usine à Lyon");
    for_france.audience.countries = vec!["FR".into()];
    let item = c.curator.publish(&for_france).await;
    settle(5, || receiver.log.delivered().len()).await;
    let log = receiver.log.delivered();
    for r in &log[3..] {
        assert!(r.to.starts_with("amelie"), "{r:?}");
        let payload = r.payload.as_ref().unwrap();
        assert_eq!(payload.title, "Nouvelle usine à Lyon");
        assert_eq!(payload.items, vec![item.item.id.clone()]);
        assert_eq!(payload.open, format!("relay://item/{}", item.item.id));
        // The id and the title only: nothing else of the content.
        assert_eq!(r.raw.as_object().unwrap().len(), 3, "{:?}", r.raw);
    }

    // Editing a live item, or widening its audience to people already told, tells no one;
    // widening it to Germany tells Bob only.
    let answer = c
        .curator
        .send(
            Method::PATCH,
            &format!("/v1/content/{}", item.item.id),
            Some(&serde_json::json!({
                "title": "Nouvelle usine à Lyon (photos)",
                "audience": { "countries": ["FR", "DE"] },
            })),
        )
        .await;
    assert!(answer.status.is_success(), "{answer:?}");
    settle(6, || receiver.log.delivered().len()).await;
    let last = receiver.log.delivered().pop().unwrap();
    assert_eq!(last.to, "bob");
    assert_eq!(last.payload.unwrap().items, vec![item.item.id.clone()]);

    // Nothing about the push channels' keys reaches the logs of the database's other tables:
    // the VAPID private key is configuration only.
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM push_channels WHERE address LIKE $1 OR p256dh LIKE $1 OR auth LIKE $1",
    )
    .bind(format!("%{}%", keys.private_key))
    .fetch_one(&c.server.db().read)
    .await
    .unwrap();
    assert_eq!(stored, 0);
}

async fn quiet_hours_hold_notifications_and_a_pause_drops_them(backend: Backend) {
    let keys = vapid();
    let receiver = WebPushReceiver::start(&keys.public_key().unwrap()).await;
    let c = cast(backend, settings(&keys)).await;
    let eve = c
        .server
        .person(&c.org, "Eve", Role::Employee, "FR", "fr", "Sales")
        .await;
    register(&eve, &receiver.subscribe("eve")).await;

    // Quiet hours around now, in Eve's time zone (Tokyo: not the organisation's).
    let tokyo: chrono_tz::Tz = "Asia/Tokyo".parse().unwrap();
    let now = chrono::Utc::now();
    let local = now.with_timezone(&tokyo);
    let clock = |t: chrono::DateTime<chrono_tz::Tz>| t.format("%H:%M").to_string();
    let start = clock(local - chrono::Duration::hours(1));
    let end = clock(local + chrono::Duration::hours(1));
    set_prefs(&eve, None, &start, &end, Some("Asia/Tokyo")).await;
    let held = c.curator.publish(&article(&c.news, "Held overnight")).await;
    tokio::time::sleep(WINDOW * 2 + Duration::from_millis(500)).await;
    assert!(receiver.log.all().is_empty(), "nothing during quiet hours");
    let due: i64 = sqlx::query_scalar("SELECT due_at FROM push_pending WHERE item_id = $1")
        .bind(&held.item.id)
        .fetch_one(&c.server.db().read)
        .await
        .unwrap();
    // Quiet hours are set to the minute, so they end at the start of the minute an hour from
    // now (a fixed "now + 59 minutes" failed when the test ran in a minute's last seconds).
    let expected_end = chrono::DurationRound::duration_trunc(
        now + chrono::Duration::hours(1),
        chrono::Duration::minutes(1),
    )
    .unwrap();
    assert!(
        due >= expected_end.timestamp_millis(),
        "put off until quiet hours end"
    );

    // Quiet hours over (switched off here): what waited comes, once.
    set_prefs(&eve, None, "00:00", "00:00", Some("Asia/Tokyo")).await;
    settle(1, || receiver.log.delivered().len()).await;
    assert_eq!(
        receiver.log.delivered()[0].payload.as_ref().unwrap().items,
        vec![held.item.id.clone()]
    );

    // Paused (from any device: the pause is the person's): what arrives is not announced, then
    // or later.
    let until = chrono::Utc::now() + chrono::Duration::hours(1);
    let prefs = set_prefs(&eve, Some(until), "00:00", "00:00", Some("Asia/Tokyo")).await;
    assert!(prefs.paused_until.is_some());
    let other_device = c.server.enrol(&c.org, &eve.person().id).await;
    let seen: NotificationPrefs = other_device.get("/v1/me/notifications").await;
    assert_eq!(seen.paused_until, prefs.paused_until);
    c.curator
        .publish(&article(&c.news, "During the pause"))
        .await;
    tokio::time::sleep(WINDOW * 2 + Duration::from_millis(500)).await;
    assert_eq!(receiver.log.all().len(), 1, "nothing while paused");
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM push_pending")
        .fetch_one(&c.server.db().read)
        .await
        .unwrap();
    assert_eq!(waiting, 0, "what came during the pause is dropped");
    set_prefs(&eve, None, "00:00", "00:00", None).await;
    let after = c
        .curator
        .publish(&article(&c.news, "After the pause"))
        .await;
    settle(2, || receiver.log.delivered().len()).await;
    assert_eq!(
        receiver.log.delivered()[1].payload.as_ref().unwrap().items,
        [after.item.id]
    );
}

async fn gone_subscriptions_are_removed_and_throttled_ones_retried(backend: Backend) {
    let keys = vapid();
    let receiver = WebPushReceiver::start(&keys.public_key().unwrap()).await;
    let c = cast(backend, settings(&keys)).await;
    let mut devices = Vec::new();
    for name in ["gone", "expired", "throttled", "failing", "fine"] {
        let person = c
            .server
            .person(&c.org, name, Role::Employee, "FR", "en", "Sales")
            .await;
        awake(&person).await;
        register(&person, &receiver.subscribe(name)).await;
        devices.push(person);
    }
    {
        let mut script = receiver.script.lock().unwrap();
        script.insert("gone".into(), vec![(410, None)]);
        script.insert("expired".into(), vec![(404, None)]);
        script.insert("throttled".into(), vec![(429, Some(1))]);
        script.insert("failing".into(), vec![(503, None), (503, None)]);
    }
    let started = tokio::time::Instant::now();
    c.curator.publish(&article(&c.news, "Retry me")).await;
    // fine once; throttled twice (one 429, one 201); failing three times; gone and expired once.
    settle(8, || receiver.log.all().len()).await;
    let log = receiver.log.all();
    let attempts = |who: &str| log.iter().filter(|r| r.to == who).count();
    assert_eq!(
        ["gone", "expired", "throttled", "failing", "fine"].map(attempts),
        [1, 1, 2, 3, 1]
    );
    let delivered: Vec<String> = receiver.log.delivered().into_iter().map(|r| r.to).collect();
    assert!(
        delivered.contains(&"throttled".to_owned()) && delivered.contains(&"failing".to_owned())
    );
    // Retry-After: 1 was honoured.
    assert!(started.elapsed() >= WINDOW + Duration::from_secs(1));
    let channels: Vec<String> = sqlx::query_scalar("SELECT device_id FROM push_channels")
        .fetch_all(&c.server.db().read)
        .await
        .unwrap();
    assert_eq!(
        channels.len(),
        3,
        "the gone and expired subscriptions are removed"
    );
    assert!(!channels.contains(&devices[0].device_id().to_owned()));
    assert!(!channels.contains(&devices[1].device_id().to_owned()));
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM push_deliveries")
        .fetch_one(&c.server.db().read)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

async fn fcm_and_apns_receive_their_documented_requests(backend: Backend) {
    let fcm = FcmStub::start().await;
    let apns = ApnsStub::start().await;
    let push = PushSettings {
        fcm: Some(fcm.config()),
        apns: Some(apns.config()),
        batch_window: WINDOW,
        tick: Duration::from_millis(100),
        retry_base: Duration::from_millis(200),
        ..Default::default()
    };
    let c = cast(backend, push).await;
    let channels = [
        PushChannel::Fcm {
            token: "android-ok".into(),
        },
        PushChannel::Fcm {
            token: "android-gone".into(),
        },
        PushChannel::Apns {
            token: "a1b2c3".into(),
        },
        PushChannel::Apns {
            token: "dead00".into(),
        },
    ];
    for (i, channel) in channels.iter().enumerate() {
        let person = c
            .server
            .person(
                &c.org,
                &format!("Phone {i}"),
                Role::Employee,
                "FR",
                "fr",
                "Sales",
            )
            .await;
        awake(&person).await;
        register(&person, channel).await;
    }
    fcm.script
        .lock()
        .unwrap()
        .insert("android-gone".into(), vec![(404, None)]);
    fcm.script
        .lock()
        .unwrap()
        .insert("android-ok".into(), vec![(429, Some(1))]);
    apns.script
        .lock()
        .unwrap()
        .insert("dead00".into(), vec![(410, None)]);
    let item = c.curator.publish(&article(&c.news, "Sur mobile")).await;
    settle(2, || fcm.log.delivered().len() + apns.log.delivered().len()).await;

    let android = fcm.log.delivered();
    assert_eq!(android.len(), 1);
    assert_eq!(android[0].to, "android-ok");
    assert_eq!(
        android[0].raw["message"]["notification"]["title"],
        "Sur mobile"
    );
    assert_eq!(
        android[0].raw["message"]["data"]["open"],
        format!("relay://item/{}", item.item.id)
    );
    assert_eq!(
        fcm.log
            .all()
            .iter()
            .filter(|r| r.to == "android-ok")
            .count(),
        2,
        "429 retried"
    );
    // One access token served every request.
    assert_eq!(fcm.tokens_issued.lock().unwrap().len(), 1);

    let iphone = apns.log.delivered();
    assert_eq!(iphone.len(), 1);
    assert_eq!(iphone[0].to, "a1b2c3");
    assert_eq!(iphone[0].raw["aps"]["alert"]["title"], "Sur mobile");
    assert_eq!(iphone[0].raw["items"], serde_json::json!([item.item.id]));

    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT address FROM push_channels ORDER BY address")
            .fetch_all(&c.server.db().read)
            .await
            .unwrap();
    assert_eq!(
        kinds,
        ["a1b2c3", "android-ok"],
        "unregistered tokens are removed"
    );
}

/// Several instances run over PostgreSQL (one SQLite file has one server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_over_postgres_send_each_notification_once() {
    if crate::harness::postgres_available().await {
        two_instances_send_each_notification_once(Backend::Postgres).await
    }
}

async fn two_instances_send_each_notification_once(backend: Backend) {
    let keys = vapid();
    let receiver = WebPushReceiver::start(&keys.public_key().unwrap()).await;
    let c = cast(backend, settings(&keys)).await;
    let second = Server::start_with(
        &c._db,
        Options {
            push: settings(&keys),
            ..Default::default()
        },
    )
    .await;
    for i in 0..12 {
        let person = c
            .server
            .person(
                &c.org,
                &format!("Person {i}"),
                Role::Employee,
                "FR",
                "en",
                "Sales",
            )
            .await;
        awake(&person).await;
        register(&person, &receiver.subscribe(&format!("device-{i}"))).await;
    }
    // Approvals on both instances, in a burst.
    let mut other_curator = c.curator.clone();
    other_curator.base = second.base.clone();
    for i in 0..4 {
        let curator = if i % 2 == 0 {
            &c.curator
        } else {
            &other_curator
        };
        curator
            .publish(&article(&c.news, &format!("Story {i}")))
            .await;
    }
    settle(12, || receiver.log.all().len()).await;
    let mut to: Vec<String> = receiver.log.all().into_iter().map(|r| r.to).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 12, "each device told once");
    for r in receiver.log.all() {
        assert_eq!(r.payload.unwrap().items.len(), 4);
    }
}

/// A server delivering only to public https endpoints (as in production), Eve on it, and a
/// local receiver's subscription for her.
async fn public_endpoints_only(backend: Backend) -> (Cast, WebPushReceiver, Client, PushChannel) {
    let keys = vapid();
    let receiver = WebPushReceiver::start(&keys.public_key().unwrap()).await;
    let mut push = settings(&keys);
    push.local_endpoints = false;
    let c = cast(backend, push).await;
    let eve = c
        .server
        .person(&c.org, "Eve", Role::Employee, "FR", "fr", "Sales")
        .await;
    let subscription = receiver.subscribe("eve");
    (c, receiver, eve, subscription)
}

async fn registrations_are_checked(backend: Backend) {
    let (c, _receiver, eve, subscription) = public_endpoints_only(backend).await;
    let PushChannel::WebPush { p256dh, auth, .. } = subscription else {
        unreachable!()
    };
    let web = |endpoint: &str, p256dh: &str, auth: &str| PushChannel::WebPush {
        endpoint: endpoint.into(),
        p256dh: p256dh.into(),
        auth: auth.into(),
    };
    for (channel, says) in [
        (web("http://push.example/sub", &p256dh, &auth), "https"),
        (web("https://push.example/sub", "AAAA", &auth), "p256dh"),
        (web("https://push.example/sub", &p256dh, "AAAA"), "auth"),
        (
            PushChannel::Fcm { token: "t".into() },
            "does not deliver through fcm",
        ),
        // The server connects where the device says: never to an internal address.
        (
            web("https://127.0.0.1:8443/sub", &p256dh, &auth),
            "public host",
        ),
        (web("https://10.0.0.7/sub", &p256dh, &auth), "public host"),
        (
            web("https://169.254.169.254/latest", &p256dh, &auth),
            "public host",
        ),
        (web("https://[::1]/sub", &p256dh, &auth), "public host"),
        (
            web("https://[::ffff:10.0.0.1]/sub", &p256dh, &auth),
            "public host",
        ),
        (
            web("https://[::127.0.0.1]/sub", &p256dh, &auth),
            "public host",
        ),
        (web("https://localhost/sub", &p256dh, &auth), "public host"),
        (
            web("https://push.localhost./sub", &p256dh, &auth),
            "public host",
        ),
    ] {
        let answer = eve.send(Method::PUT, "/v1/me/push", Some(&channel)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
        assert!(
            answer.problem().detail.unwrap_or_default().contains(says),
            "{answer:?}"
        );
    }
    for (start, zone) in [("25:00", "UTC"), ("21:00", "Mars/Olympus")] {
        let answer = eve
            .send(
                Method::PUT,
                "/v1/me/notifications",
                Some(&NotificationPrefs {
                    paused_until: None,
                    quiet_hours: QuietHours {
                        start: start.into(),
                        end: "08:00".into(),
                    },
                    time_zone: Some(zone.into()),
                }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
    }
    let good = web("https://push.example/sub", &p256dh, &auth);
    register(&eve, &good).await;
    // The same subscription registered by another device moves to it.
    let laptop = c.server.enrol(&c.org, &eve.person().id).await;
    register(&laptop, &good).await;
    let holders: Vec<String> = sqlx::query_scalar("SELECT device_id FROM push_channels")
        .fetch_all(&c.server.db().read)
        .await
        .unwrap();
    assert_eq!(holders, [laptop.device_id().to_owned()]);
    let answer = laptop.send::<()>(Method::DELETE, "/v1/me/push", None).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let anonymous = c
        .server
        .anonymous()
        .send(Method::PUT, "/v1/me/push", Some(&good))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

/// A subscription whose name resolves to an internal address (registered before the rule, or a
/// name that moved): the server's guard refuses the connection, nothing reaches the address,
/// and the channel is forgotten.
async fn an_endpoint_leading_to_an_internal_address_is_never_reached(backend: Backend) {
    let (c, receiver, eve, subscription) = public_endpoints_only(backend).await;
    awake(&eve).await;
    let PushChannel::WebPush {
        endpoint,
        p256dh,
        auth,
    } = subscription
    else {
        unreachable!()
    };
    register(
        &eve,
        &PushChannel::WebPush {
            endpoint: "https://push.example/sub".into(),
            p256dh,
            auth,
        },
    )
    .await;
    // The name now leads to the receiver on this machine (as a DNS change could make it).
    let port = url::Url::parse(&endpoint).unwrap().port().unwrap();
    sqlx::query("UPDATE push_channels SET address = $1")
        .bind(format!("https://localhost:{port}/eve"))
        .execute(&c.server.db().write)
        .await
        .unwrap();
    c.curator.publish(&article(&c.news, "Internal?")).await;
    let mut left = 1;
    for _ in 0..100 {
        left = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM push_channels")
            .fetch_one(&c.server.db().read)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "the channel is forgotten");
    assert!(receiver.log.all().is_empty(), "nothing reached it");
}
