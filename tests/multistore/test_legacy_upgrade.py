"""End to end: a state file that posted with the keys of earlier versions (`bigcommerce/order/101`) keeps them
after the upgrade, so a sync posts nothing again; a second store added into the same company gets store keys
and posts every one of its orders, even those whose numbers the first store used."""

from __future__ import annotations

import httpx
import pytest

from ledgerlink import ConfigError
from ledgerlink.runtime import sync
from ledgerlink.store import Store

from multistore_helpers import STORE_A, STORE_B, pipeline, posting_orders, qbo_env, receipt_keys, receipts


def _keys(path) -> tuple[list[str], dict[str, str]]:
    store = Store(path)
    try:
        keys = [k for (k,) in store.db.fetchall("SELECT key FROM outbox WHERE stream = 'SalesReceipt' ORDER BY key")]
        meta = dict(store.db.fetchall("SELECT key, value FROM ll_meta WHERE key LIKE 'key_%'"))
        return keys, meta
    finally:
        store.close()


def _forget_key_scope(path) -> None:
    """What an earlier version left: its keys in the outbox, no key scope in ll_meta."""
    store = Store(path)
    try:
        store.db.execute("DELETE FROM ll_meta WHERE key IN ('key_scope', 'key_store')")
    finally:
        store.close()


def test_an_upgraded_state_file_keeps_its_keys_and_a_new_store_gets_store_keys(tmp_path, sandboxes):
    with sandboxes(orders=25) as (bc, (qbo,), bc_sandbox):
        env = {"BIGCOMMERCE_BASE_URL": bc, **qbo_env(qbo), "LEDGERLINK_CREDENTIALS": str(tmp_path / "company.credentials"),
               "LEDGERLINK_STATE_A": str(tmp_path / "a.duckdb"), "LEDGERLINK_STATE_B": str(tmp_path / "b.duckdb")}
        a_orders = posting_orders(bc_sandbox, STORE_A)
        old = pipeline(tmp_path, "bigcommerce-two-stores-a-to-qbo.yaml", env, key_scope="legacy")
        first = sync(old)
        assert first.status == "succeeded" and first.counts["created"]["SalesReceipt"] == len(a_orders)
        _forget_key_scope(tmp_path / "a.duckdb")
        keys, meta = _keys(tmp_path / "a.duckdb")
        assert keys == sorted(f"SalesReceipt:bigcommerce/order/{o}" for o in a_orders) and meta == {}

        # upgraded: the pipeline file says nothing about keys; the state file planned writes, so legacy it stays
        upgraded = pipeline(tmp_path, "bigcommerce-two-stores-a-to-qbo.yaml", env, key_scope=None)
        assert upgraded.source.key_scope is None
        again = sync(upgraded, replan=True)  # every staged order planned again, under the upgraded code
        assert again.status == "succeeded", again.errors
        assert again.counts["created"] == {} and again.counts["planned_new"] == 0
        assert _keys(tmp_path / "a.duckdb") == (keys, {"key_scope": "legacy", "key_store": STORE_A})
        # a new order of the upgraded store posts with a legacy key too
        new_order = httpx.post(f"{bc}/_sandbox/orders", json={"status_id": 11}).json()
        third = sync(upgraded)
        assert third.counts["created"] == {"SalesReceipt": 1}
        assert f"SalesReceipt:bigcommerce/order/{new_order['id']}" in _keys(tmp_path / "a.duckdb")[0]
        # asking for store keys on this state file would post everything again: refused, nothing written
        with pytest.raises(ConfigError) as refused:
            sync(pipeline(tmp_path, "bigcommerce-two-stores-a-to-qbo.yaml", env))
        assert "post them again" in refused.value.message

        # a second store joins the company: a new state file, store keys, every order posts
        b_orders = posting_orders(bc_sandbox, STORE_B)
        assert a_orders & b_orders
        joined = sync(pipeline(tmp_path, "bigcommerce-two-stores-b-to-qbo.yaml", env, key_scope=None))
        assert joined.status == "succeeded" and joined.counts["created"]["SalesReceipt"] == len(b_orders)
        posted = receipt_keys(receipts(qbo, tmp_path / "company.credentials"))
        assert len(posted) == len(set(posted)) == len(a_orders) + 1 + len(b_orders)
        assert sum(k.startswith("SalesReceipt:bigcommerce/order/") for k in posted) == len(a_orders) + 1
        assert sum(k.startswith(f"SalesReceipt:bigcommerce@{STORE_B}/order/") for k in posted) == len(b_orders)
