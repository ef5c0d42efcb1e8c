//! The `relay` command line's contract with scripts: exit codes and JSON output.

#[tokio::test]
async fn exit_codes_say_what_went_wrong() {
    let dir = crate::sweep::tempdir();
    let code = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let not_enrolled = code(&["sync"]);
    assert_eq!(not_enrolled.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&not_enrolled.stderr).contains("enrol"));
    assert_eq!(code(&["show", "nope"]).status.code(), Some(5));
    assert_eq!(code(&["queue", "cancel", "nope"]).status.code(), Some(5));
    assert_eq!(
        code(&["enrol", "ftp://server", "CODE"]).status.code(),
        Some(6)
    );
    assert_eq!(
        code(&["enrol", "http://127.0.0.1:9", "AAAA-BBBB-CCCC-DDDD"])
            .status
            .code(),
        Some(4),
        "unreachable"
    );
    assert_eq!(code(&["share"]).status.code(), Some(2), "usage");
    let status = code(&["--json", "status"]);
    assert!(status.status.success());
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json["signed_in"], false);
    assert_eq!(json["items"], 0);
}

#[tokio::test]
async fn enrolling_with_something_else_than_a_relay_server_says_so() {
    use axum::routing::any;
    let dir = crate::sweep::tempdir();
    // A web server that answers every request with a page, and one that answers 404 in text.
    let page = crate::peers::serve(axum::Router::new().fallback(any(|| async {
        axum::response::Html("<html><body>Welcome to nginx!</body></html>")
    })))
    .await;
    let missing = crate::peers::serve(axum::Router::new().fallback(any(|| async {
        (axum::http::StatusCode::NOT_FOUND, "404 page not found")
    })))
    .await;
    for server in [page, missing] {
        let run = tokio::task::spawn_blocking({
            let dir = dir.path().to_owned();
            move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
                    .arg("--data-dir")
                    .arg(&dir)
                    .args(["enrol", &server, "AAAA-BBBB-CCCC-DDDD"])
                    .output()
                    .unwrap()
            }
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(6), "{stderr}");
        assert!(stderr.contains("not a Relay server"), "{stderr}");
        assert!(!stderr.contains("cannot reach"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_and_search_page_and_say_when_more_exist() {
    let server = crate::peers::TestServer::start().await;
    let (org, code) = server.demo().await;
    for i in 0..30 {
        server
            .publish(&org, &format!("Paging story {i}"), "<p>Paging filler.</p>")
            .await;
    }
    // The command line keeps its session in the keychain.
    if !crate::harness::keychain_available() {
        return;
    }
    let dir = crate::sweep::tempdir();
    let engine = dir.path().to_owned();
    let (ok, out, err) = crate::harness::relay(&engine, &["enrol", &server.url(), &code], None);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = crate::harness::relay(&engine, &["sync"], None);
    assert!(ok, "{out}{err}");
    let ids = |args: &[&str]| -> (Vec<String>, String) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let (ok, out, err) = crate::harness::relay(&engine, &all, None);
        assert!(ok, "{args:?}: {out}{err}");
        let items: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
        (
            items
                .iter()
                .map(|i| i["item"]["id"].as_str().unwrap().to_owned())
                .collect(),
            err.lines()
                .filter(|l| l.starts_with("More"))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    let (first, more) = ids(&["search", "paging", "--limit", "20"]);
    assert_eq!(first.len(), 20);
    assert!(
        more.contains("relay search paging --limit 20 --page 2"),
        "{more:?}"
    );
    let (second, more) = ids(&["search", "paging", "--limit", "20", "--page", "2"]);
    assert_eq!(second.len(), 10);
    assert!(more.is_empty(), "{more:?}");
    assert!(second.iter().all(|id| !first.contains(id)));

    let (feed_first, more) = ids(&["feed", "--limit", "25"]);
    assert_eq!(feed_first.len(), 25);
    assert!(more.contains("relay feed --limit 25 --page 2"), "{more:?}");
    let mut everything = feed_first.clone();
    let mut page = 2;
    loop {
        let (next, more) = ids(&["feed", "--limit", "25", "--page", &page.to_string()]);
        everything.extend(next);
        if more.is_empty() {
            break;
        }
        page += 1;
    }
    let total = crate::harness::relay(&engine, &["--json", "status"], None).1;
    let total: serde_json::Value = serde_json::from_str(&total).unwrap();
    assert_eq!(everything.len() as u64, total["items"].as_u64().unwrap());
    let mut unique = everything.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        everything.len(),
        "no entry twice across pages"
    );
}
