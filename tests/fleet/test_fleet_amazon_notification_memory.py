"""Amazon notifications in a fleet of several consoles behind a load balancer: the notification ids a pipeline's
receiver accepted are remembered in Postgres (`notifications_seen`, made by `fleet init`), so Amazon's
redelivery reaching another console is answered "duplicate" there too and queues no second sync. A notification
whose sync could not be queued is forgotten (its row deleted), so its redelivery is accepted by any console.
And a seller's notification queues only the pipelines reading a stream it concerns: an ORDER_CHANGE syncs the
orders pipeline, not the settlements-only one, which answers "ignored" with the reason.

Each console is a `FleetWebhooks` router on its own connection to the same real Postgres database; the second
one is given a fresh in-process memory, as a second process has."""

from __future__ import annotations

import copy
import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

import ledgerlink.fleet.webhooks as fleet_webhooks
import ledgerlink_amazon_sp.webhooks as amazon_webhooks
from ledgerlink.fleet import FleetDatabase, add_tenant, remove_tenant
from ledgerlink.fleet.seen_notifications import SeenNotifications
from ledgerlink.fleet.webhooks import FleetWebhooks
from ledgerlink.plugins import host
from ledgerlink_amazon_sp.notifications import dumps_event
from ledgerlink_amazon_sp.webhooks import DEDUPE_TTL_S, RecentNotifications

from sandbox_helpers import shipped
from test_fleet_amazon_notifications import HEADER, HOOK, PIPELINE, amazon_workspace, order_change, queued

KEY = "acme-api-key-0123456789"
SETTLEMENTS = "amazon-settlements-to-qbo"


def console(url: str) -> TestClient:
    """One console's webhook router, on its own database connection."""
    return TestClient(FleetWebhooks(FleetDatabase(url), host()))


def second_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a second console process starts with: an empty in-process memory of notification ids."""
    monkeypatch.setattr(amazon_webhooks, "_RECENT", RecentNotifications())


def post(client: TestClient, notification: dict[str, Any], event_id: str, path: str = HOOK) -> Any:
    return client.post(path, content=dumps_event(notification, event_id=event_id), headers={HEADER: KEY})


def seen_rows(db: FleetDatabase) -> list[tuple[str, str, str]]:
    return db.execute("SELECT tenant, pipeline, notification_id FROM notifications_seen ORDER BY seen_at")


def test_a_redelivery_reaching_another_console_queues_no_second_sync(tmp_path, fleet_db, fleet_url, monkeypatch,
                                                                     enqueue_fails_once):
    add_tenant(fleet_db, "acme", amazon_workspace(tmp_path / "tenants", "acme", seller="A1ACME", key=KEY))
    console_a, console_b = console(fleet_url), console(fleet_url)

    first = post(console_a, order_change("A1ACME", "111-0000001-0000001", "n-1"), "e-1")
    assert first.status_code == 200 and [q["tenant"] for q in first.json()["queued"]] == ["acme"], first.text

    # Amazon delivers the same notification again (another EventBridge event id); the balancer picks console B
    second_process(monkeypatch)
    again = post(console_b, order_change("A1ACME", "111-0000001-0000001", "n-1"), "e-2")
    assert again.status_code == 200 and again.json() == {"status": "duplicate", "queued": []}, again.text
    assert len(queued(fleet_db)) == 1
    assert seen_rows(fleet_db) == [("acme", PIPELINE, "n-1")]

    # console B cannot queue the sync of a new notification: 503, and the id is forgotten in Postgres...
    enqueue_fails_once()
    failed = post(console_b, order_change("A1ACME", "111-0000001-0000002", "n-2"), "e-3")
    assert failed.status_code == 503 and ("acme", PIPELINE, "n-2") not in seen_rows(fleet_db)
    # ...so its redelivery, reaching console A, is accepted and queued (it joins the sync still waiting)
    retried = post(console_a, order_change("A1ACME", "111-0000001-0000002", "n-2"), "e-4")
    assert retried.status_code == 200 and [q["tenant"] for q in retried.json()["queued"]] == ["acme"]
    assert ("acme", PIPELINE, "n-2") in seen_rows(fleet_db)
    # and any further delivery of it, on either console, is the duplicate it is
    for client in (console_a, console_b):
        assert post(client, order_change("A1ACME", "111-0000001-0000002", "n-2"), "e-5").json()["status"] == \
            "duplicate"
    assert len(queued(fleet_db)) == 1  # the retried one joined the sync still waiting


def test_ids_older_than_the_dedupe_time_are_taken_over_and_pruned(tmp_path, fleet_db, fleet_url):
    add_tenant(fleet_db, "acme", amazon_workspace(tmp_path / "tenants", "acme", seller="A1ACME", key=KEY))
    memory = SeenNotifications(FleetDatabase(fleet_url), "acme", PIPELINE)
    assert memory.first_time("n-old", DEDUPE_TTL_S) and not memory.first_time("n-old", DEDUPE_TTL_S)
    assert memory.first_time("n-new", DEDUPE_TTL_S)
    fleet_db.execute("UPDATE notifications_seen SET seen_at = now() - make_interval(secs => %s) "
                     "WHERE notification_id = 'n-old'", (DEDUPE_TTL_S + 60,))
    # an expired row not pruned yet does not make its id a duplicate (one caller takes it over, atomically)
    assert memory.first_time("n-old", DEDUPE_TTL_S) and not memory.first_time("n-old", DEDUPE_TTL_S)
    fleet_db.execute("UPDATE notifications_seen SET seen_at = now() - make_interval(secs => %s) "
                     "WHERE notification_id = 'n-old'", (DEDUPE_TTL_S + 60,))
    assert memory.prune(DEDUPE_TTL_S) == 1
    assert [r[2] for r in seen_rows(fleet_db)] == ["n-new"]
    # a tenant removed takes its ids with it
    assert remove_tenant(fleet_db, "acme") and seen_rows(fleet_db) == []


def test_a_database_without_the_table_keeps_the_in_process_memory(tmp_path, fleet_db, fleet_url, monkeypatch,
                                                                   caplog):
    """A fleet database made before `notifications_seen` (no `fleet init` since): webhooks still work, each
    console remembering ids in process as before, and the log says what to run."""
    add_tenant(fleet_db, "acme", amazon_workspace(tmp_path / "tenants", "acme", seller="A1ACME", key=KEY))
    fleet_db.execute("DROP TABLE notifications_seen")
    second_process(monkeypatch)
    monkeypatch.setattr(fleet_webhooks, "_warned_no_table", threading.Event())
    client = console(fleet_url)
    with caplog.at_level(logging.WARNING, logger="ledgerlink.fleet.webhooks"):
        first = post(client, order_change("A1ACME", "111-0000001-0000001", "n-1"), "e-1")
        again = post(client, order_change("A1ACME", "111-0000001-0000001", "n-1"), "e-2")
    assert first.status_code == 200 and first.json()["queued"], first.text
    assert again.json() == {"status": "duplicate", "queued": []}
    assert "ledgerlink fleet init" in caplog.text


def report_finished(reference_dir: Path, seller: str, notification_id: str) -> dict[str, Any]:
    """A REPORT_PROCESSING_FINISHED notification: Amazon's schema example, for this seller."""
    schema = json.loads((reference_dir / "amazon-sp-api" / "schemas" / "notifications" /
                         "ReportProcessingFinishedNotification.json").read_text())
    note = copy.deepcopy(schema["examples"][0])
    note["payload"]["reportProcessingFinishedNotification"]["sellerId"] = seller
    note["payload"]["reportProcessingFinishedNotification"]["accountId"] = f"amzn1.merchant.o.{seller}"
    note["notificationMetadata"]["notificationId"] = notification_id
    return note


def test_a_notification_queues_only_the_sellers_pipelines_it_concerns(tmp_path, fleet_db, fleet_url,
                                                                       reference_dir):
    folder = amazon_workspace(tmp_path / "tenants", "acme", seller="A1ACME", key=KEY)
    marker = "    start_date: ${AMAZON_START_DATE:-2026-01-01T00:00:00Z}\n"
    text = shipped(f"{SETTLEMENTS}.yaml")
    assert marker in text and "  streams: [settlements]\n" in text
    (folder / f"{SETTLEMENTS}.yaml").write_text(text.replace(marker, marker + (
        "    seller_id: ${AMAZON_SELLER_ID}\n    notifications_api_key: ${AMAZON_NOTIFICATIONS_API_KEY}\n")))
    add_tenant(fleet_db, "acme", folder)
    assert sorted(r[0] for r in fleet_db.execute("SELECT pipeline FROM pipelines WHERE problem IS NULL")) == \
        sorted([PIPELINE, SETTLEMENTS])
    client = console(fleet_url)

    orders = post(client, order_change("A1ACME", "111-0000001-0000001", "n-order"), "e-1")
    assert orders.status_code == 200, orders.text
    assert [(q["tenant"], q["pipeline"]) for q in orders.json()["queued"]] == [("acme", PIPELINE)]
    [ignored] = orders.json()["ignored"]
    assert (ignored["pipeline"], "settlements" in ignored["reason"]) == (SETTLEMENTS, True)

    report = post(client, report_finished(reference_dir, "A1ACME", "n-report"), "e-2")
    assert report.status_code == 200, report.text
    assert [(q["tenant"], q["pipeline"]) for q in report.json()["queued"]] == [("acme", SETTLEMENTS)]
    assert [i["pipeline"] for i in report.json()["ignored"]] == [PIPELINE]
    assert sorted(p for _, p, _ in queued(fleet_db)) == ["acme", "acme"]
    # an ignored notification is not remembered: only the pipelines that queued a sync have rows
    assert sorted(seen_rows(fleet_db)) == sorted([("acme", PIPELINE, "n-order"), ("acme", SETTLEMENTS, "n-report")])


def test_a_fleet_database_out_of_reach_is_a_503_that_names_no_address():
    """The receiver cannot tell whether it saw the id: 503 (EventBridge sends it again), nothing asked, and the
    database's address and password stay out of the answer."""
    from ledgerlink.serve import ServeContext
    from ledgerlink_amazon_sp.webhooks import webhook_app

    unreachable = FleetDatabase("postgresql://ledgerlink:s3cret-pw@127.0.0.1:9/nowhere", connect_timeout=1)
    asked: list[str] = []
    context = ServeContext(pipeline_name=PIPELINE, source_connector="amazon_sp",
                           source_config={"seller_id": "A1ACME", "notifications_api_key": KEY},
                           destination_connector="qbo", destination_config={}, destination_options={},
                           trigger_sync=asked.append, seen_notifications=SeenNotifications(unreachable, "acme",
                                                                                            PIPELINE))
    client = TestClient(webhook_app(context))
    answer = post(client, order_change("A1ACME", "111-0000001-0000001", "n-1"), "e-1", path="/")
    assert answer.status_code == 503 and "send it again later" in answer.json()["error"], answer.text
    assert "127.0.0.1" not in answer.text and "s3cret" not in answer.text and asked == []
