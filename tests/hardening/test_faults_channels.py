"""Channel writes through faults: a BigCommerce shipment is never created twice when the answer to its POST is
lost or replaced (BigCommerce has no idempotency key), and a relative stock adjustment whose connection was
refused is retried instead of stranded as a dead letter."""

from __future__ import annotations

import contextlib
import socket
from typing import Any, Iterator

import pytest

from ledgerlink import OutboundRecord, RetryPolicy, WriteContext
from ledgerlink.sandbox import running
from ledgerlink_bigcommerce import BigCommerceDestination, BigCommerceSandbox
from fault_proxy import FaultProxy, running_proxy

FAST = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.01)


def _config(url: str) -> dict[str, Any]:
    return {"base_url": url, "store_hash": "abc123", "access_token": "test-token",
            "start_date": "2020-01-01T00:00:00Z", "webhook_secret": "s3cret"}


def _open(url: str) -> BigCommerceDestination:
    dest = BigCommerceDestination(retry=FAST)
    dest.open(dest.parse_config(_config(url)), WriteContext())
    return dest


@contextlib.contextmanager
def _store_behind_proxy(seed: int, rates: dict[str, float]) -> Iterator[tuple[str, BigCommerceSandbox, FaultProxy]]:
    sandbox = BigCommerceSandbox(orders=30, time_scale=1000)
    with running(sandbox) as url:
        proxy = FaultProxy(url, seed=seed, rates=rates,
                           applies=lambda method, path: method == "POST" and path.endswith("/shipments"))
        with running_proxy(proxy) as front:
            yield front, sandbox, proxy


def _shipments(sandbox: BigCommerceSandbox) -> list[tuple[int, OutboundRecord]]:
    book = sandbox.store.book
    out = []
    for n, (oid, lines) in enumerate((o, ls) for o, ls in book.order_products.items()
                                     if book.orders[o]["status_id"] == 11 and not book.shipments[o] and ls):
        out.append((oid, OutboundRecord(key=f"order_shipments:test/{oid}", stream="order_shipments", data={
            "order_id": oid, "tracking_number": f"1ZFAULT{n:04d}", "shipping_provider": "ups",
            "items": [{"order_product_id": lines[0]["id"], "quantity": 1}]})))
    return out[:8]


@pytest.mark.slow
def test_a_shipment_whose_answer_is_lost_after_bigcommerce_created_it_is_not_created_again():
    with _store_behind_proxy(5, {"error_after": 0.5, "error_before": 0.2, "throttled": 0.1}) as (front, sandbox, proxy):
        shipments = _shipments(sandbox)
        assert len(shipments) >= 3
        records = [r for _, r in shipments]
        dest = _open(front)
        done: set[str] = set()
        for _ in range(6):  # syncs through the faults, bounded
            results = dest.write_batch("order_shipments", [r for r in records if r.key not in done])
            assert all(r.ok or r.retry for r in results), [str(r.error) for r in results if not r.ok]
            done |= {r.key for r in results if r.ok}
        proxy.enabled = False
        done |= {r.key for r in dest.write_batch("order_shipments", [r for r in records if r.key not in done])
                 if r.ok}
        dest.close()
        assert done == {r.key for r in records}
        assert proxy.injected["error_after"] >= 3
        for oid, record in shipments:
            numbers = [s["tracking_number"] for s in sandbox.store.book.shipments[oid]]
            assert numbers == [record.data["tracking_number"]], (oid, numbers)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_relative_adjustment_whose_connection_was_refused_is_retried_not_a_dead_letter():
    dest = _open(f"http://127.0.0.1:{_closed_port()}")
    record = OutboundRecord(key="inventory_adjustments:test/1", stream="inventory_adjustments", data={
        "mode": "relative", "reason": "ledgerlink inventory_adjustments:test/1",
        "items": [{"location_id": 1, "variant_id": 1, "quantity": -2}]})
    [result] = dest.write_batch("inventory_adjustments", [record])
    dest.close()
    assert not result.ok and result.retry, result.error
    assert "ConnectError" in str(result.error)
