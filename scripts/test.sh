#!/usr/bin/env bash
# Runs every test: unit, integration (SQLite and PostgreSQL) and, as they arrive, end-to-end.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_packages gnome-keyring libsecret-tools dbus dbus-daemon
ensure_postgres
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
# Inside a D-Bus session with a real Secret Service, for the keychain tests.
scripts/with-keychain.sh cargo test --workspace --locked "$@"
