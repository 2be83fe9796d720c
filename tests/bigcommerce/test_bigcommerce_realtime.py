"""The real-time path, end to end: an order placed in the store reaches the staging tables within seconds of
BigCommerce's webhook, with `ledgerlink serve` running no schedule (only webhooks trigger syncs)."""

from __future__ import annotations

import time

import httpx
import pytest

from ledgerlink.plugins import host
from ledgerlink.sandbox import running_app
from ledgerlink.serve import PipelineService, build_app
from ledgerlink_bigcommerce.commands import ensure_hooks
from ledgerlink_bigcommerce.config import BigCommerceConfig
from ledgerlink_bigcommerce.webhooks import SECRET_HEADER
from sandbox_helpers import bigcommerce_env, load_shipped, qbo_env, sandbox_running, wait_for as _wait_for

SECRET = "realtime-webhook-secret"


def wait_for(predicate, seconds: float = 15.0) -> bool:
    return _wait_for(predicate, seconds)


class RecordingService(PipelineService):
    """The real service; it only remembers why each sync was asked for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reasons: list[str] = []

    def trigger(self, reason: str) -> None:
        self.reasons.append(reason)
        super().trigger(reason)


# the documented URL has no final slash; both must reach the receiver (senders do not follow redirects)
@pytest.mark.parametrize("receiver_path", ["/webhooks/bigcommerce", "/webhooks/bigcommerce/"])
def test_an_order_placed_in_the_store_is_staged_within_seconds_of_its_webhook(tmp_path, receiver_path):
    plugins = host()
    with sandbox_running("bigcommerce", orders=5) as (bc, _), sandbox_running("qbo") as (qbo, _):
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **bigcommerce_env(bc),
               "BIGCOMMERCE_WEBHOOK_SECRET": SECRET, **qbo_env(qbo)}
        pipeline = load_shipped(tmp_path, "bigcommerce-to-qbo.yaml", env)
        assert pipeline.source.config["webhook_secret"] == SECRET

        service = RecordingService(pipeline, plugins, every=None, debounce=0.2)
        service.start()
        try:
            with running_app(build_app(service)) as url:
                receiver = url + receiver_path

                # a callback without the right secret is refused and asks for nothing
                placed_elsewhere = {"scope": "store/order/created", "store_id": "1025646",
                                    "data": {"type": "order", "id": 999999}, "producer": "stores/abc123",
                                    "hash": "0" * 40, "created_at": int(time.time())}
                for headers in ({SECRET_HEADER: "not-the-secret"}, {}):
                    refused = httpx.post(receiver, json=placed_elsewhere, headers=headers)
                    assert refused.status_code in (401, 403), refused.text
                time.sleep(service.debounce + 0.3)  # long enough for a wrongly queued sync to have started
                assert service.reasons == [] and service.syncs == 0 and service.idle

                # subscribe as `ledgerlink bigcommerce webhooks create` does
                done = ensure_hooks(BigCommerceConfig.model_validate(pipeline.source.config), receiver)
                assert {action for _, action, _ in done} == {"created"}
                assert service.syncs == 0  # subscribing triggers nothing

                # a shopper places an order
                order = httpx.post(f"{bc}/_sandbox/orders", json={"status_id": 11}).json()
                order_id = str(order["id"])
                assert service.store.raw.get("orders", order_id) is None

                assert wait_for(lambda: service.syncs >= 1 and service.idle
                                and service.store.raw.get("orders", order_id) is not None), (
                    service.reasons, service.syncs, service.last_error,
                    httpx.get(f"{bc}/_sandbox/stats").json()["deliveries"])

                staged = service.store.raw.get("orders", order_id)
                assert str(staged["id"]) == order_id and staged["status_id"] == 11
                # the sync was the webhook's: it is the only thing that asked for one
                assert service.reasons and all(r == f"bigcommerce store/order/created order {order_id}"
                                               for r in service.reasons), service.reasons
                assert service.last_error is None and service.last_report["status"] == "succeeded"
                deliveries = httpx.get(f"{bc}/_sandbox/stats").json()["deliveries"]
                assert [(d["scope"], d["data"]["id"], d["status"]) for d in deliveries] == [
                    ("store/order/created", order["id"], 200)]
                stats = httpx.get(f"{url}/webhooks/bigcommerce/").json()
                assert stats["accepted"] == 1 and stats["refused"] == 2
        finally:
            service.stop()
