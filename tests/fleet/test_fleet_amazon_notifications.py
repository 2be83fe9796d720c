"""Amazon SP-API notifications into the fleet: an EventBridge API destination POSTs the event to a console on the
fleet database at `/fleet/webhooks/amazon`; the router finds the tenant whose Amazon pipeline answers for the
seller the notification names, that pipeline's own receiver checks the EventBridge connection's API key, and the
sync is queued in Postgres. An unknown seller is a 404, a wrong key a 401, and neither queues anything. The slow
test lets a worker run the queued syncs against the Amazon and QuickBooks Online sandboxes: the orders reach the
company exactly once, however many notifications announce them."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from console_helpers import fakes, write_pipeline  # noqa: E402
from ledgerlink.console import Workspace  # noqa: E402
from ledgerlink.console.app import build_console_app  # noqa: E402
from ledgerlink.fleet import add_tenant  # noqa: E402
from ledgerlink.sandbox import running  # noqa: E402
from ledgerlink_amazon_sp.notifications import dumps_event  # noqa: E402

from fleet_helpers import WorkerPool, company_documents, document_keys  # noqa: E402
from sandbox_helpers import sandbox_running, shipped  # noqa: E402

PIPELINE = "amazon-to-qbo"
HEADER = "x-ledgerlink-api-key"
HOOK = "/fleet/webhooks/amazon"
START_DATE = (datetime.now(timezone.utc) - timedelta(days=70)).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Served:
    """The console app as `ledgerlink.sandbox.running` serves a sandbox: uvicorn on a free loopback port."""

    name = "console"

    def __init__(self, app: Any):
        self._app = app

    def app(self) -> Any:
        return self._app


def amazon_workspace(root: Path, tenant: str, *, seller: str, key: str, amazon: str = "http://127.0.0.1:9",
                     qbo: str = "http://127.0.0.1:9", realm: str = "1") -> Path:
    """A tenant's folder: the shipped Amazon → QuickBooks Online pipeline, its seller and EventBridge API key set
    in tenant.env (the key never in the pipeline file)."""
    folder = root / tenant
    folder.mkdir(parents=True)
    marker = "    start_date: ${AMAZON_START_DATE:-2026-01-01T00:00:00Z}\n"
    text = shipped(f"{PIPELINE}.yaml")
    assert marker in text
    text = text.replace(marker, marker + "    seller_id: ${AMAZON_SELLER_ID}\n"
                                         "    notifications_api_key: ${AMAZON_NOTIFICATIONS_API_KEY}\n")
    (folder / f"{PIPELINE}.yaml").write_text(text)
    env = {"AMAZON_SP_ENDPOINT": amazon, "AMAZON_LWA_ENDPOINT": f"{amazon}/auth/o2/token",
           # the sandbox's orders span ~60 days: three 30-day getOrders windows, well inside the burst of 20 that
           # the fleet's Postgres limiter holds every worker to (Amazon's real plan, not the sandbox's scaled one)
           "AMAZON_START_DATE": START_DATE, "AMAZON_SELLER_ID": seller,
           "AMAZON_NOTIFICATIONS_API_KEY": key, "QBO_BASE_URL": qbo, "QBO_TOKEN_URL": f"{qbo}/oauth2/v1/tokens/bearer",
           "QBO_REALM_ID": realm, "QBO_REQUESTS_PER_MINUTE": "500000", "QBO_BATCH_REQUESTS_PER_MINUTE": "500000"}
    (folder / "tenant.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return folder


def order_change(seller: str, order_id: str, notification_id: str) -> dict[str, Any]:
    """An ORDER_CHANGE notification (the shape of Amazon's OrderChangeNotification schema)."""
    return {"NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE", "PayloadVersion": "1.0",
            "EventTime": "2026-12-07T10:00:00Z",
            "Payload": {"OrderChangeNotification": {
                "NotificationLevel": "OrderLevel", "SellerId": seller, "AmazonOrderId": order_id,
                "OrderChangeType": "OrderStatusChange",
                "OrderChangeTrigger": {"TimeOfOrderChange": "2026-12-07T10:00:00Z", "ChangeReason": "Shipped"},
                "Summary": {"MarketplaceId": "ATVPDKIKX0DER", "OrderStatus": "Shipped",
                            "PurchaseDate": "2026-12-06T10:00:00Z", "DestinationPostalCode": "98101",
                            "FulfillmentType": "AFN", "OrderType": "StandardOrder", "NumberOfItemsShipped": 1,
                            "NumberOfItemsUnshipped": 0, "OrderPrograms": [], "ShippingPrograms": [],
                            "OrderItems": []}}},
            "NotificationMetadata": {"ApplicationId": "amzn1.sellerapps.app.x", "SubscriptionId": "s",
                                     "PublishTime": "2026-12-07T10:00:01Z", "NotificationId": notification_id}}


def queued(db: Any) -> list[tuple[str, str, str]]:
    return db.execute("SELECT workflow_uuid, queue_partition_key, status FROM dbos.workflow_status "
                      "WHERE name = 'ledgerlink.fleet.sync' ORDER BY created_at")


def console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fleet_url: str) -> Workspace:
    monkeypatch.setenv("LEDGERLINK_FLEET_DATABASE_URL", fleet_url)
    ws_dir = tmp_path / "console"
    ws_dir.mkdir()
    write_pipeline(ws_dir, "shop")
    return Workspace.open(ws_dir, fakes.fresh_host(tmp_path), every=None, debounce=0, announce=lambda line: None)


@pytest.fixture
def fleet_console(tmp_path: Path, fleet_db: Any, fleet_url: str,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    """Tenants acme (seller A1ACME) and globex (seller A2GLOBEX), each with its own API key; a console on the
    fleet database, served over HTTP."""
    tenants = tmp_path / "tenants"
    add_tenant(fleet_db, "acme", amazon_workspace(tenants, "acme", seller="A1ACME", key="acme-api-key-0123456789"))
    add_tenant(fleet_db, "globex", amazon_workspace(tenants, "globex", seller="A2GLOBEX",
                                                    key="globex-api-key-0123456789"))
    workspace = console(tmp_path, monkeypatch, fleet_url)
    with running(_Served(build_console_app(workspace))) as url:
        yield url, fleet_db
    workspace.stop()


def test_an_order_change_queues_the_sellers_tenant_and_others_are_refused(fleet_console):
    url, db = fleet_console
    with httpx.Client(base_url=url, timeout=30) as http:
        event = dumps_event(order_change("A1ACME", "111-0000001-0000001", "n-acme-1"), event_id="e-1")
        first = http.post(HOOK, content=event, headers={HEADER: "acme-api-key-0123456789"})
        assert first.status_code == 200, first.text
        [entry] = first.json()["queued"]
        assert (entry["tenant"], entry["pipeline"], entry["joined"]) == ("acme", PIPELINE, False)
        assert queued(db) == [(entry["workflow_id"], "acme", "ENQUEUED")]

        # Amazon's redelivery of the same notification queues nothing more
        again = http.post(HOOK, content=dumps_event(order_change("A1ACME", "111-0000001-0000001", "n-acme-1"),
                                                     event_id="e-2"), headers={HEADER: "acme-api-key-0123456789"})
        assert again.status_code == 200 and again.json()["queued"] == []
        # globex's seller with globex's key goes to globex
        other = http.post(HOOK, content=dumps_event(order_change("A2GLOBEX", "111-0000002-0000002", "n-g-1"),
                                                     event_id="e-3"), headers={HEADER: "globex-api-key-0123456789"})
        assert other.status_code == 200 and other.json()["queued"][0]["tenant"] == "globex"
        before = len(queued(db))

        # acme's seller with globex's key, or with none: 401, naming the header, nothing queued
        for headers in ({HEADER: "globex-api-key-0123456789"}, {}):
            refused = http.post(HOOK, content=dumps_event(order_change("A1ACME", "111-0000001-0000003", "n-x"),
                                                          event_id="e-4"), headers=headers)
            assert refused.status_code == 401 and HEADER in refused.json()["error"]
        # a seller no tenant has: 404, naming no tenant
        unknown = http.post(HOOK, content=dumps_event(order_change("A9NOBODY", "111-0000009-0000009", "n-u"),
                                                      event_id="e-5"), headers={HEADER: "acme-api-key-0123456789"})
        assert unknown.status_code == 404 and "A9NOBODY" in unknown.json()["error"]
        assert "acme" not in unknown.text and "globex" not in unknown.text
        # no EventBridge event at all: 400
        assert http.post(HOOK, content=b'{"detail": 1}', headers={HEADER: "acme-api-key-0123456789"}
                         ).status_code == 400
        assert len(queued(db)) == before


def test_a_notification_whose_sync_could_not_be_queued_is_accepted_when_amazon_sends_it_again(fleet_console,
                                                                                                 enqueue_fails_once):
    """The receiver remembers notification ids to drop Amazon's redeliveries; when the fleet then fails to queue
    the sync (503, so EventBridge retries), the retry must not be taken for a duplicate."""
    url, db = fleet_console
    enqueue_fails_once()
    event = dumps_event(order_change("A1ACME", "111-0000001-0000001", "n-retry"), event_id="e-1")
    with httpx.Client(base_url=url, timeout=30) as http:
        failed = http.post(HOOK, content=event, headers={HEADER: "acme-api-key-0123456789"})
        assert failed.status_code == 503 and queued(db) == []
        retried = http.post(HOOK, content=event, headers={HEADER: "acme-api-key-0123456789"})
        assert retried.status_code == 200 and [q["tenant"] for q in retried.json()["queued"]] == ["acme"]
        # and a third delivery, after the sync was queued, is the duplicate it is
        third = http.post(HOOK, content=event, headers={HEADER: "acme-api-key-0123456789"})
        assert third.status_code == 200 and third.json()["queued"] == []
    assert len(queued(db)) == 1


@pytest.mark.slow
def test_a_notification_wakes_a_worker_that_posts_the_sellers_orders_exactly_once(tmp_path, fleet_db, fleet_url,
                                                                                   monkeypatch):
    """End to end: ORDER_CHANGE → console → Postgres queue → a worker → the QBO sandbox company, twice."""
    key = "acme-api-key-0123456789"
    with sandbox_running("amazon_sp", orders=8) as (amazon, amazon_sb), \
            sandbox_running("qbo", realm_id="9341455000000303", rotate_refresh_tokens=False) as (qbo, qbo_sb):
        add_tenant(fleet_db, "acme", amazon_workspace(tmp_path / "tenants", "acme", seller="A1ACME", key=key,
                                                      amazon=amazon, qbo=qbo, realm="9341455000000303"))
        workspace = console(tmp_path, monkeypatch, fleet_url)
        logs = tmp_path / "logs"
        logs.mkdir()
        pool = WorkerPool(fleet_url, logs, concurrency=1)
        order_id = amazon_sb.api.book.order_id(0)

        def finished(count: int) -> list[Any]:
            deadline = time.monotonic() + 400
            runs: list[Any] = []
            while time.monotonic() < deadline:
                runs = fleet_db.execute("SELECT status, reason, posted, workflow_id FROM runs WHERE tenant = 'acme' "
                                        "AND status <> 'running' ORDER BY started_at")
                if len(runs) >= count:
                    return runs
                time.sleep(0.5)
            raise AssertionError(pool.log("w1")[-3000:])

        try:
            with running(_Served(build_console_app(workspace))) as url:
                answer = httpx.post(f"{url}{HOOK}", content=dumps_event(order_change("A1ACME", order_id, "n-1"),
                                                                        event_id="e-1"),
                                    headers={HEADER: key}, timeout=30)
                assert answer.status_code == 200, answer.text
                workflow = answer.json()["queued"][0]["workflow_id"]
                pool.start("w1", max_seconds=400)
                status, reason, posted, ran = finished(1)[0]
                assert status == "succeeded", pool.log("w1")[-3000:]
                assert ran == workflow and reason == "webhook: amazon ORDER_CHANGE n-1"
                assert posted and posted > 0
                documents = company_documents(qbo_sb)
                keys = document_keys(documents)
                assert documents and len(keys) == len(set(keys)) and any(order_id in k for k in keys)

                # another notification for the order: a second sync, which posts nothing twice
                amazon_sb.api.book.update(0, int(time.time()) - 300)
                second = httpx.post(f"{url}{HOOK}", content=dumps_event(order_change("A1ACME", order_id, "n-2"),
                                                                        event_id="e-2"),
                                    headers={HEADER: key}, timeout=30)
                assert second.status_code == 200 and second.json()["queued"], second.text
                runs = finished(2)
                assert [r[0] for r in runs] == ["succeeded", "succeeded"], pool.log("w1")[-3000:]
                again = document_keys(company_documents(qbo_sb))
                assert sorted(again) == sorted(keys)  # exactly once: no document posted a second time
        finally:
            pool.stop_all()
            workspace.stop()
