#!/usr/bin/env bash
# The whole-suite secret sweep: every file the tests kept under DIR (device databases and their
# WAL, server databases, the app's and the servers' logs) is searched for every secret the tests
# noted in DIR/secrets.txt (keychain values, passwords and tokens peers issued).
# Usage: scripts/sweep.sh DIR
set -euo pipefail
dir=$1
list="$dir/secrets.txt"
if [ ! -s "$list" ]; then
    echo "secret sweep: no secrets were noted under $dir" >&2
    exit 1
fi
patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT
# Short values (a test's "tok") would match by chance; every real token is longer.
awk 'length($0) >= 8' "$list" | sort -u > "$patterns"
files=$(find "$dir" -type f ! -name secrets.txt | wc -l)
bytes=$(du -sb --exclude=secrets.txt "$dir" | cut -f1)
found=$(grep -rlaF -f "$patterns" --exclude=secrets.txt "$dir" || true)
if [ -n "$found" ]; then
    echo "secret sweep: a secret is in these files:" >&2
    while read -r file; do
        # Which secrets, by their first characters only: the log must not leak them either.
        grep -oaF -f "$patterns" "$file" | sort -u | cut -c1-6 | sed "s|^|  $file: |;s|\$|…|" >&2
    done <<< "$found"
    exit 1
fi
echo "secret sweep: $(wc -l < "$patterns") secrets, $files files ($bytes bytes) kept by the suite: none holds a secret"
