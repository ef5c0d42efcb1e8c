#!/usr/bin/env bash
# Copies the README's pictures from the end-to-end tests' latest run
# (`cargo test -p relay-app --test e2e` writes them under target/e2e-screenshots/).
set -euo pipefail
cd "$(dirname "$0")/.."
from=target/e2e-screenshots
to=docs/screenshots
mkdir -p "$to"
for pair in 02-feed:app-feed console-12-analytics:console-analytics \
            console-04-editor:console-editor programme-board:app-programme; do
    src="$from/${pair%%:*}.png"
    [ -f "$src" ] || { echo "missing $src: run the end-to-end tests first" >&2; exit 1; }
    cp "$src" "$to/${pair#*:}.png"
done
echo "README pictures updated in $to"
