"""End to end: two BigCommerce stores whose order ids overlap post into one QuickBooks Online company (the shipped
two-store pipelines), and one store posts into two companies, each exactly once."""

from __future__ import annotations

import sqlite3
from collections import Counter

from ledgerlink.runtime import sync
from ledgerlink.store import Store

from multistore_helpers import OTHER_REALM, REALM, STORE_A, STORE_B, pipeline, posting_orders, qbo_env, receipt_keys, receipts


def _pipelines(tmp_path, bc: str, qbo: str, realm: str = REALM):
    env = {"BIGCOMMERCE_BASE_URL": bc, **qbo_env(qbo, realm),
           "LEDGERLINK_STATE_A": str(tmp_path / "a.duckdb"), "LEDGERLINK_STATE_B": str(tmp_path / "b.duckdb"),
           "LEDGERLINK_CREDENTIALS": str(tmp_path / "company.credentials")}
    return (pipeline(tmp_path, "bigcommerce-two-stores-a-to-qbo.yaml", env),
            pipeline(tmp_path, "bigcommerce-two-stores-b-to-qbo.yaml", env))


def test_two_stores_with_overlapping_order_ids_post_every_order_once_into_one_company(tmp_path, sandboxes):
    with sandboxes(orders=30) as (bc, (qbo,), bc_sandbox):
        a_orders, b_orders = posting_orders(bc_sandbox, STORE_A), posting_orders(bc_sandbox, STORE_B)
        overlap = a_orders & b_orders
        assert overlap and len(overlap) >= 5  # both stores number from 101: the collision the keys must survive
        a, b = _pipelines(tmp_path, bc, qbo)
        first_a, first_b = sync(a), sync(b)
        for report in (first_a, first_b):
            assert report.status == "succeeded", report.errors
            assert report.counts["dead_letters_open"] == 0
        assert first_a.counts["created"]["SalesReceipt"] == len(a_orders)
        assert first_b.counts["created"]["SalesReceipt"] == len(b_orders)

        rows = receipts(qbo, tmp_path / "company.credentials")
        keys = receipt_keys(rows)
        assert len(keys) == len(set(keys)) == len(a_orders) + len(b_orders)
        by_store = Counter(k.split("/", 1)[0] for k in keys)
        assert by_store == {f"SalesReceipt:bigcommerce@{STORE_A}": len(a_orders),
                            f"SalesReceipt:bigcommerce@{STORE_B}": len(b_orders)}
        # an order number both stores used is two receipts, one per store, each with its own store's total
        oid = min(overlap, key=int)
        same_number = {k: r for k, r in zip(keys, rows) if k.endswith(f"/order/{oid}")}
        assert set(same_number) == {f"SalesReceipt:bigcommerce@{STORE_A}/order/{oid}",
                                    f"SalesReceipt:bigcommerce@{STORE_B}/order/{oid}"}
        totals = {k.split("@")[1].split("/")[0]: str(r["TotalAmt"]) for k, r in same_number.items()}
        expected = {h: str(bc_sandbox.stores[h].book.orders[int(oid)]["total_inc_tax"]) for h in (STORE_A, STORE_B)}
        assert {h: float(v) for h, v in totals.items()} == {h: float(v) for h, v in expected.items()}
        assert totals[STORE_A] != totals[STORE_B]
        # both stores share the per-marketplace customer: one "BigCommerce USD", not one per store
        assert {r["CustomerRef"]["name"] for r in rows} == {"BigCommerce USD"}

        again_a, again_b = sync(a), sync(b)
        assert again_a.counts["created"] == {} and again_b.counts["created"] == {}
        assert len(receipts(qbo, tmp_path / "company.credentials")) == len(a_orders) + len(b_orders)
        for path, h in ((tmp_path / "a.duckdb", STORE_A), (tmp_path / "b.duckdb", STORE_B)):
            store = Store(path)
            try:
                meta = dict(store.db.fetchall("SELECT key, value FROM ll_meta WHERE key LIKE 'key_%'"))
            finally:
                store.close()
            assert meta == {"key_scope": "store", "key_store": h}


def test_one_store_posts_into_two_companies(tmp_path, sandboxes):
    with sandboxes(orders=20, realms=2) as (bc, (qbo_1, qbo_2), bc_sandbox):
        orders = posting_orders(bc_sandbox, STORE_A)
        runs = []
        for name, qbo, realm in (("one", qbo_1, REALM), ("two", qbo_2, OTHER_REALM)):
            folder = tmp_path / name
            folder.mkdir()
            env = {"BIGCOMMERCE_BASE_URL": bc, **qbo_env(qbo, realm), "LEDGERLINK_STATE_A": str(folder / "state.duckdb"),
                   "LEDGERLINK_CREDENTIALS": str(folder / "company.credentials")}
            runs.append((pipeline(folder, "bigcommerce-two-stores-a-to-qbo.yaml", env), qbo, realm, folder))
        for p, *_ in runs:
            report = sync(p)
            assert report.status == "succeeded", report.errors
            assert report.counts["created"]["SalesReceipt"] == len(orders)
        keys = [receipt_keys(receipts(qbo, folder / "company.credentials", realm)) for _, qbo, realm, folder in runs]
        assert sorted(keys[0]) == sorted(keys[1]) and len(keys[0]) == len(set(keys[0])) == len(orders)
        assert all(k.startswith(f"SalesReceipt:bigcommerce@{STORE_A}/order/") for k in keys[0])
        # each company's rotated refresh token is kept under its own realm's name, none in the state files
        for _, _, realm, folder in runs:
            with sqlite3.connect(folder / "company.credentials") as con:
                assert [n for (n,) in con.execute("SELECT name FROM credentials") if not n.endswith(":expires_at")] == [f"qbo:{realm}:refresh_token"]
            store = Store(folder / "state.duckdb")
            try:
                assert store.db.fetchall("SELECT name FROM credentials") == []
            finally:
                store.close()
        assert all(sync(p).counts["created"] == {} for p, *_ in runs)


def test_two_amazon_seller_accounts_post_into_one_company_each_under_its_seller(tmp_path):
    import yaml

    from ledgerlink.pipeline import load_pipeline
    from sandbox_helpers import amazon_env, sandbox_running, shipped

    with sandbox_running("amazon_sp", orders=15, seed=7) as (seller_1, _), \
            sandbox_running("amazon_sp", orders=15, seed=8) as (seller_2, _), sandbox_running("qbo") as (qbo, _):
        pipelines = []
        for name, url in (("SELLER1", seller_1), ("SELLER2", seller_2)):
            raw = yaml.safe_load(shipped("amazon-to-qbo.yaml"))
            raw["name"] = f"amazon-{name.lower()}-to-qbo"
            raw["state"] = str(tmp_path / f"{name}.duckdb")
            raw["credentials"] = str(tmp_path / "company.credentials")
            raw["source"]["config"]["seller_id"] = name
            path = tmp_path / f"{name}.yaml"
            path.write_text(yaml.safe_dump(raw))
            pipelines.append(load_pipeline(path, env={**amazon_env(url), **qbo_env(qbo)}))
        created = {}
        for seller, p in zip(("SELLER1", "SELLER2"), pipelines):
            report = sync(p)
            assert report.status == "succeeded", report.errors
            created[seller] = report.counts["created"]["SalesReceipt"]
            assert created[seller] > 5
        rows = receipts(qbo, tmp_path / "company.credentials")
        keys = receipt_keys(rows)
        assert len(keys) == len(set(keys)) == sum(created.values())
        assert Counter(k.split("/", 1)[0] for k in keys) == {f"SalesReceipt:amazon_sp@{s}": n for s, n in created.items()}
        # the sellers share the marketplace's customer (one per marketplace and currency)
        assert {r["CustomerRef"]["name"] for r in rows} == {"Amazon.com USD"}
        assert all(sync(p).counts["created"] == {} for p in pipelines)
