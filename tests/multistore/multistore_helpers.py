"""Helpers for the many-stores tests: the shipped two-store pipelines pointed at the sandboxes, and what the QBO
sandbox company holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from ledgerlink import json_loads
from ledgerlink.pipeline import Pipeline
from sandbox_helpers import load_shipped, qbo_env as _qbo_env, shipped

__all__ = ["REALM", "OTHER_REALM", "STORE_A", "STORE_B", "shipped", "pipeline", "qbo_env", "receipts", "receipt_keys",
           "posting_orders"]

REALM = "9341455000000000"
OTHER_REALM = "9341455000000777"
STORE_A, STORE_B = "abc123", "def456"


def pipeline(tmp_path: Path, name: str, env: dict[str, str], **source: Any) -> Pipeline:
    """A shipped pipeline file, copied to `tmp_path` (its `source` keys overridden) and loaded with `env`."""
    def override(text: str) -> str:
        if not source:
            return text
        import yaml
        raw = yaml.safe_load(text)
        raw["source"].update(source)
        raw["source"] = {k: v for k, v in raw["source"].items() if v is not None}
        return yaml.safe_dump(raw)

    return load_shipped(tmp_path, name, env, override)


def qbo_env(qbo: str, realm: str = REALM) -> dict[str, str]:
    """A company's QBO sandbox, with the batch limit raised too (the two-store pipelines batch)."""
    return _qbo_env(qbo, realm=realm, batch_per_minute="500000")


def receipts(qbo: str, credentials: Path, realm: str = REALM) -> list[dict[str, Any]]:
    """Every SalesReceipt in the sandbox company, read through Intuit's query API with the company's current
    refresh token from the pipelines' shared `credentials` file (the rotated one is put back)."""
    from ledgerlink.store.shared_credentials import SharedCredentials

    shared = SharedCredentials(credentials)
    refresh = shared.load(f"qbo:{realm}:refresh_token") or "sandbox-qbo-refresh-token"
    token = httpx.post(f"{qbo}/oauth2/v1/tokens/bearer", auth=("sandbox-qbo-client", "sandbox-qbo-client-secret"),
                       data={"grant_type": "refresh_token", "refresh_token": refresh}).json()
    shared.save(f"qbo:{realm}:refresh_token", token["refresh_token"])
    out: list[dict[str, Any]] = []
    start = 1
    while True:
        reply = httpx.get(f"{qbo}/v3/company/{realm}/query", params={
            "query": f"SELECT * FROM SalesReceipt STARTPOSITION {start} MAXRESULTS 1000", "minorversion": "75"},
            headers={"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"})
        page = json_loads(reply.content)["QueryResponse"].get("SalesReceipt", [])
        out.extend(page)
        if len(page) < 1000:
            return out
        start += 1000


def receipt_keys(rows: list[dict[str, Any]]) -> list[str]:
    """The ledgerlink key on the first line of each receipt's PrivateNote."""
    return [str(r.get("PrivateNote") or "").split("\n", 1)[0].removeprefix("ledgerlink ") for r in rows]


POSTING = {"Shipped", "Partially Shipped", "Completed", "Awaiting Fulfillment", "Awaiting Shipment", "Awaiting Pickup",
           "Partially Refunded"}


def posting_orders(bc_sandbox: Any, store_hash: str) -> set[str]:
    """The ids of a sandbox store's orders the shipped pipeline posts (paid, in a posting status)."""
    from ledgerlink_bigcommerce.normalise import PAID_STATUS_IDS

    book = bc_sandbox.stores[store_hash].book
    return {str(oid) for oid, o in book.orders.items() if o["status_id"] in PAID_STATUS_IDS and o["status"] in POSTING}
