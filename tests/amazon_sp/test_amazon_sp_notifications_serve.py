"""`ledgerlink serve` end to end: an EventBridge event carrying an ORDER_CHANGE notification, POSTed to the
workspace's `/webhooks/amazon` with the connection's API key, starts the pipeline's sync (no schedule runs), and
the seller's orders reach the QuickBooks Online sandbox; a wrong key and Amazon's redelivery start nothing."""

from __future__ import annotations

import time

import httpx
import pytest

from ledgerlink.plugins import host
from ledgerlink.sandbox import running_app
from ledgerlink.serve import PipelineService, build_app
from ledgerlink_amazon_sp.notifications import dumps_event
from sandbox_helpers import amazon_env, load_shipped, qbo_env, sandbox_running, wait_for

SELLER = "A2SERVESELLER"
KEY = "serve-eventbridge-api-key-0001"


class RecordingService(PipelineService):
    """The real service; it only remembers why each sync was asked for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reasons: list[str] = []

    def trigger(self, reason: str) -> None:
        self.reasons.append(reason)
        super().trigger(reason)


def order_change(order_id: str, notification_id: str) -> dict:
    return {"NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE", "PayloadVersion": "1.0",
            "EventTime": "2026-12-07T10:00:00Z",
            "Payload": {"OrderChangeNotification": {
                "NotificationLevel": "OrderLevel", "SellerId": SELLER, "AmazonOrderId": order_id,
                "OrderChangeType": "OrderStatusChange",
                "OrderChangeTrigger": {"TimeOfOrderChange": "2026-12-07T10:00:00Z", "ChangeReason": "Shipped"},
                "Summary": {"MarketplaceId": "ATVPDKIKX0DER", "OrderStatus": "Shipped",
                            "PurchaseDate": "2026-12-06T10:00:00Z", "DestinationPostalCode": "98101",
                            "FulfillmentType": "AFN", "OrderType": "StandardOrder", "NumberOfItemsShipped": 1,
                            "NumberOfItemsUnshipped": 0, "OrderPrograms": [], "ShippingPrograms": [],
                            "OrderItems": []}}},
            "NotificationMetadata": {"ApplicationId": "amzn1.sellerapps.app.x", "SubscriptionId": "s",
                                     "PublishTime": "2026-12-07T10:00:01Z", "NotificationId": notification_id}}


def with_notifications(text: str) -> str:
    marker = "    start_date: ${AMAZON_START_DATE:-2026-01-01T00:00:00Z}\n"
    assert marker in text
    return text.replace(marker, marker + f"    seller_id: {SELLER}\n    notifications_api_key: ${{AMAZON_NOTIFY_KEY}}\n")


@pytest.mark.slow
def test_an_order_change_posted_to_webhooks_amazon_syncs_the_pipeline(tmp_path):
    with sandbox_running("amazon_sp", orders=6) as (amazon, amazon_sb), sandbox_running("qbo") as (qbo, qbo_sb):
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), "AMAZON_START_DATE": "2020-01-01T00:00:00Z",
               "AMAZON_NOTIFY_KEY": KEY, **amazon_env(amazon), **qbo_env(qbo)}
        pipeline = load_shipped(tmp_path, "amazon-to-qbo.yaml", env, edit=with_notifications)
        service = RecordingService(pipeline, host(), every=None, debounce=0.2)
        service.start()
        try:
            with running_app(build_app(service)) as url:
                receiver = f"{url}/webhooks/amazon"
                order_id = amazon_sb.api.book.order_id(0)
                event = dumps_event(order_change(order_id, "serve-n-1"), event_id="serve-e-1")
                # a wrong key is refused and starts nothing
                refused = httpx.post(receiver, content=event, headers={"x-ledgerlink-api-key": "guess-guess-guess"})
                assert refused.status_code == 401, refused.text
                time.sleep(service.debounce + 0.3)
                assert service.reasons == [] and service.syncs == 0

                answer = httpx.post(receiver, content=event, headers={"x-ledgerlink-api-key": KEY})
                assert answer.status_code == 200 and answer.json()["status"] == "accepted", answer.text
                assert wait_for(lambda: service.syncs >= 1 and service.idle, 120), (service.reasons,
                                                                                   service.last_error)
                assert service.reasons == ["amazon ORDER_CHANGE serve-n-1"]
                assert service.last_error is None and service.last_report["status"] == "succeeded", (
                    service.last_report)
                assert service.store.raw.get("orders", order_id) is not None
                receipts = qbo_sb.company.entities["SalesReceipt"]
                assert receipts and any(order_id in str(r) for r in receipts.values())

                # Amazon delivers at least once: the same notification again is acknowledged, no second sync
                again = httpx.post(receiver, content=dumps_event(order_change(order_id, "serve-n-1"),
                                                                 event_id="serve-e-2"),
                                   headers={"x-ledgerlink-api-key": KEY})
                assert again.status_code == 200 and again.json() == {"status": "duplicate"}
                time.sleep(service.debounce + 0.3)
                assert service.syncs == 1 and len(service.reasons) == 1
                stats = httpx.get(f"{url}/webhooks/amazon/").json()
                assert (stats["accepted"], stats["duplicate"], stats["refused"]) == (1, 1, 1)
        finally:
            service.stop()
