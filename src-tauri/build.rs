/// The app's own commands: each gets an `allow-<name>` permission, and the capability in
/// `tauri.conf.json` grants exactly these (plus event listening) to the main window.
const COMMANDS: &[&str] = &[
    "status",
    "status_local",
    "enrol",
    "sign_in_with_company",
    "first_sync",
    "sync_now",
    "feed",
    "search",
    "article",
    "mark_read",
    "mark_saved",
    "channels",
    "follow_channel",
    "accounts",
    "connect_bluesky",
    "connectable_networks",
    "connect_x",
    "connect_mastodon",
    "connect_linkedin",
    "disconnect_account",
    "intent_networks",
    "open_share_intent",
    "confirm_shared",
    "queue_share",
    "shares",
    "edit_share",
    "cancel_share",
    "retry_share",
    "settings",
    "set_language",
    "pause_notifications",
    "set_start_at_login",
    "sign_out",
    "about",
    "take_pending_route",
    "open_link",
    "ui_painted",
    "programme",
    "set_on_board",
    "tracked_link",
    "draw",
    "set_draw_opt_out",
    "privacy",
    "download_my_data",
    "erase_me",
];

fn main() {
    // The one Tauri config lives at the repository root; `src-tauri/tauri.conf.json` links to
    // it so that its paths resolve from here for cargo and the Tauri CLI alike.
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("tauri.conf.json")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
