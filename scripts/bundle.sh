#!/usr/bin/env bash
# Builds the desktop app's Debian package (release build, with the Tauri CLI from npm).
# Output: target/release/bundle/deb/Relay_<version>_amd64.deb
# Install it with: sudo apt-get install ./target/release/bundle/deb/Relay_*_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_packages "${APP_BUILD_PACKAGES[@]}"
build_ui --quick
# The CLI wants the folder of tauri.conf.json to be the app crate: src-tauri/tauri.conf.json links
# to the one at the repository root.
cd src-tauri
../ui/node_modules/.bin/tauri build --bundles deb "$@"
ls -l ../target/release/bundle/deb/*.deb
