#!/usr/bin/env bash
# Runs a command inside its own D-Bus session with an unlocked gnome-keyring (a real Secret
# Service) in scratch folders, as the keychain tests need. Usage: scripts/with-keychain.sh CMD...
set -euo pipefail
if [ -z "${RELAY_KEYCHAIN_SESSION:-}" ]; then
    export RELAY_KEYCHAIN_SESSION=1
    exec dbus-run-session -- "$0" "$@"
fi
scratch=$(mktemp -d)
# Cargo and rustup live under the real home.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export HOME="$scratch/home" XDG_RUNTIME_DIR="$scratch/run" XDG_DATA_HOME="$scratch/home/.local/share"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
eval "$(printf %s relay-test | gnome-keyring-daemon --daemonize --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
# The daemon takes a moment to register on the bus.
for _ in $(seq 1 50); do
    if printf probe | secret-tool store --label=probe relay-probe probe 2>/dev/null; then
        secret-tool clear relay-probe probe 2>/dev/null || true
        break
    fi
    sleep 0.2
done
set +e
"$@"
status=$?
[ -n "${GNOME_KEYRING_PID:-}" ] && kill "$GNOME_KEYRING_PID" 2>/dev/null || true
rm -rf "$scratch"
exit $status
