//! End to end: the real `relay-app` binary in a real webview (WebKitWebDriver under Xvfb), against
//! the real relay-server over HTTP, with a real keychain, notification daemon and tray host.
//! Each test saves screenshots under `target/e2e-screenshots/`.

mod desktop;
mod webdriver;

// The server, the stubs, the PDS, the OpenID provider and their helpers, shared with the engine
// and server tests (the shared helpers name the peers module by its engine-suite name).
use relay_testkit::peers as engine;
use relay_testkit::{draws, linkedin_stub, mastodon_stub, oidc, pds, peers, sweep, x_stub};

mod app;
mod bluesky;
mod company;
mod console;
mod linkedin;
mod mastodon;
mod notifications;
mod offline;
mod personal;
mod phone;
mod programme;
mod share_page;
mod tray;
mod x;
mod xss;

/// Whether this machine can run a webview under WebDriver; under `CI=true` it must.
pub fn webview_available() -> bool {
    let found = [
        "WebKitWebDriver",
        "xvfb-run",
        "dbus-run-session",
        "gnome-keyring-daemon",
    ]
    .iter()
    .all(|tool| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    });
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but WebKitWebDriver, Xvfb, D-Bus or gnome-keyring is missing"
        );
        let reason = "end-to-end tests need WebKitWebDriver, xvfb-run, dbus-run-session and gnome-keyring-daemon (scripts/test.sh installs them)";
        eprintln!("SKIPPED: {reason}");
        sweep::note_skipped(reason);
    }
    found
}
