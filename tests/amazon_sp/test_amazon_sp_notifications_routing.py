"""Each syncing notification type syncs only a pipeline whose source reads a stream it concerns: an ORDER_CHANGE
for a seller's settlements-only pipeline is acknowledged 200 "ignored" with the reason (never a 4xx, which
EventBridge would retry) and starts nothing, while a REPORT_PROCESSING_FINISHED starts its sync. The streams a
pipeline reads are its `source.streams`, else the source's default (as the runtime reads them). Checked on the
receiver alone and through `ledgerlink serve`'s app (the shipped settlements and orders pipelines)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from ledgerlink.plugins import host
from ledgerlink.serve import PipelineService, ServeContext, build_app
from ledgerlink_amazon_sp.notification_routes import STREAMS_BY_TYPE
from ledgerlink_amazon_sp.notifications import SYNCING_TYPES, dumps_event
from ledgerlink_amazon_sp.source import AmazonSellingPartnerSource
from ledgerlink_amazon_sp.webhooks import RecentNotifications, webhook_app
from sandbox_helpers import load_shipped
from test_amazon_sp_notifications_receiver import HEADER, KEY, SELLER, notifications, schemas  # noqa: F401

KINDS = ("ORDER_CHANGE", "REPORT_PROCESSING_FINISHED", "FBA_INVENTORY_AVAILABILITY_CHANGES", "TRANSACTION_UPDATE")


def receiver(streams: list[str] | None) -> tuple[TestClient, list[str]]:
    asked: list[str] = []
    source = {"seller_id": SELLER, "notifications_api_key": KEY, "client_id": "c"}
    context = ServeContext(pipeline_name="p", source_connector="amazon_sp", source_config=source,
                           destination_connector="qbo", destination_config={}, destination_options={},
                           trigger_sync=asked.append, source_streams=streams)
    return TestClient(webhook_app(context, seen=RecentNotifications())), asked


def test_every_syncing_type_names_streams_the_source_has():
    names = {c.name for c in AmazonSellingPartnerSource().stream_classes()}
    assert set(STREAMS_BY_TYPE) == set(SYNCING_TYPES)
    for kind, streams in STREAMS_BY_TYPE.items():
        assert streams and streams <= names, kind
    assert {"orders", "order_items", "orders_2026"} <= STREAMS_BY_TYPE["ORDER_CHANGE"]
    assert "settlements" in STREAMS_BY_TYPE["REPORT_PROCESSING_FINISHED"]
    assert "settlements" not in STREAMS_BY_TYPE["ORDER_CHANGE"]


@pytest.mark.parametrize(("streams", "syncing"), [
    (["settlements"], {"REPORT_PROCESSING_FINISHED"}),
    (["orders", "order_items"], {"ORDER_CHANGE"}),
    (["orders_2026"], {"ORDER_CHANGE"}),
    (["finances"], {"TRANSACTION_UPDATE"}),
    (["fba_inventory"], {"FBA_INVENTORY_AVAILABILITY_CHANGES"}),
    (["all_orders_report"], {"ORDER_CHANGE", "REPORT_PROCESSING_FINISHED"}),
    (None, set(KINDS)),  # no selection: the source's default streams, which read all four
])
def test_a_type_syncs_only_pipelines_reading_a_stream_it_concerns(notifications, streams, syncing):
    client, asked = receiver(streams)
    for i, kind in enumerate(KINDS):
        answer = client.post("/", content=dumps_event(notifications(kind, f"n-{i}"), event_id=f"e-{i}"),
                             headers={HEADER: KEY})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if kind in syncing:
            assert body == {"status": "accepted", "notificationType": kind}
        else:
            assert body["status"] == "ignored" and body["notificationType"] == kind
            # the reason names what the type concerns and what this pipeline reads
            assert "source.streams" in body["reason"] and ", ".join(streams or []) in body["reason"]
    assert asked == [f"amazon {kind} n-{i}" for i, kind in enumerate(KINDS) if kind in syncing]
    assert client.get("/").json()["ignored"] == len(KINDS) - len(syncing)


def test_an_ignored_notification_is_not_remembered_as_seen(notifications):
    """Ignoring is decided before the dedupe memory: it writes nothing there (nothing to forget later)."""
    seen = RecentNotifications()
    asked: list[str] = []
    context = ServeContext(pipeline_name="p", source_connector="amazon_sp",
                           source_config={"seller_id": SELLER, "notifications_api_key": KEY},
                           destination_connector="qbo", destination_config={}, destination_options={},
                           trigger_sync=asked.append, source_streams=["settlements"])
    client = TestClient(webhook_app(context, seen=seen))
    for _ in range(2):
        answer = client.post("/", content=dumps_event(notifications("ORDER_CHANGE", "n-1"), event_id="e-1"),
                             headers={HEADER: KEY})
        assert answer.json()["status"] == "ignored"
    assert asked == [] and len(seen._seen) == 0


def with_notifications(text: str) -> str:
    marker = "    start_date: ${AMAZON_START_DATE:-2026-01-01T00:00:00Z}\n"
    assert marker in text
    return text.replace(marker, marker + f"    seller_id: {SELLER}\n    notifications_api_key: ${{AMAZON_NOTIFY_KEY}}\n")


class RecordingService(PipelineService):
    """The real service, not started: it only records the syncs asked of it."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.reasons: list[str] = []

    def trigger(self, reason: str) -> None:
        self.reasons.append(reason)


@pytest.mark.parametrize(("shipped", "syncs_on"), [("amazon-settlements-to-qbo.yaml", "REPORT_PROCESSING_FINISHED"),
                                                   ("amazon-to-qbo.yaml", "ORDER_CHANGE")])
def test_serve_syncs_a_shipped_pipeline_only_for_the_types_that_concern_it(tmp_path, notifications, shipped,
                                                                            syncs_on):
    env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), "AMAZON_NOTIFY_KEY": KEY}
    pipeline = load_shipped(tmp_path, shipped, env, edit=with_notifications)
    service = RecordingService(pipeline, host(), every=None, debounce=0)
    try:
        with TestClient(build_app(service)) as client:
            answers = {}
            for i, kind in enumerate(("ORDER_CHANGE", "REPORT_PROCESSING_FINISHED")):
                answer = client.post("/webhooks/amazon", headers={HEADER: KEY},
                                     content=dumps_event(notifications(kind, f"serve-{i}"), event_id=f"e-{i}"))
                assert answer.status_code == 200, answer.text
                answers[kind] = answer.json()
    finally:
        service.stop()
    assert [k for k, a in answers.items() if a["status"] == "accepted"] == [syncs_on]
    [other] = [a for k, a in answers.items() if k != syncs_on]
    assert other["status"] == "ignored" and pipeline.source.streams[0] in other["reason"]
    assert service.reasons == [f"amazon {syncs_on} serve-{['ORDER_CHANGE', 'REPORT_PROCESSING_FINISHED'].index(syncs_on)}"]
