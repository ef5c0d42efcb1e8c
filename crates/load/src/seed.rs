//! The organisation before the day starts: its content, 20,000 employees with a signed-in
//! device each, a curator, and 20 sources; written through the server's own functions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use relay_protocol::{NewPerson, NewSource, Role, SourceKind};
use relay_server::auth::store::{create_enrolment, redeem, TokenLifetimes};
use relay_server::db::Db;
use relay_server::{AppState, Config};
use serde::{Deserialize, Serialize};

/// Items in the feed when the day starts (a first sync is one page).
const ITEMS: usize = 60;
pub const SOURCES: usize = 20;
/// Enrolments made at once.
const SEEDERS: usize = 16;

/// One employee's device, as the device knows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Device {
    pub id: String,
    pub token: String,
}

pub struct Seeded {
    pub org_id: String,
    pub channel_id: String,
    pub devices: Vec<Device>,
    pub curator: String,
    pub items: Vec<String>,
}

/// The server's configuration here: defaults, sources may reach this machine's feed server,
/// and no attempt limits (20,000 enrolments come from one address).
pub fn config() -> Config {
    let mut config = Config::unlimited("http://load");
    // The run's sources are served on this machine.
    config.sources.fetch.allow_private = true;
    config
}

pub async fn seed(url: &str, devices: usize, feeds: &str) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let db = Db::connect(url).await?;
    let state = AppState::new(db.clone(), config());
    let org = relay_server::demo::bulk_org(&state, "load", ITEMS).await?;
    let channel = relay_server::channels::list_all(&db, &org.id)
        .await?
        .remove(0);

    let next = Arc::new(AtomicUsize::new(0));
    let mut seeders = Vec::new();
    for _ in 0..SEEDERS {
        let (state, org_id, next) = (state.clone(), org.id.clone(), next.clone());
        seeders.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= devices {
                    return Ok::<_, anyhow::Error>(mine);
                }
                let enrolment = relay_server::demo::enrolled_employee(
                    &state,
                    &org_id,
                    &format!("Employee {n}"),
                    &format!("employee{n}@load.example"),
                )
                .await?;
                let session = redeem(
                    &state.db,
                    TokenLifetimes::default(),
                    &enrolment.code,
                    "laptop",
                    "linux",
                )
                .await?
                .session;
                mine.push((
                    n,
                    Device {
                        id: session.device_id,
                        token: session.access_token,
                    },
                ));
                if n > 0 && n % 5_000 == 0 {
                    eprintln!("  {n} devices enrolled");
                }
            }
        }));
    }
    let mut all = Vec::with_capacity(devices);
    for seeder in seeders {
        all.extend(seeder.await??);
    }
    all.sort_by_key(|(n, _)| *n);
    let devices: Vec<Device> = all.into_iter().map(|(_, d)| d).collect();

    let curator = relay_server::people::add(
        &db,
        &org.id,
        None,
        NewPerson {
            name: "Cora Curator".into(),
            email: "cora@load.example".into(),
            country: "FR".into(),
            language: "fr".into(),
            department: "Communication".into(),
            role: Role::Curator,
        },
    )
    .await?;
    let mut tx = db.begin().await?;
    let enrolment = create_enrolment(&mut tx, &org.id, &curator.id, None, "http://load").await?;
    tx.commit().await?;
    let curator = redeem(
        &db,
        TokenLifetimes::default(),
        &enrolment.code,
        "console",
        "web",
    )
    .await?
    .session
    .access_token;

    for n in 0..SOURCES {
        relay_server::sources::create(
            &state,
            &org.id,
            None,
            NewSource {
                kind: SourceKind::Feed,
                address: format!("{feeds}/feed-{n}.xml"),
                channel_id: channel.id.clone(),
                auto_publish: false,
                interval_minutes: Some(5),
            },
        )
        .await?;
    }
    let items: Vec<String> =
        sqlx::query_scalar("SELECT id FROM items WHERE org_id = $1 AND live = 1")
            .bind(&org.id)
            .fetch_all(&db.read)
            .await?;
    eprintln!(
        "seeded {} items, {} devices, a curator and {SOURCES} sources in {:.1?}",
        items.len(),
        devices.len(),
        started.elapsed()
    );
    db.read.close().await;
    db.write.close().await;
    // The servers open the file next: let SQLite's last checkpoint settle.
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(Seeded {
        org_id: org.id,
        channel_id: channel.id,
        devices,
        curator,
        items,
    })
}

/// A new, empty PostgreSQL database next to `admin`'s (dropped first if a run left it).
pub async fn fresh_pg_database(admin: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let name = "relay_load";
    let mut conn = sqlx::PgConnection::connect(admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    Ok(format!("{base}/{name}"))
}
