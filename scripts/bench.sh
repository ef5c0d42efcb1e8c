#!/usr/bin/env bash
# Benchmarks (release builds; CI does not run them). Installs nginx and wrk for the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_packages nginx-light wrk
ensure_postgres
cargo bench --locked -p relay-server --bench sync -- "$@"
cargo bench --locked -p relay-server --bench programme
cargo bench --locked -p relay-server --bench curation
cargo bench --locked -p relay-client --bench engine
