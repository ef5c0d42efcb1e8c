"""Checks Relay's SCIM endpoint with scim2-tester (PyPI): discovery documents, then create,
read, list, attribute selection, replace, delete and every PATCH operation on Users.
Usage: scim_check.py BASE_URL TOKEN   (exits 1 when a check fails; prints every result)"""
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

url, token = sys.argv[1], sys.argv[2]
client = SyncSCIMClient(Client(base_url=url, headers={"Authorization": f"Bearer {token}"}))
results = check_server(client)
failed = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
for r in results:
    print(r.status.name, r.title, "|", (r.reason or "").replace("\n", " ")[:400])
print(f"checks: {len(results)}, failed: {len(failed)}")
sys.exit(1 if failed or not results else 0)
