//! The packages as an IT department installs them: the OCI image built by
//! `packaging/image.sh` runs under podman as its own non-root user, answers, passes its health
//! check and keeps its data across a restart of the container; the `.deb` installs with apt a
//! configured, stopped service whose unit `systemd-analyze` verifies (and rates well), and the
//! unit's command serves as its user. Both need root and the tools CI installs; elsewhere they
//! say loudly that they skipped (a failure under `CI=true`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use reqwest::StatusCode;

use crate::cli::Killed;
use crate::harness::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether this machine can run the test (root, the tools); says so loudly when not.
fn can_run(what: &str, tools: &[&str]) -> bool {
    let root = run("id", &["-u"]).stdout.starts_with(b"0\n");
    let missing: Vec<&&str> = tools
        .iter()
        .filter(|tool| {
            !run("sh", &["-c", &format!("command -v {tool}")])
                .status
                .success()
        })
        .collect();
    if root && missing.is_empty() {
        return true;
    }
    let msg =
        format!("{what} needs root and {tools:?} (missing: {missing:?}, root: {root}): SKIPPED");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg} (a failure under CI=true)");
    }
    eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
    crate::sweep::note_skipped(&msg);
    false
}

async fn wait_ready(base: &str) {
    for _ in 0..150 {
        if let Ok(answer) = reqwest::get(format!("{base}/readyz")).await {
            if answer.status() == StatusCode::OK {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} never became ready");
}

/// podman as these machines run it (../shared/RECIPES.md): vfs storage, runc, cgroupfs.
const PODMAN: &[&str] = &[
    "--storage-driver",
    "vfs",
    "--runtime",
    "runc",
    "--cgroup-manager",
    "cgroupfs",
];

fn podman(args: &[&str]) -> Output {
    let all: Vec<&str> = PODMAN.iter().chain(args).copied().collect();
    run("podman", &all)
}

fn podman_ok(args: &[&str]) -> String {
    let all: Vec<&str> = PODMAN.iter().chain(args).copied().collect();
    ok("podman", &all)
}

/// The test's container and image, removed when it ends.
struct Cleanup {
    image: String,
    container: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        podman(&["rm", "-f", &self.container]);
        podman(&["rmi", "-f", &self.image]);
    }
}

/// Runs the image's server over `volume`, on `port`.
fn start_container(name: &str, image: &str, volume: &Path, port: u16, args: &[&str]) {
    let mount = format!("{}:/var/lib/relay", volume.display());
    let bind = format!("RELAY_BIND=127.0.0.1:{port}");
    let mut all = vec![
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
        "-e",
        &bind,
        "-v",
        &mount,
        image,
    ];
    all.extend(args);
    podman_ok(&all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_serves_as_its_own_user_and_keeps_its_data_across_a_restart() {
    if !can_run("the OCI image test", &["podman", "runc", "strip"]) {
        return;
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let image = format!("localhost/relay-server:test-{id}");
    let container = format!("relay-test-{id}");
    let _cleanup = Cleanup {
        image: image.clone(),
        container: container.clone(),
    };
    ok(
        "bash",
        &[
            repo().join("packaging/image.sh").to_str().unwrap(),
            env!("CARGO_BIN_EXE_relay-server"),
            &image,
        ],
    );
    let config = podman_ok(&["image", "inspect", "--format", "{{.Config.User}}", &image]);
    assert_eq!(config.trim(), "10001:10001", "not root");

    // A data folder the image's user owns, as an administrator prepares a bind mount.
    let volume = tempfile::tempdir().unwrap();
    ok("chown", &["10001:10001", volume.path().to_str().unwrap()]);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    start_container(
        &container,
        &image,
        volume.path(),
        port,
        &["serve", "--demo"],
    );
    wait_ready(&base).await;
    let logs = podman_ok(&["logs", &container]);
    let code = logs
        .lines()
        .find_map(|l| l.strip_prefix("enrolment code: "))
        .expect("the demo's enrolment code in the container's output")
        .trim()
        .to_owned();
    let alex = Client::anonymous_at(&base)
        .enrol(code, "container test")
        .await;
    let before = alex.sync_page(None, 500).await.changes.len();
    assert!(before > 10, "the demo's items");
    // The health check the image declares passes.
    let health = podman(&["healthcheck", "run", &container]);
    assert!(health.status.success(), "{health:?}");
    // The database is in the volume, written by the image's user.
    let db = volume.path().join("relay.db");
    let owner = ok("stat", &["-c", "%u", db.to_str().unwrap()]);
    assert_eq!(owner.trim(), "10001");

    // Stopped (SIGTERM: a clean stop) and started again as a new container over the volume.
    podman_ok(&["stop", "-t", "20", &container]);
    let exit = podman_ok(&["inspect", "--format", "{{.State.ExitCode}}", &container]);
    assert_eq!(exit.trim(), "0", "a clean stop");
    podman_ok(&["rm", &container]);
    start_container(&container, &image, volume.path(), port, &[]);
    wait_ready(&base).await;
    // The device is still signed in, its feed unchanged.
    let after = alex.sync_page(None, 500).await.changes.len();
    assert_eq!(after, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_installs_a_configured_stopped_service() {
    if !can_run(
        "the .deb test",
        &["apt-get", "dpkg-deb", "systemd-analyze", "setpriv", "strip"],
    ) {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let built = ok(
        "bash",
        &[
            repo().join("packaging/deb/build.sh").to_str().unwrap(),
            env!("CARGO_BIN_EXE_relay-server"),
            out.path().to_str().unwrap(),
        ],
    );
    let package = built.lines().last().unwrap().trim().to_owned();
    assert!(package.ends_with("_amd64.deb") || package.ends_with(".deb"));
    let _installed = Uninstall;
    let install = Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends", &package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );

    // Its own user, with no shell; the settings readable by it and root only.
    let user = ok("getent", &["passwd", "relay"]);
    assert!(user.trim_end().ends_with("nologin"), "{user}");
    let settings = ok("stat", &["-c", "%a %U %G", "/etc/relay/relay.toml"]);
    assert_eq!(settings.trim(), "640 root relay");
    // The unit verifies, and its exposure is low.
    let unit = "/lib/systemd/system/relay-server.service";
    let verify = run("systemd-analyze", &["verify", unit]);
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let security = ok(
        "systemd-analyze",
        &["security", "--offline=true", "--threshold=20", unit],
    );
    let exposure: f64 = security
        .lines()
        .find_map(|l| l.split("exposure level for relay-server.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("an exposure level");
    assert!(exposure <= 2.0, "exposure {exposure}: {security}");
    for hardening in [
        "LimitNOFILE=65536",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "User=relay",
        "StateDirectory=relay-server",
    ] {
        let text = std::fs::read_to_string(unit).unwrap();
        assert!(text.lines().any(|l| l == hardening), "{hardening}");
    }
    // Installed, not enabled, not started: it waits to be configured.
    let enabled = run("systemctl", &["is-enabled", "relay-server.service"]);
    assert_eq!(String::from_utf8_lossy(&enabled.stdout).trim(), "disabled");

    // The settings it ships pass `config check` as its user, and the unit's command serves.
    ok(
        "setpriv",
        &[
            "--reuid=relay",
            "--regid=relay",
            "--init-groups",
            "--",
            "/usr/bin/relay-server",
            "--config",
            "/etc/relay/relay.toml",
            "config",
            "check",
        ],
    );
    // What systemd's StateDirectory= makes at start.
    ok(
        "install",
        &[
            "-d",
            "-o",
            "relay",
            "-g",
            "relay",
            "-m",
            "0750",
            "/var/lib/relay-server",
        ],
    );
    let port = free_port();
    // setpriv execs the server itself (runuser would stay its parent, and killing it would
    // leave the server running).
    let child = Command::new("setpriv")
        .args(["--reuid=relay", "--regid=relay", "--init-groups", "--"])
        .arg("/usr/bin/relay-server")
        .args(["--config", "/etc/relay/relay.toml", "serve"])
        .env_remove("DATABASE_URL")
        .env_remove("RELAY_CONFIG")
        .env("RELAY_BIND", format!("127.0.0.1:{port}"))
        .env("RELAY_METRICS_BIND", format!("127.0.0.1:{}", free_port()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = Killed(child);
    wait_ready(&format!("http://127.0.0.1:{port}")).await;
    drop(server);
    let owner = ok("stat", &["-c", "%U", "/var/lib/relay-server/relay.db"]);
    assert_eq!(owner.trim(), "relay");
}

/// Takes the package, its user and its state off the machine again.
struct Uninstall;

impl Drop for Uninstall {
    fn drop(&mut self) {
        let _ = Command::new("apt-get")
            .args(["purge", "-y", "relay-server"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output();
        let _ = std::fs::remove_dir_all("/var/lib/relay-server");
        let _ = std::fs::remove_dir_all("/etc/relay");
        let _ = run("deluser", &["--system", "relay"]);
    }
}
