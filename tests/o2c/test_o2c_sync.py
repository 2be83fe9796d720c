"""Order to cash end to end: the shipped bigcommerce-to-qbo pipeline, `ledgerlink sync`, both sandboxes over
loopback. An unpaid order becomes an invoice, its payment closes it once the order is paid; an order cancelled
after posting is voided; bad input (unmatched SKU, a SKU matching two items, a negative quantity, a currency the
company lacks) becomes dead letters that say how to fix it."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import pytest
import yaml

from ledgerlink import json_loads
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from sandbox_helpers import bigcommerce_env, load_shipped, qbo_env, sandbox_running

REALM = "9341455000000000"


@pytest.fixture
def world(tmp_path):
    made = []

    @contextlib.contextmanager
    def make(orders: int = 6, options: dict[str, Any] | None = None, **qbo_options: Any):
        made.append(1)
        state = tmp_path / f"state-{len(made)}.duckdb"
        def edit(text: str) -> str:
            raw = yaml.safe_load(text)
            raw["destination"]["options"].update(options or {})
            return yaml.safe_dump(raw)

        with sandbox_running("bigcommerce", orders=orders) as (bc, _), \
                sandbox_running("qbo", **qbo_options) as (qbo, _):
            env = {"LEDGERLINK_STATE": str(state), **bigcommerce_env(bc), **qbo_env(qbo, batch_per_minute="50000")}
            yield World(bc, qbo, state, load_shipped(tmp_path, "bigcommerce-to-qbo.yaml", env, edit))
    return make


class World:
    def __init__(self, bc: str, qbo: str, state: Any, pipeline: Any):
        self.bc, self.qbo, self.state, self.pipeline = bc, qbo, state, pipeline

    def place(self, status_id: int) -> str:
        return str(httpx.post(f"{self.bc}/_sandbox/orders", json={"status_id": status_id}).json()["id"])

    def set_status(self, order_id: str, status_id: int) -> None:
        """The merchant changes the order, through BigCommerce's own API (PUT /v2/orders/{id})."""
        httpx.put(f"{self.bc}/stores/abc123/v2/orders/{order_id}", json={"status_id": status_id},
                  headers={"X-Auth-Token": "sandbox-bigcommerce-token", "Accept": "application/json"}
                  ).raise_for_status()

    def corrupt(self, order_id: str, field: str, value: Any, where: str = "order") -> None:
        httpx.post(f"{self.bc}/_sandbox/orders/{order_id}/corrupt",
                   json={"field": field, "value": value, "where": where}).raise_for_status()

    def _token(self) -> str:
        store = Store(self.state)
        try:
            refresh = store.credentials.load(f"qbo:{REALM}:refresh_token") or "sandbox-qbo-refresh-token"
        finally:
            store.close()
        reply = httpx.post(f"{self.qbo}/oauth2/v1/tokens/bearer", auth=("sandbox-qbo-client", "sandbox-qbo-client-secret"),
                           data={"grant_type": "refresh_token", "refresh_token": refresh})
        reply.raise_for_status()
        store = Store(self.state)  # the sandbox rotated it: keep the pipeline's copy current
        try:
            store.credentials.save(f"qbo:{REALM}:refresh_token", reply.json()["refresh_token"])
        finally:
            store.close()
        return reply.json()["access_token"]

    def api(self, method: str, tail: str, **kw: Any) -> dict[str, Any]:
        reply = httpx.request(method, f"{self.qbo}/v3/company/{REALM}/{tail}", params={"minorversion": "75",
                              **kw.pop("params", {})}, headers={"Authorization": f"Bearer {self._token()}",
                                                                "Accept": "application/json"}, **kw)
        return json_loads(reply.content)

    def query(self, statement: str) -> list[dict[str, Any]]:
        entity = statement.split()[3]
        return self.api("GET", "query", params={"query": statement})["QueryResponse"].get(entity, [])

    def letters(self) -> list[tuple[str, str, str, str | None]]:
        store = Store(self.state)
        try:
            return store.db.fetchall("SELECT stage, record_key, message, hint FROM dead_letters WHERE status = 'open' "
                                     "ORDER BY id")
        finally:
            store.close()


def test_an_unpaid_order_is_invoiced_then_paid_and_a_posted_order_cancelled_is_voided(world):
    with world(orders=0) as w:
        unpaid = w.place(7)   # Awaiting Payment
        paid = w.place(11)    # Awaiting Fulfillment: paid at checkout
        first = sync(w.pipeline)
        assert first.status == "succeeded", first.errors
        assert first.counts["dead_letters_open"] == 0
        [invoice] = w.query(f"select * from Invoice where DocNumber = '{unpaid}'")
        assert invoice["Balance"] == invoice["TotalAmt"] > 0
        [receipt] = w.query(f"select * from SalesReceipt where DocNumber = '{paid}'")
        assert first.counts["created"]["Invoice"] == 1 and "Payment" not in first.counts["created"]

        w.set_status(unpaid, 11)  # the payment arrived
        w.set_status(paid, 5)     # the merchant cancelled a posted order
        second = sync(w.pipeline)
        assert second.status == "succeeded", second.errors
        assert second.counts["created"] == {"Payment": 1, "Void": 1}, second.counts
        [payment] = w.query("select * from Payment")
        assert payment["TotalAmt"] == invoice["TotalAmt"]
        assert payment["Line"][0]["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
        assert w.api("GET", f"invoice/{invoice['Id']}")["Invoice"]["Balance"] == 0
        voided = w.api("GET", f"salesreceipt/{receipt['Id']}")["SalesReceipt"]
        assert voided["TotalAmt"] == 0 and voided["PrivateNote"] == "Voided"
        # the invoiced order never became a receipt too
        assert w.query(f"select * from SalesReceipt where DocNumber = '{unpaid}'") == []

        third = sync(w.pipeline)
        assert third.status == "succeeded" and third.counts["created"] == {}


def test_bad_orders_are_dead_letters_with_a_fix_and_the_rest_post(world):
    with world(orders=0) as w:
        good, negative, foreign, twice = (w.place(11) for _ in range(4))
        w.corrupt(negative, "quantity", -1, where="product")
        w.corrupt(foreign, "default_currency_code", "CAD")
        first = sync(w.pipeline)
        letters = {key: (stage, message, hint) for stage, key, message, hint in w.letters()}
        [(stage, message, hint)] = [v for k, v in letters.items() if k.endswith(f"/order/{negative}")]
        assert stage == "plan" and "negative quantity" in message and "refund" in hint
        currency = [v for k, v in letters.items() if k.startswith("Customer:")]
        assert currency and "Multicurrency is off" in currency[0][1] and "Advanced > Currency" in currency[0][2]
        assert w.query(f"select * from SalesReceipt where DocNumber = '{good}'")
        assert w.query(f"select * from SalesReceipt where DocNumber = '{foreign}'") == []
        assert first.counts["dead_letters_open"] == 2


def test_a_sku_matching_two_items_and_an_unmatched_sku_are_dead_letters_naming_the_fix(world):
    with world(orders=0, options={"items": {"unmatched": "dead_letter"}}) as w:
        order = w.place(11)
        first = sync(w.pipeline)
        letters = w.letters()
        [(stage, key, message, hint)] = [row for row in letters if row[1].startswith("SalesReceipt:")]
        assert stage == "write" and "no Item named" in message and "create_items" in hint
        assert w.query(f"select * from SalesReceipt where DocNumber = '{order}'") == []
        assert first.counts["dead_letters_open"] == 1

    with world(orders=0) as w:
        order = w.place(11)
        sku = httpx.get(f"{w.bc}/stores/abc123/v2/orders/{order}/products",
                        headers={"X-Auth-Token": "sandbox-bigcommerce-token", "Accept": "application/json"}
                        ).json()[0]["sku"]
        income = w.query("select * from Account where Name = 'Sales of Product Income'")[0]["Id"]
        w.api("POST", "item", json={"Name": f"Our {sku}", "Sku": sku, "Type": "NonInventory",
                                    "IncomeAccountRef": {"value": income}})
        w.api("POST", "item", json={"Name": sku, "Type": "NonInventory", "IncomeAccountRef": {"value": income}})
        sync(w.pipeline)
        [(stage, key, message, hint)] = [row for row in w.letters() if row[1].startswith("Item:")]
        assert stage == "write" and "matches 2 QuickBooks items" in message and f"'Our {sku}'" in message
        assert "items.sku_map" in hint
        assert w.query(f"select * from SalesReceipt where DocNumber = '{order}'") == []
