//! `relay-server backup` and `restore` as an operator runs them: a copy taken while the server
//! writes opens, passes SQLite's integrity check, holds a consistent moment and serves; restore
//! refuses a running server and keeps what it replaces; mistakes fail clearly.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::cli::serve_with;
use crate::harness::*;

fn relay_server(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relay-server"))
        .args(["--database-url", url])
        .args(args)
        .env("RELAY_LOG", "warn")
        .env_remove("RELAY_CONFIG")
        .output()
        .unwrap()
}

fn code_for(url: &str, email: &str) -> String {
    let out = relay_server(url, &["enrol", "--email", email]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("enrolment code: ").map(str::to_owned))
        .expect("a code")
}

async fn drafts(url: &str) -> i64 {
    let db = relay_server::Db::connect(url).await.unwrap();
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM items WHERE state = 'draft'")
        .fetch_one(&db.read)
        .await
        .unwrap();
    db.read.close().await;
    db.write.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_taken_while_the_server_writes_is_whole_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let live = format!("sqlite:{}", dir.path().join("live.db").display());
    assert!(relay_server(&live, &["demo"]).status.success());
    let curator_code = code_for(&live, relay_server::demo::DEMO_CURATOR_EMAIL);
    let (_server, base) = serve_with(&["--database-url", &live], &[]);
    let curator = Client::anonymous_at(&base)
        .enrol(curator_code, "backup test")
        .await;
    let channels: Vec<relay_protocol::Channel> = curator.get("/v1/channels").await;

    // A curator writes drafts as fast as the server takes them, while the copy is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, written, channel) = (stop.clone(), written.clone(), channels[0].clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = written.load(Ordering::Relaxed);
                curator
                    .create_content(&article(&channel, &format!("Draft {n}")))
                    .await;
                written.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    while written.load(Ordering::Relaxed) < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let copy = dir.path().join("copy.db");
    let backup = {
        let (live, copy) = (live.clone(), copy.clone());
        tokio::task::spawn_blocking(move || {
            relay_server(&live, &["backup", "--to", copy.to_str().unwrap()])
        })
        .await
        .unwrap()
    };
    let during = written.load(Ordering::Relaxed);
    // The writes go on after the copy.
    while written.load(Ordering::Relaxed) < during + 20 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    assert!(
        text(&backup.stdout).contains("integrity checked"),
        "{}",
        text(&backup.stdout)
    );

    // Only its owner may read it: it holds everything.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the copy is readable by others: {mode:o}");
    }
    // A moment of the live database: some of the drafts, not the later ones.
    let copied_url = format!("sqlite:{}", copy.display());
    let in_copy = drafts(&copied_url).await;
    let in_live = drafts(&live).await;
    assert!(
        in_copy >= 20 && in_copy < in_live,
        "copy {in_copy}, live {in_live}"
    );
    let integrity: String = {
        let db = relay_server::Db::connect(&copied_url).await.unwrap();
        sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&db.read)
            .await
            .unwrap()
    };
    assert_eq!(integrity, "ok");

    // And it serves: a device enrols on it and syncs the demo's feed.
    let code = code_for(&copied_url, relay_server::demo::DEMO_EMAIL);
    let (_copy_server, copy_base) = serve_with(&["--database-url", &copied_url], &[]);
    let ready = reqwest::get(format!("{copy_base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), reqwest::StatusCode::OK);
    let device = Client::anonymous_at(&copy_base)
        .enrol(code, "restored")
        .await;
    let page = device.sync_page(None, 500).await;
    assert_eq!(page.changes.len(), 30);
}

#[tokio::test]
async fn restore_refuses_a_running_server_and_keeps_what_it_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("relay.db");
    let live = format!("sqlite:{}", file.display());
    assert!(relay_server(&live, &["demo"]).status.success());
    let copy = dir.path().join("copy.db");
    let copy_arg = copy.to_str().unwrap();
    assert!(relay_server(&live, &["backup", "--to", copy_arg])
        .status
        .success());
    // A change after the copy, that the restore takes back.
    let added = relay_server(
        &live,
        &[
            "person",
            "add",
            "--name",
            "Late Comer",
            "--email",
            "late@contoso.example",
            "--country",
            "FR",
            "--language",
            "fr",
            "--department",
            "Sales",
            "--role",
            "employee",
        ],
    );
    assert!(added.status.success(), "{}", text(&added.stderr));

    let refused = relay_server(&live, &["restore", "--from", copy_arg]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("add --replace"),
        "{}",
        text(&refused.stderr)
    );

    let running = serve_with(&["--database-url", &live], &[]);
    let refused = relay_server(&live, &["restore", "--from", copy_arg, "--replace"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("in use: stop every server"),
        "{}",
        text(&refused.stderr)
    );
    drop(running);

    let restored = relay_server(&live, &["restore", "--from", copy_arg, "--replace"]);
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    assert!(Path::new(&format!("{}.before-restore", file.display())).exists());
    let late = relay_server(&live, &["enrol", "--email", "late@contoso.example"]);
    assert!(
        !late.status.success(),
        "the restore kept a person added after the copy"
    );
    let (_server, base) = serve_with(&["--database-url", &live], &[]);
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), reqwest::StatusCode::OK);
}

#[test]
fn mistakes_fail_clearly_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let live = format!("sqlite:{}", dir.path().join("relay.db").display());
    assert!(relay_server(&live, &["demo"]).status.success());
    let cases: [(&str, Vec<String>, &str); 4] = [
        (
            live.as_str(),
            vec![
                "backup".into(),
                "--to".into(),
                "/nonexistent/folder/copy.db".into(),
            ],
            "cannot write the copy to /nonexistent/folder/copy.db",
        ),
        (
            live.as_str(),
            vec![
                "backup".into(),
                "--to".into(),
                dir.path().join("relay.db").display().to_string(),
            ],
            "exists already",
        ),
        (
            "postgres://postgres@127.0.0.1:5432/test",
            vec![
                "backup".into(),
                "--to".into(),
                dir.path().join("pg.db").display().to_string(),
            ],
            "pg_dump",
        ),
        (
            live.as_str(),
            vec![
                "restore".into(),
                "--from".into(),
                "/etc/hostname".into(),
                "--replace".into(),
            ],
            "is not a Relay database",
        ),
    ];
    for (url, args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = relay_server(url, &args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // The database is still there, whole.
    let ready = relay_server(&live, &["content", "list"]);
    assert!(ready.status.success());
    assert!(!dir.path().join("pg.db").exists());
}

/// On PostgreSQL, the procedure `docs/operations.md` gives: `pg_dump -Fc` while the server
/// runs, `pg_restore --no-owner` into a fresh database, a server over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_dump_restores_into_a_fresh_database_that_serves() {
    if !postgres_available().await {
        return;
    }
    let acme = Acme::new(relay_server::db::Backend::Postgres).await;
    let kept = acme
        .curator
        .publish(&article(&acme.news, "Kept across the restore"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("relay.dump");
    let dumped = Command::new("pg_dump")
        .args(["-Fc", "-f", dump.to_str().unwrap(), &acme._db.url])
        .output()
        .expect("pg_dump (Debian's postgresql-client)");
    assert!(dumped.status.success(), "{}", text(&dumped.stderr));

    let fresh = TestDb::new(relay_server::db::Backend::Postgres).await;
    let restored = Command::new("pg_restore")
        .args([
            "--no-owner",
            "--exit-on-error",
            "-d",
            &fresh.url,
            dump.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(restored.status.success(), "{}", text(&restored.stderr));

    let server = Server::start(&fresh).await;
    let ready = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), reqwest::StatusCode::OK);
    let title: String = sqlx::query_scalar("SELECT title FROM items WHERE id = $1")
        .bind(&kept.item.id)
        .fetch_one(&server.db().read)
        .await
        .unwrap();
    assert_eq!(title, "Kept across the restore");
    // The curator's session came across too: they go on working on the restored server.
    let mut curator = server.anonymous();
    curator.token = acme.curator.token.clone();
    let listed: Vec<relay_protocol::CuratedContent> = curator.get("/v1/content").await;
    assert!(listed.iter().any(|c| c.item.id == kept.item.id));
}
