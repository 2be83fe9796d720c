"""Anomaly findings feed the alerts: the served workspace's `anomaly` rules see each open finding once, keyed by
its fingerprint, and a finding a bookkeeper acknowledged in the console is no longer offered."""

from __future__ import annotations

from ledgerlink.alerts.anomaly_feed import AnomalyFeed

API = "/api/v1/pipelines/shop/anomalies"


def test_the_workspace_alerts_read_anomalies_through_the_feed(served_shop):
    assert isinstance(served_shop.workspace.alerts.anomaly_source, AnomalyFeed)


def test_open_findings_become_alert_events_until_acknowledged(served_shop):
    book = served_shop.with_token("bookkeeper")
    run = book.post(f"{API}/run", json={"thresholds": {"unposted_orders.max_age_hours": 0}})
    assert run.status_code == 200, run.text
    [finding] = [f for f in run.json()["findings"] if f["status"] == "open"]
    service = served_shop.workspace.services["shop"]
    feed = AnomalyFeed(refresh_first=False)  # read what the run above kept (its threshold is not the pipeline's)
    offered = feed(service)
    assert offered == [{"id": finding["fingerprint"], "check": "unposted_orders",
                        "explanation": finding["explanation"]}]
    assert book.post(f"{API}/acknowledge", json={"fingerprints": [finding["fingerprint"]]}).status_code == 200
    assert feed(service) == []


def test_the_checks_rerun_at_most_once_per_refresh_period(served_shop):
    now = [1000.0]
    feed = AnomalyFeed(refresh_seconds=60, clock=lambda: now[0])
    service = served_shop.workspace.services["shop"]
    assert feed._due("shop") and not feed._due("shop")
    now[0] += 61
    assert feed._due("shop")
    assert isinstance(feed(service), list)
