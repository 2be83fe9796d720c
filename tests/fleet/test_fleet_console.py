"""The console's Fleet page and API, shown when `serve` is pointed at a fleet database."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from console_helpers import PASSWORD, Clock, Console, fakes, write_pipeline  # noqa: E402
from ledgerlink.console import Workspace  # noqa: E402
from ledgerlink.fleet import add_tenant  # noqa: E402
from ledgerlink.fleet.runs import finish_run, start_run  # noqa: E402

from fleet_helpers import write_workspace  # noqa: E402

PIPELINE = "bigcommerce-two-stores-a-to-qbo"


@pytest.fixture
def console(tmp_path):  # type: ignore[no-untyped-def]
    host = fakes.fresh_host(tmp_path)
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    write_pipeline(ws_dir, "shop")
    workspace = Workspace.open(ws_dir, host, every=None, debounce=0, announce=lambda line: None, clock=Clock())
    workspace.start()
    for role in ("viewer", "bookkeeper"):
        workspace.accounts.add(role, role, PASSWORD)
    yield Console(workspace, Clock())
    workspace.stop()


@pytest.fixture
def fleet(tmp_path, fleet_db, fleet_url, monkeypatch):  # type: ignore[no-untyped-def]
    for name, broken in (("acme", False), ("globex", True)):
        add_tenant(fleet_db, name, write_workspace(tmp_path / "tenants", name, bc="http://127.0.0.1:9", store="s1",
                                                   qbo="http://127.0.0.1:9", realm="1", broken_file=broken))
    run = start_run(fleet_db, "acme", PIPELINE, "w1", "schedule", None)
    finish_run(fleet_db, run, "succeeded", posted=12, dead_letters=2)
    monkeypatch.setenv("LEDGERLINK_FLEET_DATABASE_URL", fleet_url)
    return fleet_db


def test_the_fleet_page_shows_each_tenant_and_what_is_wrong(console, fleet):
    client, _ = console.signed_in("viewer")
    page = client.get("/fleet")
    assert page.status_code == 200
    html = page.text
    assert 'href="/fleet"' in html  # the nav link, on a console pointed at a fleet
    assert "acme" in html and "succeeded" in html and "globex" in html and "optionz" in html
    assert "1 tenant(s) need attention" in html
    assert "Sync now" not in html  # a viewer cannot queue syncs


def test_a_bookkeeper_queues_a_sync_from_the_page_and_it_is_audited(console, fleet):
    client, csrf = console.signed_in("bookkeeper")
    done = client.post("/fleet/sync", data={"csrf_token": csrf, "tenant": "acme", "pipeline": PIPELINE})
    assert done.status_code == 200 and "A sync of acme/" in done.text
    assert fleet.execute("SELECT queue_partition_key, status FROM dbos.workflow_status") == [("acme", "ENQUEUED")]
    entries = [(r["actor"], r["action"], r["target"]) for r in console.workspace.audit.list()]
    assert ("bookkeeper", "fleet.trigger", f"acme/{PIPELINE}") in entries


def test_the_api_reports_status_and_triggers_only_for_an_authorised_caller(console, fleet):
    status = console.with_token("viewer").get("/api/v1/fleet")
    assert status.status_code == 200
    body = status.json()
    assert {t["tenant"] for t in body["tenants"]} == {"acme", "globex"} and body["problems"] == 1
    acme = next(t for t in body["tenants"] if t["tenant"] == "acme")
    assert acme["pipelines"][0]["dead_letters"] == 2 and acme["pipelines"][0]["last_status"] == "succeeded"

    url = f"/api/v1/fleet/tenants/acme/pipelines/{PIPELINE}/sync"
    assert console.anonymous.post(url).status_code == 401
    assert console.with_token("viewer").post(url).status_code == 403
    queued = console.with_token("bookkeeper").post(url)
    assert queued.status_code == 202 and queued.json()["queued"] is True
    missing = console.with_token("bookkeeper").post("/api/v1/fleet/tenants/acme/pipelines/nope/sync")
    assert missing.status_code >= 400 and "has no pipeline 'nope'" in missing.text


def test_a_console_without_a_fleet_shows_no_fleet(console, monkeypatch):
    monkeypatch.delenv("LEDGERLINK_FLEET_DATABASE_URL", raising=False)
    client, _ = console.signed_in("viewer")
    assert 'href="/fleet"' not in client.get("/").text
    assert client.get("/fleet").status_code == 404
    assert console.with_token("viewer").get("/api/v1/fleet").status_code == 404


def test_the_fleet_page_shows_the_writes_waiting_for_the_web_connector_and_its_last_contact(console, fleet):
    from ledgerlink.fleet.held_state import record_waiting

    record_waiting(fleet, "acme", PIPELINE, waiting=7, event="busy: a sync holds the pipeline")
    client, _ = console.signed_in("viewer")
    html = client.get("/fleet").text
    assert "Web Connector" in html and "7 waiting; last contact" in html
    assert "(busy: a sync holds the pipeline)" in html
    [tenant] = [t for t in client.get("/api/v1/fleet").json()["tenants"] if t["tenant"] == "acme"]
    [shown] = tenant["pipelines"]
    assert shown["waiting_writes"] == 7 and shown["last_contact"].startswith("busy") and shown["last_contact_at"]

def test_a_pipeline_waiting_for_an_amazon_report_says_for_which_and_until_when(console, fleet):
    run = start_run(fleet, "acme", PIPELINE, "w1", "report-wait", None)
    finish_run(fleet, run, "waiting", waiting=[{"stream": "all_orders_report", "until": "2026-03-01T12:00:00Z",
                                               "for": "Amazon report 50000007919 (GET_FLAT_FILE_ALL_ORDERS_DATA_"
                                                      "BY_LAST_UPDATE_GENERAL, IN_PROGRESS)"}])
    client, _ = console.signed_in("viewer")
    html = client.get("/fleet").text
    assert "waiting for Amazon report 50000007919 (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL, " \
           "IN_PROGRESS) until 2026-03-01T12:00:00+00:00" in html
    acme = next(t for t in console.with_token("viewer").get("/api/v1/fleet").json()["tenants"] if t["tenant"] == "acme")
    assert acme["ok"] and acme["pipelines"][0]["last_status"] == "waiting"
    assert acme["pipelines"][0]["waiting"].startswith("waiting for Amazon report 50000007919 ")
