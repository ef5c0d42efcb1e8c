//! One test's desktop: its own D-Bus session with an unlocked keychain, its own X display
//! (Xvfb), optionally a tray host, and WebKitWebDriver driving the real `relay-app` binary.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::webdriver::WebDriver;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn app_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_relay-app"))
}

/// `target/`, where screenshots go.
pub fn target_dir() -> PathBuf {
    app_binary()
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf()
}

/// The `relay` command line, built beside the app (the same engine, for test set-up).
pub fn relay_cli() -> PathBuf {
    let cli = app_binary().with_file_name("relay");
    if !cli.exists() {
        let status = Command::new(env!("CARGO"))
            // With the HTTP test network, as every test build has it.
            .args([
                "build",
                "-q",
                "-p",
                "relay-client",
                "--features",
                "test-network",
                "--bin",
                "relay",
            ])
            .current_dir(repo())
            .status()
            .expect("cargo build relay");
        assert!(status.success(), "cannot build the relay CLI");
    }
    cli
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Default)]
pub struct Options {
    pub tray: bool,
    /// Arguments for the app (a `relay://` link).
    pub args: Vec<String>,
    pub language: Option<&'static str>,
    /// More environment for the app (a network's settings).
    pub env: Vec<(&'static str, String)>,
}

pub struct Desktop {
    child: Child,
    pub env: HashMap<String, String>,
    pub data_dir: PathBuf,
    pub driver: WebDriver,
    _scratch: tempfile::TempDir,
}

impl Desktop {
    pub async fn start(options: Options) -> Desktop {
        let scratch = crate::sweep::tempdir();
        let env_file = scratch.path().join("session.env");
        let data_dir = scratch.path().join("app-data");
        let port = free_port();
        let mut command = Command::new(repo().join("scripts/with-keychain.sh"));
        command
            // A display number of its own (the driver's free port): `xvfb-run -a` races when
            // tests start together.
            .args([
                "xvfb-run",
                "-n",
                &port.to_string(),
                "-s",
                "-screen 0 1280x900x24",
            ])
            .arg(repo().join("tests/e2e/session.sh"))
            .arg(&env_file)
            .arg(port.to_string())
            .arg(if options.tray { "tray" } else { "" })
            // A session of its own, not the one the test runner may be in.
            .env_remove("RELAY_KEYCHAIN_SESSION")
            .env("RELAY_DATA_DIR", &data_dir)
            .env("E2E_BROWSER_LOG", scratch.path().join("browser.log"))
            .envs(options.env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("LANG", options.language.unwrap_or("en_GB.UTF-8"))
            // Everything Relay logs, for the secret sweep (which reads this session's log).
            .env("RELAY_LOG", "info,relay_app=trace,relay_client=trace")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(scratch.path().join("session.log")).unwrap(),
            ))
            .process_group(0);
        let child = command.spawn().expect("start the test desktop");
        let deadline = Instant::now() + Duration::from_secs(90);
        while !env_file.exists() {
            assert!(
                Instant::now() < deadline,
                "the test desktop did not start: {}",
                std::fs::read_to_string(scratch.path().join("session.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let env: HashMap<String, String> = std::fs::read_to_string(&env_file)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let capabilities = json!({
            "capabilities": {"alwaysMatch": {"webkitgtk:browserOptions": {
                "binary": app_binary(),
                "args": options.args,
            }}}
        });
        let driver = WebDriver::connect(port, capabilities).await;
        Desktop {
            child,
            env,
            data_dir,
            driver,
            _scratch: scratch,
        }
    }

    /// A desktop whose app opened an enrolment link (as from the browser) and shows the feed.
    pub async fn enrolled(server_url: &str, code: &str, mut options: Options) -> Desktop {
        let server: String = url::form_urlencoded::byte_serialize(server_url.as_bytes()).collect();
        options
            .args
            .push(format!("relay://enrol?server={server}&code={code}"));
        let desktop = Desktop::start(options).await;
        desktop.driver.wait_for("[data-testid=card]").await;
        desktop
    }

    /// Opens the composer on the newest item, with the `network` account chosen (the only
    /// account), and writes `text`.
    pub async fn compose(&self, network: &str, text: &str) {
        let d = &self.driver;
        d.click_css("[data-testid=nav-feed]").await;
        d.click_css("[data-testid=card]").await;
        d.click_css("[data-testid=share]").await;
        d.wait_until(
            &format!("the {network} account is chosen"),
            &format!("return document.querySelector('[data-testid=account-{network}]')?.checked"),
            json!([]),
        )
        .await;
        d.type_into(&format!("[data-testid=text-{network}]"), text)
            .await;
    }

    /// Sends what the composer holds: queued (it goes out when it can).
    pub async fn send(&self) {
        let d = &self.driver;
        d.click_css("[data-testid=share-submit]").await;
        d.wait_for("[data-testid=share-queued]").await;
    }

    /// Sends what the composer holds and waits for the queue to show it posted.
    pub async fn send_and_see_posted(&self) {
        self.send().await;
        let d = &self.driver;
        d.click_css("[data-testid=nav-queue]").await;
        d.wait_until(
            "the share is posted",
            "const r = document.querySelector('[data-testid=share-row]'); return r && r.dataset.status === 'posted'",
            json!([]),
        )
        .await;
    }

    /// The pages the app opened in the browser, in order.
    pub fn browsed(&self) -> Vec<String> {
        std::fs::read_to_string(self._scratch.path().join("browser.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("http"))
            .map(str::to_owned)
            .collect()
    }

    /// Everything the session logged so far: the app's log lines (`RELAY_LOG=info`) among them.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._scratch.path().join("session.log")).unwrap_or_default()
    }

    /// A command run inside this desktop's session (its D-Bus, display and keychain).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.envs(&self.env);
        command
    }

    /// Connects a test-network account in the app's data folder, as `relay account add-test`
    /// does: its token goes to this desktop's keychain.
    pub fn connect_test_account(&self, network: &str, url: &str, token: &str) {
        crate::sweep::note(token);
        use std::io::Write;
        let mut child = self
            .command(relay_cli())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args([
                "account",
                "add-test",
                "--network",
                network,
                "--url",
                url,
                "--handle",
            ])
            .arg(format!("alex@{network}.test"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(token.as_bytes())
            .unwrap();
        assert!(
            child.wait().unwrap().success(),
            "relay account add-test failed"
        );
    }

    /// Output of a command in this session, or `None` when it failed.
    pub fn run(&self, program: &str, args: &[&str]) -> Option<String> {
        let out = self.command(program).args(args).output().ok()?;
        if std::env::var_os("E2E_DEBUG").is_some() && !out.status.success() {
            eprintln!(
                "{program} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Desktop {
    /// Notes for the secret sweep every value the app put in its keychain.
    fn note_keychain(&self) {
        let service = relay_client::Engine::keychain_service(&self.data_dir);
        let Some(found) = self.run(
            "secret-tool",
            &["search", "--all", "--unlock", "service", &service],
        ) else {
            return;
        };
        for line in found.lines() {
            if let Some(secret) = line.strip_prefix("secret = ") {
                crate::sweep::note_keychain_value(secret);
            }
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        if crate::sweep::dir().is_some() {
            self.note_keychain();
        }
        // Everything of this desktop is in one process group: Xvfb, D-Bus, the keychain, the
        // driver, the app and its WebKit processes.
        unsafe_kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

fn unsafe_kill_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{pid}")])
        .status();
}
