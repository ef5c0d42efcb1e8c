#!/usr/bin/env bash
# One end-to-end test's desktop, run inside scripts/with-keychain.sh (its own D-Bus session and
# unlocked keychain) and xvfb-run (its own display): optionally a tray host, then WebKitWebDriver.
# Usage: session.sh ENV_FILE PORT [tray]
set -euo pipefail
env_file=$1 port=$2 tray=${3:-}
# D-Bus-activated services (the notification daemon) need the display.
dbus-update-activation-environment DISPLAY XAUTHORITY >/dev/null 2>&1 || true
host_ready() {
    gdbus call --session --dest org.kde.StatusNotifierWatcher \
        --object-path /StatusNotifierWatcher \
        --method org.freedesktop.DBus.Properties.Get \
        org.kde.StatusNotifierWatcher IsStatusNotifierHostRegistered 2>/dev/null | grep -q true
}
if [ "$tray" = tray ]; then
    # The app must find a tray host when it starts (libayatana-appindicator looks once, then
    # falls back to an XEmbed icon no StatusNotifierItem host sees), so the session is ready
    # only once the host is registered. gtk-sni-tray-standalone races its own watcher thread
    # on a busy machine and can die at start ("Pattern match failure ... Main.hs:177"): then it
    # is started again.
    for _ in 1 2 3 4 5; do
        gtk-sni-tray-standalone --watcher --bottom --size 32 >&2 &
        host=$!
        for _ in $(seq 100); do
            host_ready && break 2
            kill -0 "$host" 2>/dev/null || break
            sleep 0.1
        done
        kill "$host" 2>/dev/null || true
        echo "session.sh: the tray host did not come up; starting it again" >&2
    done
fi
{
    echo "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS"
    echo "DISPLAY=$DISPLAY"
    echo "XAUTHORITY=${XAUTHORITY:-}"
    echo "HOME=$HOME"
    echo "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"
    echo "XDG_DATA_HOME=$XDG_DATA_HOME"
} > "$env_file.tmp"
mv "$env_file.tmp" "$env_file"
export TAURI_WEBVIEW_AUTOMATION=true NO_AT_BRIDGE=1
# Pages the app opens "in the browser" go to the test's browser (tests/e2e/bin/xdg-open).
export PATH="$(cd "$(dirname "$0")" && pwd)/bin:$PATH"
exec WebKitWebDriver --port="$port"
