#!/usr/bin/env bash
# The desktop app's startup benchmark: release binary size, launch to first painted feed with
# 10,000 cached items (median of RELAY_BENCH_ROUNDS turns, default 5, after a warm-up launch of
# each; RELAY_BENCH_STEPS=1 prints each launch's start steps), and memory after idling in the
# tray (10 minutes; set RELAY_BENCH_IDLE_SECS to shorten), next to a bare Tauri window built the
# same way.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_packages "${APP_BUILD_PACKAGES[@]}" "${E2E_PACKAGES[@]}" xdotool binutils
build_ui --quick
cargo build --release --locked -p relay-app -p relay-bare-window
# A display and a keychain of its own (the device's session goes to the keychain).
scripts/with-keychain.sh xvfb-run -a -s "-screen 0 1280x860x24" \
    cargo bench --locked -p relay-app --bench startup
