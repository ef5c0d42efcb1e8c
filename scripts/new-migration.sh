#!/usr/bin/env bash
# Starts a schema change: the next migration, the same file for both backends.
# Write it once; where SQLite and PostgreSQL must differ, end both lines with the same
# `-- dialect: <what>` mark (a unit test of relay-server allows no other difference).
set -euo pipefail
cd "$(dirname "$0")/../crates/server/migrations"
[ $# -eq 1 ] || { echo "usage: scripts/new-migration.sh name_in_snake_case" >&2; exit 2; }
last=$(ls sqlite | sed -n 's/^\([0-9]\{4\}\)_.*/\1/p' | sort | tail -1)
next=$(printf '%04d' $((10#$last + 1)))
file="${next}_$1.sql"
printf -- '-- %s\n-- Keep in step with migrations/sqlite and migrations/postgres: the queries are shared.\n' "$1" > "sqlite/$file"
cp "sqlite/$file" "postgres/$file"
echo "crates/server/migrations/{sqlite,postgres}/$file"
