#!/usr/bin/env bash
# One end-to-end test's desktop, run inside scripts/with-keychain.sh (its own D-Bus session and
# unlocked keychain) and xvfb-run (its own display): optionally a tray host, then WebKitWebDriver.
# Usage: session.sh ENV_FILE PORT [tray]
set -euo pipefail
env_file=$1 port=$2 tray=${3:-}
# D-Bus-activated services (the notification daemon) need the display.
dbus-update-activation-environment DISPLAY XAUTHORITY >/dev/null 2>&1 || true
if [ "$tray" = tray ]; then
    gtk-sni-tray-standalone --watcher --bottom --size 32 >/dev/null 2>&1 &
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
exec WebKitWebDriver --port="$port"
