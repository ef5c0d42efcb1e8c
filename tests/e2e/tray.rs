//! The tray, read as a desktop shell reads it: a real StatusNotifierItem host
//! (gtk-sni-tray-standalone) on the test's D-Bus, the menu read and clicked over
//! `com.canonical.dbusmenu` with gdbus.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::desktop::{Desktop, Options};
use crate::engine::{StubNetwork, TestServer};

struct TrayMenu {
    service: String,
    path: String,
}

impl TrayMenu {
    /// Finds the app's tray item through the StatusNotifierWatcher, then its menu.
    async fn find(desktop: &Desktop) -> TrayMenu {
        let deadline = Instant::now() + crate::webdriver::PATIENCE;
        loop {
            if let Some(menu) = Self::try_find(desktop) {
                return menu;
            }
            if Instant::now() >= deadline {
                let log = desktop.log();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!(
                    "the app's tray item never registered; the session's log ends:\n{}",
                    tail.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn try_find(desktop: &Desktop) -> Option<TrayMenu> {
        let items = desktop.run(
            "gdbus",
            &[
                "call",
                "--session",
                "--dest",
                "org.kde.StatusNotifierWatcher",
                "--object-path",
                "/StatusNotifierWatcher",
                "--method",
                "org.freedesktop.DBus.Properties.Get",
                "org.kde.StatusNotifierWatcher",
                "RegisteredStatusNotifierItems",
            ],
        )?;
        if std::env::var_os("E2E_DEBUG").is_some() {
            eprintln!("watcher: {items}");
        }
        // (<[':1.7/org/ayatana/NotificationItem/relay']>,)
        let entry = items.split('\'').nth(1)?.to_owned();
        // Hosts record either `service/path` or just the service (then the item is found by
        // introspection: libayatana-appindicator exports it under /org/ayatana/NotificationItem).
        let (service, item_path) = match entry.find('/') {
            Some(slash) => {
                let (s, p) = entry.split_at(slash);
                (s.to_owned(), p.to_owned())
            }
            None => {
                let tree = desktop.run(
                    "gdbus",
                    &[
                        "introspect",
                        "--session",
                        "--dest",
                        &entry,
                        "--object-path",
                        "/",
                        "--recurse",
                        "--only-properties",
                    ],
                )?;
                if std::env::var_os("E2E_DEBUG").is_some() {
                    eprintln!("tree: {tree}");
                }
                let path = tree
                    .lines()
                    .filter_map(|l| l.trim().strip_prefix("node "))
                    .map(|p| p.trim_end_matches(" {").trim().to_owned())
                    .find(|p| {
                        p.starts_with("/org/ayatana/NotificationItem/") && !p.ends_with("/Menu")
                    })
                    .unwrap_or_else(|| "/StatusNotifierItem".to_owned());
                (entry.clone(), path)
            }
        };
        let (service, item_path) = (service.as_str(), item_path.as_str());
        let menu = desktop.run(
            "gdbus",
            &[
                "call",
                "--session",
                "--dest",
                service,
                "--object-path",
                item_path,
                "--method",
                "org.freedesktop.DBus.Properties.Get",
                "org.kde.StatusNotifierItem",
                "Menu",
            ],
        )?;
        let path = menu.split('\'').nth(1)?.to_owned();
        Some(TrayMenu {
            service: service.to_owned(),
            path,
        })
    }

    /// Calls a `com.canonical.dbusmenu` method on the app's menu.
    fn call(&self, desktop: &Desktop, method: &str, args: &[&str]) -> Option<String> {
        let method = format!("com.canonical.dbusmenu.{method}");
        let mut all = vec![
            "call",
            "--session",
            "--dest",
            &self.service,
            "--object-path",
            &self.path,
            "--method",
            &method,
        ];
        all.extend_from_slice(args);
        desktop.run("gdbus", &all)
    }

    /// `(id, label)` of every entry, submenus included.
    fn entries(&self, desktop: &Desktop) -> Vec<(i32, String)> {
        let layout = self
            .call(desktop, "GetLayout", &["0", "@i -1", "[]"])
            .unwrap_or_default();
        // Entries look like `(3, {'label': <'Sync now'>, ...}, [...])`.
        let mut out = Vec::new();
        for chunk in layout.split('(').skip(1) {
            let Some((id, rest)) = chunk.split_once(", {") else {
                continue;
            };
            let Ok(id) = id.trim().parse::<i32>() else {
                continue;
            };
            if let Some(label) = rest
                .split("'label': <'")
                .nth(1)
                .and_then(|l| l.split("'>").next())
            {
                out.push((id, label.replace('_', "")));
            }
        }
        out
    }

    /// Clicks the entry labelled `label`. The app rebuilds its menu when the queue changes,
    /// which renumbers the entries: a click on an id that just went away is refused, and is
    /// tried again on the new menu (as a person clicks again).
    async fn click(&self, desktop: &Desktop, label: &str) {
        let deadline = Instant::now() + crate::webdriver::PATIENCE;
        loop {
            let entries = self.entries(desktop);
            if let Some((id, _)) = entries.iter().find(|(_, l)| l == label) {
                let clicked = self.call(
                    desktop,
                    "Event",
                    &[&id.to_string(), "clicked", "<@i 0>", "0"],
                );
                if clicked.is_some() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "could not click {label} in the tray menu: {entries:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn wait_for_label(&self, desktop: &Desktop, label: &str) {
        let deadline = Instant::now() + crate::webdriver::PATIENCE;
        loop {
            let entries = self.entries(desktop);
            if entries.iter().any(|(_, l)| l == label) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no {label} in the tray menu: {entries:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tray_menu_counts_the_queue_syncs_now_and_quits() {
    if !crate::webview_available() {
        return;
    }
    let server = TestServer::start().await;
    let (_org, code) = server.demo().await;
    let (network, network_url) = StubNetwork::start("tray-token").await;
    let desktop = Desktop::enrolled(
        &server.url(),
        &code,
        Options {
            tray: true,
            ..Default::default()
        },
    )
    .await;
    desktop.connect_test_account("bluesky", &network_url, "tray-token");
    let d = &desktop.driver;
    d.wait_for("[data-testid=card]").await;

    let tray = TrayMenu::find(&desktop).await;
    let labels: Vec<String> = tray.entries(&desktop).into_iter().map(|(_, l)| l).collect();
    for expected in [
        "Open Relay",
        "Sync now",
        "No shares queued",
        "Pause notifications",
        "For 1 hour",
        "Until tomorrow",
        "Quit",
    ] {
        assert!(
            labels.iter().any(|l| l == expected),
            "{expected} missing from {labels:?}"
        );
    }

    // A share that cannot go out yet (the network is down) shows in the tray's count.
    network.down.store(true, Ordering::SeqCst);
    d.click_css("[data-testid=card]").await;
    d.click_css("[data-testid=share]").await;
    d.wait_for("[data-testid=text-bluesky]").await;
    // The tracked link arrives just after the composer opens and moves the button: wait
    // for it, as a person would see it, so the click lands on the button.
    d.wait_until(
        "the tracked link is shown",
        "return document.querySelector('[data-testid=link-bluesky]')?.textContent.includes('/l/')",
        json!([]),
    )
    .await;
    d.click_css("[data-testid=share-submit]").await;
    d.wait_for("[data-testid=share-queued]").await;
    tray.wait_for_label(&desktop, "1 share queued").await;
    d.click_css("[data-testid=nav-queue]").await;
    d.wait_until(
        "the share failed and waits for a retry",
        "return document.querySelector('[data-testid=share-row]')?.dataset.status === 'failed'",
        json!([]),
    )
    .await;
    d.screenshot("tray-waiting").await;

    // The network is back: "Sync now" in the tray sends it now, not at the next retry.
    network.down.store(false, Ordering::SeqCst);
    tray.click(&desktop, "Sync now").await;
    d.wait_until(
        "the share is posted",
        "return document.querySelector('[data-testid=share-row]')?.dataset.status === 'posted'",
        json!([]),
    )
    .await;
    assert_eq!(network.post_count(), 1);
    tray.wait_for_label(&desktop, "No shares queued").await;
    d.screenshot("tray-sent").await;

    // Quit ends the app: its tray item goes away.
    tray.click(&desktop, "Quit").await;
    let deadline = Instant::now() + crate::webdriver::PATIENCE;
    while TrayMenu::try_find(&desktop).is_some() {
        assert!(Instant::now() < deadline, "the app did not quit");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
