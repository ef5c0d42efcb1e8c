//! `/readyz` as a balancer reads it: ready while the database answers with every migration
//! this server knows, not ready (503, with why) behind it; `/healthz` says only that the
//! process answers. A schema ahead of the server (a rolling upgrade) is ready, and the server
//! starts over it.

use relay_server::db::Backend;
use reqwest::StatusCode;

use crate::harness::*;

crate::both_backends!(ready_only_with_every_migration_applied);

async fn ready_only_with_every_migration_applied(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let ready = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.text().await.unwrap(), "ready");

    // The schema behind the binary (a migration not applied): not ready, and why.
    let newest: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&server.db().read)
        .await
        .unwrap();
    // (As sqlx marks a migration that failed half-way.)
    sqlx::query("UPDATE _sqlx_migrations SET success = false WHERE version = $1")
        .bind(newest)
        .execute(&server.db().write)
        .await
        .unwrap();
    let behind = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap();
    assert_eq!(behind.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        behind.headers()["content-type"],
        relay_protocol::PROBLEM_CONTENT_TYPE
    );
    let problem: relay_protocol::Problem = behind.json().await.unwrap();
    assert_eq!(problem.code, "not_ready");
    let detail = problem.detail.unwrap_or_default();
    assert!(
        detail.contains(&format!("needs {newest}")) && detail.contains("relay-server migrate"),
        "{detail}"
    );
    let alive = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(alive.status(), StatusCode::OK);

    sqlx::query("UPDATE _sqlx_migrations SET success = true WHERE version = $1")
        .bind(newest)
        .execute(&server.db().write)
        .await
        .unwrap();

    // A schema ahead of the binary (the next version migrated first, in a rolling upgrade):
    // ready.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT version + 1000, 'a later version', success, checksum, execution_time \
         FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(&server.db().write)
    .await
    .unwrap();
    let ahead = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap();
    assert_eq!(ahead.status(), StatusCode::OK);
    // And an instance of this version (re)starting over that newer schema starts.
    let again = relay_server::Db::connect(&db.url).await;
    assert!(again.is_ok(), "{:?}", again.err());
}
