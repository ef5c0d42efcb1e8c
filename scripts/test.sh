#!/usr/bin/env bash
# Runs every test: the UI's type check and unit tests, then Rust unit, integration (SQLite and
# PostgreSQL) and end-to-end tests (the real app in a real webview), in one debug build.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_packages "${APP_BUILD_PACKAGES[@]}" "${E2E_PACKAGES[@]}"
ensure_postgres
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
build_ui
build_console
install_peers
# Tests keep what they wrote under target/secret-sweep and note every secret they handled; after
# the whole suite, no kept file (databases, logs) may hold any of them.
export RELAY_SWEEP_DIR="$PWD/target/secret-sweep"
rm -rf "$RELAY_SWEEP_DIR"
# Tests whose peer is missing (PostgreSQL, the keychain, the PDS, a webview) note it here; the
# list is shown at the end, pass or fail (cargo hides a passing test's stderr).
export RELAY_SKIPPED_LOG="$PWD/target/skipped-tests.txt"
rm -f "$RELAY_SKIPPED_LOG"
list_skipped() {
    if [ -s "$RELAY_SKIPPED_LOG" ]; then
        echo
        echo "!!!!!!!! SKIPPED TESTS ($(wc -l < "$RELAY_SKIPPED_LOG")): their peer was missing !!!!!!!!"
        sort "$RELAY_SKIPPED_LOG"
    else
        echo
        echo "Skipped tests: none."
    fi
}
trap list_skipped EXIT
# Inside a D-Bus session with a real Secret Service, for the keychain tests (the end-to-end
# tests make a desktop session of their own each).
scripts/with-keychain.sh cargo test --workspace --locked "$@"
if [ $# -eq 0 ]; then
    scripts/sweep.sh "$RELAY_SWEEP_DIR"
    # The API against its own OpenAPI document, on the server binary the tests just built.
    scripts/schemathesis.sh 60
fi
