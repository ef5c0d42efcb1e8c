//! Secrets live in the real OS keychain (a Secret Service daemon) and nowhere else: not in the
//! device's SQLite files, not in the logs, not on the server.

use relay_client::secrets::{KeyringStore, SecretStore};
use relay_client::Engine;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_stay_in_the_keychain() {
    if !keychain_available() {
        return;
    }
    let server = TestServer::start().await;
    let (_org, code) = server.demo().await;
    let social_token = format!("social-{}", uuid::Uuid::new_v4().simple());
    let (stub, stub_url) = StubNetwork::start(&social_token).await;
    let device = crate::sweep::tempdir();
    let dir = device.path();
    let mut logs = String::new();
    let mut run = |args: &[&str], stdin: Option<&str>| {
        let (ok, out, err) = relay(dir, args, stdin);
        logs.push_str(&out);
        logs.push_str(&err);
        assert!(ok, "relay {args:?} failed: {out}{err}");
        out
    };
    run(&["enrol", &server.url(), &code], None);
    run(&["sync"], None);
    run(
        &[
            "account",
            "add-test",
            "--network",
            "mastodon",
            "--url",
            &stub_url,
            "--handle",
            "alex@social.test",
        ],
        Some(&social_token),
    );
    let feed = run(&["--json", "feed", "--limit", "1"], None);
    let feed: serde_json::Value = serde_json::from_str(&feed).unwrap();
    let item = feed[0]["item"]["id"].as_str().unwrap().to_owned();
    run(
        &[
            "share",
            &item,
            "--network",
            "mastodon",
            "--text",
            "Worth a read",
        ],
        None,
    );
    run(&["dispatch"], None);
    let status: serde_json::Value =
        serde_json::from_str(&run(&["--json", "status"], None)).unwrap();
    assert_eq!(status["signed_in"], true);
    assert_eq!(
        stub.post_count(),
        1,
        "the share went out with the keychain's token"
    );

    // The secrets are in the keychain...
    let keychain = KeyringStore::new(Engine::keychain_service(dir));
    let session: serde_json::Value = serde_json::from_str(
        &keychain
            .get(relay_client::api::SESSION_SECRET)
            .unwrap()
            .expect("session in the keychain"),
    )
    .unwrap();
    let access = session["access_token"].as_str().unwrap().to_owned();
    let refresh = session["refresh_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with("rla_") && refresh.starts_with("rlr_"));
    let engine = Engine::open_with_keychain(dir).unwrap();
    let account = engine.store().accounts().unwrap().remove(0);
    let stored_social = keychain
        .get(&relay_client::social::account_secret(&account.id))
        .unwrap();
    assert_eq!(stored_social.as_deref(), Some(social_token.as_str()));

    // ...and nowhere else.
    let secrets = [
        access.as_str(),
        refresh.as_str(),
        social_token.as_str(),
        &access[4..],
        &refresh[4..],
    ];
    let mut files = Vec::new();
    for entry in walk(dir) {
        files.push((entry.display().to_string(), std::fs::read(&entry).unwrap()));
    }
    for entry in walk(server.dir.path()) {
        files.push((entry.display().to_string(), std::fs::read(&entry).unwrap()));
    }
    assert!(
        files.iter().any(|(name, _)| name.ends_with("relay.db")),
        "the device database was searched"
    );
    for secret in secrets {
        for (name, bytes) in &files {
            assert!(!contains(bytes, secret.as_bytes()), "a token is in {name}");
        }
        assert!(!logs.contains(secret), "a token is in the logs");
    }
    assert!(
        logs.len() > 1000,
        "the logs were captured at trace level ({} bytes)",
        logs.len()
    );
    // Clean up the keychain entries this test made.
    let _ = keychain.delete(relay_client::api::SESSION_SECRET);
    let _ = keychain.delete(&relay_client::social::account_secret(&account.id));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
