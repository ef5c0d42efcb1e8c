#!/usr/bin/env bash
# Runs Relay: the central server on embedded SQLite with the demo organisation, on
# http://127.0.0.1:8080, and the desktop app signed in to it as the demo employee (Alex Martin).
# Data lives in ./relay-data/ (delete it to start over). Extra arguments go to `serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_packages "${APP_BUILD_PACKAGES[@]}"
build_ui --quick
build_console --quick
cargo build --locked -p relay-server -p relay-app
mkdir -p relay-data

./target/debug/relay-server --database-url "sqlite:relay-data/relay-server.db" serve --demo "$@" \
    > relay-data/server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
link=
for _ in $(seq 1 150); do
    link=$(sed -n 's/^enrolment link: *//p' relay-data/server.log | head -n1)
    [ -n "$link" ] && break
    kill -0 $server 2>/dev/null || { cat relay-data/server.log; exit 1; }
    sleep 0.2
done
grep -E '^(enrolment code|console|  +\(sign-in|relay-server listening)' relay-data/server.log || true
echo "server log: relay-data/server.log"

# The app keeps its cache and outbox here; its session goes to the system keychain.
export RELAY_DATA_DIR="$PWD/relay-data/app"
args=()
# First run: sign in with the demo employee's enrolment link.
[ -f "$RELAY_DATA_DIR/relay.db" ] || args=("$link")
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    # No desktop here: run in a virtual one, with a private keychain.
    ensure_packages "${E2E_PACKAGES[@]}"
    echo "no display: running the app under Xvfb with a private keychain (Ctrl-C to stop)"
    # A private keychain starts empty each time: sign in again.
    args=("$link")
    scripts/with-keychain.sh xvfb-run -a -s "-screen 0 1280x860x24" ./target/debug/relay-app "${args[@]}"
else
    ./target/debug/relay-app "${args[@]}"
fi
