#!/usr/bin/env bash
# The reference deployment on this machine (not in CI): 20,000 employees' devices against
# relay-server, at 1x and 10x the peak rate, first on one instance over embedded SQLite
# (15,000 live connections), then on two instances over one PostgreSQL (all 20,000 live) with
# a third added mid-run. Prints one report per run, with the goals beside the figures.
# Arguments, if any, replace the two runs: `scripts/load.sh --backend postgres --instances 2`
# (see `target/release/relay-load run --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_postgres
# Each process here may open at most the hard limit (20,000 on these machines).
ulimit -n "$(ulimit -Hn)"
cargo build --locked --release -p relay-server -p relay-load
load=target/release/relay-load
if [ $# -gt 0 ]; then
    exec "$load" run "$@"
fi
"$load" run --backend sqlite
"$load" run --backend postgres --instances 2 --add-instance
