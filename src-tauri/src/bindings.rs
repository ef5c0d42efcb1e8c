//! The typed command set, and the TypeScript bindings generated from it
//! (`ui/src/bindings.ts`, committed; a test fails when it is stale).

use specta_typescript::Typescript;
use tauri_specta::{collect_commands, collect_events, Builder};

use crate::accounts::*;
use crate::commands::*;
use crate::personal::*;
use crate::programme::*;
use crate::views::{Changed, Navigate, SyncProgress};

pub fn builder() -> Builder<tauri::Wry> {
    Builder::new()
        .commands(collect_commands![
            status,
            status_local,
            enrol,
            sign_in_with_company,
            first_sync,
            sync_now,
            feed,
            search,
            article,
            mark_read,
            mark_saved,
            channels,
            follow_channel,
            accounts,
            connect_bluesky,
            connectable_networks,
            connect_x,
            connect_mastodon,
            connect_linkedin,
            disconnect_account,
            intent_networks,
            open_share_intent,
            confirm_shared,
            queue_share,
            shares,
            edit_share,
            cancel_share,
            retry_share,
            settings,
            set_language,
            pause_notifications,
            set_start_at_login,
            sign_out,
            about,
            take_pending_route,
            open_link,
            ui_painted,
            programme,
            set_on_board,
            tracked_link,
            draw,
            set_draw_opt_out,
            privacy,
            download_my_data,
            erase_me,
        ])
        .events(collect_events![SyncProgress, Changed, Navigate])
        // Not a command's answer: the page reads it from `window.__RELAY_FIRST_SCREEN__`.
        .typ::<crate::first_screen::FirstScreen>()
        .dangerously_cast_bigints_to_number()
        .disable_serde_phases()
}

/// Where the bindings live, from this crate's folder.
pub const BINDINGS: &str = "../ui/src/bindings.ts";

pub fn export(builder: &Builder<tauri::Wry>, path: &std::path::Path) {
    builder
        .export(
            Typescript::default().header("// Generated from src-tauri by `cargo test -p relay-app` (tauri-specta). Do not edit.\n"),
            path,
        )
        .expect("export TypeScript bindings");
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Regenerates the bindings with `RELAY_WRITE_BINDINGS=1`; otherwise fails when the
    /// committed file differs from what the Rust types say.
    #[test]
    fn typescript_bindings_are_current() {
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join(super::BINDINGS);
        let builder = super::builder();
        if std::env::var_os("RELAY_WRITE_BINDINGS").is_some() {
            super::export(&builder, &committed);
            return;
        }
        let fresh = tempfile_path();
        super::export(&builder, &fresh);
        let fresh_text = std::fs::read_to_string(&fresh).unwrap();
        let _ = std::fs::remove_file(&fresh);
        let committed_text = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(
            fresh_text == committed_text,
            "ui/src/bindings.ts is stale: run `RELAY_WRITE_BINDINGS=1 cargo test -p relay-app bindings` and commit it"
        );
    }

    fn tempfile_path() -> std::path::PathBuf {
        std::env::temp_dir().join(format!("relay-bindings-{}.ts", std::process::id()))
    }
}
