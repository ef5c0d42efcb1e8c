//! What the server's benchmarks share: a fresh PostgreSQL database, and the server's
//! configuration for a benchmark.
// Each benchmark uses part of this.
#![allow(dead_code)]

use std::time::Duration;

use relay_server::Config;

// The server binary's allocator: the benchmarks measure the server as it ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A new, empty database on the PostgreSQL server at `admin` (dropped first if a previous run
/// left it), or `None` when no PostgreSQL answers within 5 s.
pub async fn fresh_pg_database(admin: &str, prefix: &str) -> Option<String> {
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let mut conn =
        tokio::time::timeout(Duration::from_secs(5), sqlx::AnyConnection::connect(admin))
            .await
            .ok()?
            .ok()?;
    let name = format!("{prefix}_{}", std::process::id());
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .ok()?;
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .ok()?;
    let mut url = url::Url::parse(admin).ok()?;
    url.set_path(&name);
    Some(url.into())
}

/// The databases a benchmark runs on: a SQLite file in `dir`, and a fresh PostgreSQL database
/// when `DATABASE_URL` (or the local default) answers; said loudly when it does not.
pub fn backends(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    prefix: &str,
) -> Vec<(&'static str, String)> {
    let mut urls = vec![(
        "SQLite",
        format!("sqlite:{}", dir.join("bench.db").display()),
    )];
    let admin = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match rt.block_on(fresh_pg_database(&admin, prefix)) {
        Some(url) => urls.push(("PostgreSQL", url)),
        None => eprintln!("!!! PostgreSQL unreachable at {admin}: its rows are SKIPPED"),
    }
    urls
}

/// The server's configuration in a benchmark: defaults, and no attempt limits (benchmarks
/// enrol many devices from one address).
pub fn config() -> Config {
    Config::unlimited("http://bench")
}

/// An access token for a new staff member of `org_id` (Cora, with `role`), as the console
/// would hold after signing in.
pub async fn staff_session(
    db: &relay_server::Db,
    org_id: &str,
    role: relay_protocol::Role,
) -> String {
    let staff = relay_server::people::add(
        db,
        org_id,
        None,
        relay_protocol::NewPerson {
            name: "Cora".into(),
            email: "cora@bench.example".into(),
            country: "FR".into(),
            language: "en".into(),
            department: "Comms".into(),
            role,
        },
    )
    .await
    .unwrap();
    let mut tx = db.begin().await.unwrap();
    let enrolment = relay_server::auth::store::create_enrolment(
        &mut tx,
        org_id,
        &staff.id,
        None,
        "http://bench",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    relay_server::auth::store::redeem(
        db,
        relay_server::auth::store::TokenLifetimes::default(),
        &enrolment.code,
        "console",
        "web",
    )
    .await
    .unwrap()
    .session
    .access_token
}
