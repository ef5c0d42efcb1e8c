#!/usr/bin/env bash
# Runs scim2-tester (PyPI) against a Relay server's SCIM endpoint, from a virtualenv it makes
# once under target/. Usage: scripts/scim-tester.sh BASE_URL TOKEN
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/scim-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import scim2_tester, httpx2' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        'scim2-tester==0.5.2' 'scim2-client==0.13.2' 'scim2-models==0.12.3' 'httpx2==2.17.0'
fi
exec "$venv/bin/python" scripts/scim_check.py "$1" "$2"
