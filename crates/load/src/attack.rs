//! The request mix of a working day's peak, played by goose: employees sharing (a tracked link,
//! then the share's record, sometimes sent again as a device does after a lost answer), people
//! clicking those links, and curators at work (the inbox, and 20 publications a day).
//!
//! Rates at scale 1, from the reference deployment (20,000 employees, 3 shares each a month,
//! their peak hour three times the office-hours average): 0.3 shares/s, 6 clicks/s, a curator
//! looking at the inbox every 30 s and publishing every 24 minutes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use goose::config::GooseConfiguration;
use goose::prelude::*;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::json;

const SHARES_PER_SEC: f64 = 0.3;
const CLICKS_PER_SEC: f64 = 6.0;
const INBOX_EVERY_SECS: f64 = 30.0;
const PUBLISH_EVERY_SECS: f64 = 24.0 * 60.0;
const SHARE_USERS: usize = 4;
const CLICK_USERS: usize = 24;
/// One share record in ten is sent twice (to another instance when there are several).
const REPLAY_ONE_IN: u32 = 10;
const NETWORKS: [&str; 4] = ["bluesky", "mastodon", "x", "linkedin"];

/// What the goose users need; set once, read by every transaction.
pub struct Shared {
    pub bases: RwLock<Vec<String>>,
    pub tokens: Vec<String>,
    pub items: Vec<String>,
    pub curator: String,
    pub channel_id: String,
    /// Tracked links made so far: what clickers click.
    pub codes: Mutex<Vec<String>>,
    /// Share records answered 201 (new), and replays answered 200 (the same record).
    pub created: AtomicU64,
    pub replayed: AtomicU64,
    pub published: AtomicU64,
    scale_bits: AtomicU64,
    last_publish_ms: AtomicU64,
}

static SHARED: OnceLock<Arc<Shared>> = OnceLock::new();

pub fn share(shared: Shared) -> Arc<Shared> {
    SHARED.get_or_init(|| Arc::new(shared)).clone()
}

fn shared() -> &'static Shared {
    SHARED.get().expect("set before the attack")
}

impl Shared {
    pub fn new(
        bases: Vec<String>,
        tokens: Vec<String>,
        items: Vec<String>,
        curator: String,
        channel_id: String,
    ) -> Shared {
        Shared {
            bases: RwLock::new(bases),
            tokens,
            items,
            curator,
            channel_id,
            codes: Mutex::default(),
            created: AtomicU64::new(0),
            replayed: AtomicU64::new(0),
            published: AtomicU64::new(0),
            scale_bits: AtomicU64::new(1f64.to_bits()),
            last_publish_ms: AtomicU64::new(crate::worker::unix_ms()),
        }
    }

    fn base(&self) -> String {
        let bases = self.bases.read().unwrap();
        bases
            .choose(&mut rand::thread_rng())
            .cloned()
            .unwrap_or_default()
    }

    fn scale(&self) -> f64 {
        f64::from_bits(self.scale_bits.load(Ordering::Relaxed))
    }
}

/// Plays the mix at `scale` times the peak for `secs` seconds; goose's measurements.
pub async fn play(scale: f64, secs: u64, host: &str) -> anyhow::Result<GooseMetrics> {
    shared()
        .scale_bits
        .store(scale.to_bits(), Ordering::Relaxed);
    let every =
        |users: usize, per_sec: f64| Duration::from_secs_f64(users as f64 / (per_sec * scale));
    let share_wait = every(SHARE_USERS, SHARES_PER_SEC);
    let click_wait = every(CLICK_USERS, CLICKS_PER_SEC);
    let inbox_wait = Duration::from_secs_f64(INBOX_EVERY_SECS / scale);
    let metrics = GooseAttack::initialize_with_config(GooseConfiguration::default())?
        .register_scenario(
            scenario!("Share")
                .set_weight(SHARE_USERS)?
                .set_wait_time(share_wait / 2, share_wait * 3 / 2)?
                .register_transaction(transaction!(share_item)),
        )
        .register_scenario(
            scenario!("Click")
                .set_weight(CLICK_USERS)?
                .set_wait_time(click_wait / 2, click_wait * 3 / 2)?
                .register_transaction(transaction!(browser).set_on_start())
                .register_transaction(transaction!(click)),
        )
        .register_scenario(
            scenario!("Curate")
                .set_weight(1)?
                .set_wait_time(inbox_wait, inbox_wait)?
                .register_transaction(transaction!(curate)),
        )
        .set_default(GooseDefault::Host, host)?
        .set_default(GooseDefault::Users, SHARE_USERS + CLICK_USERS + 1)?
        .set_default(GooseDefault::IncreaseRate, "100")?
        .set_default(GooseDefault::RunTime, secs as usize)?
        .set_default(GooseDefault::NoPrintMetrics, true)?
        .set_default(GooseDefault::NoTelnet, true)?
        .set_default(GooseDefault::NoAutoStart, false)?
        .set_default(GooseDefault::Quiet, 1)?
        .execute()
        .await?;
    Ok(metrics)
}

/// An employee shares an item: a tracked link first, then the share's record with its points.
async fn share_item(user: &mut GooseUser) -> TransactionResult {
    let s = shared();
    let (token, item, network, base, replay) = {
        let mut rng = rand::thread_rng();
        (
            s.tokens.choose(&mut rng).cloned().unwrap_or_default(),
            s.items.choose(&mut rng).cloned().unwrap_or_default(),
            *NETWORKS.choose(&mut rng).expect("four"),
            s.base(),
            rng.gen_ratio(1, REPLAY_ONE_IN),
        )
    };
    let answer = send(
        user,
        GooseMethod::Post,
        &format!("{base}/v1/links"),
        "link",
        &token,
        Some(&json!({"item_id": item, "network": network})),
        None,
    )
    .await?;
    let Ok(link) = answer.response else {
        return Ok(());
    };
    let Ok(link) = link.json::<relay_protocol::TrackedLink>().await else {
        return Ok(());
    };
    s.codes.lock().unwrap().push(link.code.clone());

    // Each network names its post as the app does: Bluesky an AT URI, Mastodon a status id on
    // the account's server (both pending until the server reads them), X and LinkedIn an id.
    let post = uuid_like();
    let mut record = json!({
        "share_id": uuid_like(),
        "item_id": item,
        "network": network,
        "shared_at": chrono::Utc::now(),
        "proof": "verified",
        "post_id": match network {
            "bluesky" => format!("at://did:plc:{}/app.bsky.feed.post/{}", &post[..24], &post[24..]),
            _ => post,
        },
        "link_code": link.code,
    });
    if network == "mastodon" {
        record["account_host"] = json!("mastodon.load.test");
    }
    let answer = send(
        user,
        GooseMethod::Post,
        &format!("{base}/v1/shares"),
        "share",
        &token,
        Some(&record),
        Some(201),
    )
    .await?;
    if answer.response.is_ok_and(|r| r.status().as_u16() == 201) {
        s.created.fetch_add(1, Ordering::Relaxed);
    }
    if replay {
        // The device did not hear the answer and sends the same record again, maybe to
        // another instance: the same record comes back, nothing is added.
        let answer = send(
            user,
            GooseMethod::Post,
            &format!("{}/v1/shares", s.base()),
            "share, sent again",
            &token,
            Some(&record),
            Some(200),
        )
        .await?;
        if answer.response.is_ok_and(|r| r.status().as_u16() == 200) {
            s.replayed.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// A browser follows a redirect itself; here the redirect is what is measured.
async fn browser(user: &mut GooseUser) -> TransactionResult {
    let builder = reqwest_goose::Client::builder()
        .redirect(reqwest_goose::redirect::Policy::none())
        .timeout(Duration::from_secs(30));
    user.set_client_builder(builder).await?;
    Ok(())
}

/// Someone clicks a shared link (a new visitor: their own address and browser).
async fn click(user: &mut GooseUser) -> TransactionResult {
    let s = shared();
    let (code, agent, base) = {
        let codes = s.codes.lock().unwrap();
        let mut rng = rand::thread_rng();
        (
            codes.choose(&mut rng).cloned(),
            format!(
                "Mozilla/5.0 (X11; Linux x86_64) Visitor/{}",
                rng.gen::<u32>()
            ),
            s.base(),
        )
    };
    let Some(code) = code else { return Ok(()) };
    let url = format!("{base}/l/{code}");
    let builder = user
        .get_request_builder(&GooseMethod::Get, &url)?
        .header("user-agent", agent);
    let request = GooseRequest::builder()
        .path(url.as_str())
        .name("click")
        .expect_status_code(302)
        .set_request_builder(builder)
        .build();
    user.request(request).await?;
    Ok(())
}

/// A curator looks at the inbox, and publishes when an item is due (20 a day at scale 1).
async fn curate(user: &mut GooseUser) -> TransactionResult {
    let s = shared();
    let base = s.base();
    send(
        user,
        GooseMethod::Get,
        &format!("{base}/v1/content?limit=50"),
        "curator: inbox",
        &s.curator,
        None,
        None,
    )
    .await?;

    let now = crate::worker::unix_ms();
    let due = s.last_publish_ms.load(Ordering::Relaxed)
        + (PUBLISH_EVERY_SECS * 1000.0 / s.scale()) as u64;
    if now < due {
        return Ok(());
    }
    s.last_publish_ms.store(now, Ordering::Relaxed);
    let draft = json!({
        "kind": "article",
        "channel_id": s.channel_id,
        "title": format!("News of the day {now}"),
        "url": format!("https://news.load.example/{now}"),
        "language": "en",
    });
    let answer = send(
        user,
        GooseMethod::Post,
        &format!("{base}/v1/content"),
        "curator: draft",
        &s.curator,
        Some(&draft),
        None,
    )
    .await?;
    let Ok(draft) = answer.response else {
        return Ok(());
    };
    let Ok(draft) = draft.json::<serde_json::Value>().await else {
        return Ok(());
    };
    let Some(id) = draft["id"].as_str() else {
        return Ok(());
    };
    send(
        user,
        GooseMethod::Post,
        &format!("{base}/v1/content/{id}/approve"),
        "curator: approve",
        &s.curator,
        None,
        None,
    )
    .await?;
    s.published.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// A request with the caller's token and a JSON body, if any, reported under `name`; a status
/// other than `expect` (any success when none) counts as a failure.
async fn send(
    user: &mut GooseUser,
    method: GooseMethod,
    url: &str,
    name: &str,
    token: &str,
    body: Option<&serde_json::Value>,
    expect: Option<u16>,
) -> Result<goose::goose::GooseResponse, Box<TransactionError>> {
    let mut builder = user.get_request_builder(&method, url)?.bearer_auth(token);
    if let Some(body) = body {
        builder = builder.json(body);
    }
    let mut request = GooseRequest::builder()
        .method(method)
        .path(url)
        .name(name)
        .set_request_builder(builder);
    if let Some(status) = expect {
        request = request.expect_status_code(status);
    }
    user.request(request.build()).await
}

fn uuid_like() -> String {
    format!("{:032x}", rand::thread_rng().gen::<u128>())
}

/// p50 and p99 of one of goose's request kinds, in milliseconds, with its count and failures.
pub fn percentiles(metrics: &GooseMetrics) -> Vec<(String, usize, usize, f64, f64)> {
    let mut rows: Vec<_> = metrics
        .requests
        .iter()
        .map(|(name, r)| {
            (
                name.clone(),
                r.success_count + r.fail_count,
                r.fail_count,
                r.raw_data.percentile_us(0.5) as f64 / 1000.0,
                r.raw_data.percentile_us(0.99) as f64 / 1000.0,
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}
