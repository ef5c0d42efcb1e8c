#!/usr/bin/env bash
# Runs Relay: the central server on embedded SQLite with the demo organisation, on
# http://127.0.0.1:8080, printing an enrolment code for the demo employee.
# Data lives in ./relay-data/ (delete it to start over).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p relay-data
exec cargo run --locked -p relay-server -- \
    --database-url "sqlite:relay-data/relay-server.db" serve --demo "$@"
