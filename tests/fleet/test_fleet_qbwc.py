"""QuickBooks Desktop companies served by the fleet: a console pointed at the fleet database hosts each tenant's
Web Connector endpoint (`/fleet/qbwc/<tenant>/<pipeline>/`), served over real HTTP on loopback. The QuickBooks
Desktop simulator plays the Web Connector against it (validating every qbXML request against Intuit's XSD),
syncs run in-process as a fleet worker runs them, and each Web Connector session holds the pipeline's fleet
lease, so a session and a sync never write the pipeline's state at once."""

from __future__ import annotations

import json
import re
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from console_helpers import fakes, write_pipeline  # noqa: E402
from ledgerlink.console import Workspace  # noqa: E402
from ledgerlink.console.app import build_console_app  # noqa: E402
from ledgerlink.fleet import add_tenant, fleet_status, release_lease, take_lease  # noqa: E402
from ledgerlink.fleet.engine import Worker  # noqa: E402
from ledgerlink.sandbox import running  # noqa: E402
from ledgerlink_qb_desktop.soap import NS, envelope  # noqa: E402

from fleet_helpers import lease_overlaps  # noqa: E402
from qbwc_helpers import (PIPELINE, EndpointProcess, document_keys, endpoint, qbd_workspace, receipt_keys,  # noqa: E402
                          simulator)
from sandbox_helpers import sandbox_running  # noqa: E402
from test_fleet_webhooks import _Served  # noqa: E402

pytest.importorskip("lxml")


@pytest.fixture
def console(tmp_path: Path, fleet_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A console on the fleet database, served over HTTP on loopback; its base URL."""
    monkeypatch.setenv("LEDGERLINK_FLEET_DATABASE_URL", fleet_url)
    ws_dir = tmp_path / "console"
    ws_dir.mkdir()
    write_pipeline(ws_dir, "shop")
    workspace = Workspace.open(ws_dir, fakes.fresh_host(tmp_path), every=None, debounce=0,
                               announce=lambda line: None)
    try:
        with running(_Served(build_console_app(workspace))) as url:
            yield url
    finally:
        workspace.stop()
        from ledgerlink.console import pages_fleet

        for key in [k for k in pages_fleet._sessions if k[0] == fleet_url]:  # let go of the sessions' leases
            pages_fleet._sessions.pop(key).close()


def settle(worker: Worker, tenant: str, sim: Any, url: str, rounds: int = 8) -> list[dict[str, Any]]:
    """Sync and let the Web Connector poll until a session finds nothing to do; each session's outcome."""
    outcomes = []
    for _ in range(rounds):
        result = worker.run_sync(tenant, PIPELINE, "test", None)
        assert result["status"] == "succeeded", result
        outcome = sim.poll(url)
        outcomes.append(outcome)
        assert outcome["result"] in ("done", "none"), outcome
        if outcome["result"] == "none":
            return outcomes
    raise AssertionError(f"the Web Connector queue did not drain: {outcomes}")


def soap(http: httpx.Client, url: str, operation: str, **values: Any) -> str:
    """One SOAP call as the Web Connector makes it; the raw answer."""
    answer = http.post(url, content=envelope(operation, values).encode(),
                       headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}{operation}"'})
    assert answer.status_code == 200, answer.text
    return answer.text


def strings(text: str) -> list[str]:
    from defusedxml import ElementTree

    return [s.text or "" for s in ElementTree.fromstring(text).iter(f"{{{NS}}}string")]


def test_a_tenants_store_orders_reach_its_desktop_company_through_the_fleets_endpoint_exactly_once(
        tmp_path, fleet_db, console, qbxml_xsd):
    with sandbox_running("bigcommerce", orders=10) as (bc, _):
        add_tenant(fleet_db, "acme", qbd_workspace(tmp_path / "tenants", "acme", bc=bc, username="acme-qb",
                                                   password="acme-password-1"))
        worker = Worker(fleet_db, worker_id="w-test")
        sim = simulator(qbxml_xsd, username="acme-qb", password="acme-password-1")
        url = endpoint(console, "acme")

        # the WSDL answers with the fleet's own address
        with httpx.Client(timeout=30) as http:
            wsdl = http.get(url + "?wsdl")
        assert wsdl.status_code == 200 and f'location="{url}"' in wsdl.text

        first = worker.run_sync("acme", PIPELINE, "schedule", None)
        assert first["status"] == "succeeded", first
        [shown] = fleet_status(fleet_db, "acme")[0].pipelines
        assert shown.waiting_writes and shown.waiting_writes > 0  # planned, waiting for the Web Connector
        waiting = shown.waiting_writes

        outcomes = settle(worker, "acme", sim, url)
        keys = document_keys(sim.company)
        assert receipt_keys(sim.company) and len(keys) == len(set(keys)), Counter(k for k in keys if keys.count(k) > 1)
        assert len(keys) <= waiting  # every document waited for the Web Connector (customers too)
        before = sim.company.counts()
        assert sim.poll(url)["result"] == "none"  # a second session writes nothing
        assert worker.run_sync("acme", PIPELINE, "schedule", None)["status"] == "succeeded"
        assert sim.poll(url)["result"] == "none" and sim.company.counts() == before
        assert outcomes[0]["result"] == "done" and outcomes[0]["messages"] >= 1

        # status: nothing waits, the Web Connector's last contact is known; the lease is free again
        [shown] = fleet_status(fleet_db, "acme")[0].pipelines
        assert shown.waiting_writes == 0 and shown.last_contact_at and shown.running_on is None
        assert (shown.dead_letters, shown.failures, shown.problem) == (0, 0, None)  # every planned write landed
        assert fleet_db.execute("SELECT count(*) FROM leases")[0][0] == 0
        holders = [h for (h,) in fleet_db.execute("SELECT holder FROM lease_log ORDER BY id")]
        assert any(h.startswith("session:") for h in holders) and "w-test" in holders
        assert lease_overlaps(fleet_db) == []
        # the console's fleet page and `fleet status --json` show it too
        from click.testing import CliRunner

        from ledgerlink.cli import cli as main

        result = CliRunner().invoke(main, ["fleet", "status", "--json", "--database-url", fleet_db.url])
        [pipeline] = json.loads(result.output)["tenants"][0]["pipelines"]
        assert pipeline["waiting_writes"] == 0 and pipeline["last_contact_at"] == shown.last_contact_at


def test_two_tenants_each_endpoint_takes_only_its_own_user_and_writes_to_its_own_company(
        tmp_path, fleet_db, console, qbxml_xsd):
    with sandbox_running("bigcommerce", orders=4, store_hash="s1") as (bc1, _), \
            sandbox_running("bigcommerce", orders=6, store_hash="s2") as (bc2, _):
        tenants = tmp_path / "tenants"
        add_tenant(fleet_db, "acme", qbd_workspace(tenants, "acme", bc=bc1, store="s1", username="acme-qb",
                                                   password="acme-password-1"))
        add_tenant(fleet_db, "globex", qbd_workspace(tenants, "globex", bc=bc2, store="s2", username="globex-qb",
                                                     password="globex-password-2"))
        worker = Worker(fleet_db, worker_id="w-test")
        acme = simulator(qbxml_xsd, username="acme-qb", password="acme-password-1")
        globex = simulator(qbxml_xsd, username="globex-qb", password="globex-password-2")

        # each endpoint refuses the other tenant's user (and a wrong password): "nvu", nothing written
        assert globex.client.poll(endpoint(console, "acme"))["result"] == "nvu"
        assert acme.client.poll(endpoint(console, "globex"))["result"] == "nvu"
        wrong = simulator(qbxml_xsd, username="acme-qb", password="not-the-password")
        refused = wrong.poll(endpoint(console, "acme"))
        assert refused["result"] == "nvu" and "not valid" in refused["error"]
        assert "acme-password-1" not in refused["error"]
        # the failures are recorded in the fleet's Postgres (the state file is not open outside a session), so a
        # lockout outlives a console restart as it does under `serve`
        notes = dict(((t, n), json.loads(v)) for t, k, n, v in fleet_db.execute(
            "SELECT tenant, kind, name, value FROM vendor_notes") if k == "qbd:logins")
        assert notes[("acme", "acme-qb")]["recent_failures"] == 1
        assert ("acme", "globex-qb") not in notes  # another tenant's user name is nobody's here

        settle(worker, "acme", acme, endpoint(console, "acme"))
        settle(worker, "globex", globex, endpoint(console, "globex"))
        acme_keys, globex_keys = receipt_keys(acme.company), receipt_keys(globex.company)
        assert acme_keys and all("@s1/" in k for k in acme_keys)
        assert globex_keys and all("@s2/" in k for k in globex_keys)
        assert len(set(acme_keys)) == len(acme_keys) and len(set(globex_keys)) == len(globex_keys)
        assert wrong.company.counts() == simulator(qbxml_xsd, username="x", password="y").company.counts()


def test_a_session_and_a_sync_wait_for_each_other_through_the_lease(tmp_path, fleet_db, console, qbxml_xsd):
    with sandbox_running("bigcommerce", orders=5) as (bc, _):
        add_tenant(fleet_db, "acme", qbd_workspace(tmp_path / "tenants", "acme", bc=bc, username="acme-qb",
                                                   password="acme-password-1"))
        worker = Worker(fleet_db, worker_id="w-test")
        sim = simulator(qbxml_xsd, username="acme-qb", password="acme-password-1")
        url = endpoint(console, "acme")
        assert worker.run_sync("acme", PIPELINE, "schedule", None)["status"] == "succeeded"

        # a sync holds the lease: authenticate says "busy" with the seconds to wait, and nothing is written
        lease = take_lease(fleet_db, "acme", PIPELINE, "w-other", 30)
        assert lease is not None
        busy = sim.poll(url)
        assert busy == {"result": "busy", "wait_s": 30}
        assert receipt_keys(sim.company) == []
        [shown] = fleet_status(fleet_db, "acme")[0].pipelines
        assert shown.running_on == "w-other" and shown.last_contact.startswith("busy")
        release_lease(fleet_db, lease)

        # a Web Connector session is open (authenticated, not closed): the sync is told it is busy, and waits
        with httpx.Client(timeout=30) as http:
            ticket, company_file = strings(soap(http, url, "authenticate", strUserName="acme-qb",
                                                strPassword="acme-password-1"))[:2]
            assert company_file not in ("none", "nvu", "busy")
            [holder] = [h for (h,) in fleet_db.execute("SELECT holder FROM leases")]
            assert holder.startswith("session:") and ticket not in holder  # a ticket is a credential: not shown
            waiting = worker.run_sync("acme", PIPELINE, "schedule", None)
            assert waiting["status"] == "busy" and waiting["retry_in_s"] > 0
            assert fleet_db.execute("SELECT count(*) FROM runs WHERE status <> 'succeeded'")[0][0] == 0
            # a second Web Connector session for the same pipeline is told to come back too
            again = strings(soap(http, url, "authenticate", strUserName="acme-qb", strPassword="acme-password-1"))
            assert again[1] == "busy"
            assert "closeConnectionResult" in soap(http, url, "closeConnection", ticket=ticket)
        # closed: the lease is free, the sync that waited runs
        assert fleet_db.execute("SELECT count(*) FROM leases")[0][0] == 0
        assert worker.run_sync("acme", PIPELINE, "schedule", None)["status"] == "succeeded"
        settle(worker, "acme", sim, url)
        keys = receipt_keys(sim.company)
        assert keys and len(keys) == len(set(keys))
        assert lease_overlaps(fleet_db) == []


@pytest.mark.slow
def test_a_session_cut_off_with_its_process_is_resumed_by_the_next_without_doubling(
        tmp_path, fleet_db, fleet_url, console, qbxml_xsd):
    with sandbox_running("bigcommerce", orders=8) as (bc, _):
        add_tenant(fleet_db, "acme", qbd_workspace(tmp_path / "tenants", "acme", bc=bc, username="acme-qb",
                                                   password="acme-password-1"))
        worker = Worker(fleet_db, worker_id="w-test")
        sim = simulator(qbxml_xsd, username="acme-qb", password="acme-password-1")
        assert worker.run_sync("acme", PIPELINE, "schedule", None)["status"] == "succeeded"

        # the endpoint runs in a process of its own; QuickBooks saves the first message's documents, but the
        # process is killed before their answer comes back
        # the endpoint runs in a process of its own, killed while QuickBooks saves a message of receipts: their
        # answer never reaches it
        process = EndpointProcess(fleet_url, tmp_path / "endpoint.log", lease_ttl_s=2.0)
        real = sim.company.handle

        def handle_then_die(request: str) -> str:
            response = real(request)
            if re.search(r'<SalesReceiptAddRs [^>]*statusCode="0"', response) and process.proc.poll() is None:
                process.kill()
            return response

        sim.company.handle = handle_then_die
        try:
            for _ in range(6):  # sessions (and syncs) until the process dies mid-session
                try:
                    sim.poll(endpoint(process.base, "acme"))
                except httpx.HTTPError:
                    break
                assert worker.run_sync("acme", PIPELINE, "schedule", None)["status"] == "succeeded"
            assert process.proc.poll() is not None, "no message of receipts was sent"
        finally:
            if process.proc.poll() is None:
                process.kill()
            sim.company.handle = real
        saved = document_keys(sim.company)
        assert saved, sim.company.counts()  # in QuickBooks, not confirmed in the pipeline's state
        [holder] = [h for (h,) in fleet_db.execute("SELECT holder FROM leases")]
        assert holder.startswith("session:")  # the dead process's lease, lapsing

        # the dead process's lease lapses; the next session (the console's) takes it, looks the unanswered
        # documents up instead of sending them again, and sends the rest
        deadline = threading.Event()
        for _ in range(40):
            outcome = sim.poll(endpoint(console, "acme"))
            if outcome["result"] != "busy":
                break
            deadline.wait(0.5)
        assert outcome["result"] == "done", outcome
        settle(worker, "acme", sim, endpoint(console, "acme"))
        keys = document_keys(sim.company)
        assert len(keys) == len(set(keys)), Counter(k for k in keys if keys.count(k) > 1)
        assert set(saved) <= set(keys) and len(keys) > len(saved)
        assert lease_overlaps(fleet_db) == []


def test_bad_requests_get_clear_answers(tmp_path, fleet_db, console, monkeypatch):
    tenants = tmp_path / "tenants"
    add_tenant(fleet_db, "acme", qbd_workspace(tenants, "acme", bc="http://127.0.0.1:9", username="acme-qb",
                                               password="acme-password-1"))
    qbo = tenants / "initech"
    from fleet_helpers import write_workspace

    write_workspace(tenants, "initech", bc="http://127.0.0.1:9", store="s1", qbo="http://127.0.0.1:9", realm="1")
    add_tenant(fleet_db, "initech", qbo)
    with httpx.Client(base_url=console, timeout=30) as http:
        for path in ("/fleet/qbwc/nobody/bigcommerce-to-qbd/", "/fleet/qbwc/acme/nothing/",
                     "/fleet/nosuch/acme/bigcommerce-to-qbd/"):
            unknown = http.post(path, content=b"<x/>")
            assert unknown.status_code == 404, path
            assert "acme" not in unknown.text and "initech" not in unknown.text  # tenants are not listed
        # a pipeline that does not write to QuickBooks Desktop has no Web Connector endpoint
        other = http.post("/fleet/qbwc/initech/bigcommerce-two-stores-a-to-qbo/", content=b"<x/>")
        assert other.status_code == 404 and "no /qbwc endpoint" in other.text
        # too big a body: 413, before it is parsed
        huge = http.post("/fleet/qbwc/acme/bigcommerce-to-qbd", content=b"x" * 11_000_000)
        assert huge.status_code == 413
        # not SOAP: the SOAP fault says so
        bad = http.post("/fleet/qbwc/acme/bigcommerce-to-qbd", content=b"<not-soap/>")
        assert bad.status_code == 400 and "SOAP" in bad.text
    assert fleet_db.execute("SELECT count(*) FROM lease_log")[0][0] == 0

    # the fleet database out of reach: a clear 503, no traceback, no password
    monkeypatch.setenv("LEDGERLINK_FLEET_DATABASE_URL", "postgresql://ledgerlink:ledgerlink@127.0.0.1:9/nowhere")
    away = httpx.post(f"{console}/fleet/qbwc/acme/bigcommerce-to-qbd/", content=b"<x/>", timeout=30)
    assert away.status_code == 503 and "cannot reach the fleet database" in away.text
    assert "Traceback" not in away.text and "ledgerlink:ledgerlink@" not in away.text


def test_fleet_qwc_writes_the_tenants_qwc_file_pointing_at_the_fleets_endpoint(tmp_path, fleet_db):
    from click.testing import CliRunner

    from ledgerlink.cli import cli as main

    tenants = tmp_path / "tenants"
    add_tenant(fleet_db, "acme", qbd_workspace(tenants, "acme", bc="http://127.0.0.1:9", username="acme-qb",
                                               password="acme-password-1"))
    from fleet_helpers import write_workspace

    add_tenant(fleet_db, "initech", write_workspace(tenants, "initech", bc="http://127.0.0.1:9", store="s1",
                                                    qbo="http://127.0.0.1:9", realm="1"))
    runner = CliRunner()
    out = tmp_path / "acme.qwc"
    done = runner.invoke(main, ["fleet", "qwc", "acme", PIPELINE, "--url", "https://books.example.com",
                                "--out", str(out), "--database-url", fleet_db.url])
    assert done.exit_code == 0, done.output
    from defusedxml import ElementTree

    qwc = {e.tag: (e.text or "") for e in ElementTree.fromstring(out.read_text())}
    assert qwc["AppURL"] == f"https://books.example.com/fleet/qbwc/acme/{PIPELINE}/"
    assert qwc["UserName"] == "acme-qb"
    # OwnerID and FileID (and the rest but the AppURL) as `ledgerlink qbd qwc` writes them for `serve`
    from ledgerlink.fleet import load_tenant_pipeline
    from ledgerlink_qb_desktop.config import QbdConfig
    from ledgerlink_qb_desktop.qwc import qwc_file

    loaded = load_tenant_pipeline(tenants / "acme", tenants / "acme" / f"{PIPELINE}.yaml")
    served = {e.tag: (e.text or "") for e in ElementTree.fromstring(
        qwc_file(QbdConfig.model_validate(loaded.destination.config), "https://books.example.com/qbwc/"))}
    assert qwc["OwnerID"] == served["OwnerID"] and qwc["FileID"] == served["FileID"] and qwc["OwnerID"]
    assert {k: v for k, v in qwc.items() if k not in ("AppURL", "AppSupport")} == \
        {k: v for k, v in served.items() if k not in ("AppURL", "AppSupport")}
    # plain http is refused (except on localhost), as are unknown pipelines and non-Desktop ones: exit 2 / 1
    plain = runner.invoke(main, ["fleet", "qwc", "acme", PIPELINE, "--url", "http://books.example.com",
                                 "--database-url", fleet_db.url])
    assert plain.exit_code == 2 and "https" in plain.output
    unknown = runner.invoke(main, ["fleet", "qwc", "acme", "nothing", "--url", "https://h",
                                   "--database-url", fleet_db.url])
    assert unknown.exit_code == 1 and "no pipeline 'nothing'" in unknown.output
    qbo = runner.invoke(main, ["fleet", "qwc", "initech", "bigcommerce-two-stores-a-to-qbo", "--url", "https://h",
                               "--database-url", fleet_db.url])
    assert qbo.exit_code == 2 and "qb_desktop" in qbo.output


@pytest.mark.slow
def test_a_queued_sync_sleeps_durably_while_a_web_connector_session_holds_the_pipeline(
        tmp_path, fleet_db, fleet_url, console, qbxml_xsd):
    """Through DBOS: a worker process dequeues the sync, finds the session's lease, sleeps (DBOS.sleep) and runs
    once the Web Connector closes its session."""
    import time

    from ledgerlink.fleet.engine import enqueue_sync

    from fleet_helpers import WorkerPool

    with sandbox_running("bigcommerce", orders=3) as (bc, _):
        add_tenant(fleet_db, "acme", qbd_workspace(tmp_path / "tenants", "acme", bc=bc, username="acme-qb",
                                                   password="acme-password-1"))
        assert Worker(fleet_db, worker_id="w-test").run_sync("acme", PIPELINE, "schedule", None)["status"] == \
            "succeeded"
        logs = tmp_path / "logs"
        logs.mkdir()
        pool = WorkerPool(fleet_url, logs, lease_seconds=3.0, concurrency=1)
        url = endpoint(console, "acme")
        try:
            with httpx.Client(timeout=30) as http:
                ticket, company_file = strings(soap(http, url, "authenticate", strUserName="acme-qb",
                                                    strPassword="acme-password-1"))[:2]
                assert company_file not in ("none", "nvu", "busy")
                workflow = enqueue_sync(fleet_db, "acme", PIPELINE, reason="test")
                pool.start("w1", max_seconds=240)

                def sleeps() -> int:
                    return fleet_db.execute("SELECT count(*) FROM dbos.operation_outputs WHERE workflow_uuid = %s "
                                            "AND function_name = 'DBOS.sleep'", (workflow,))[0][0]

                deadline = time.monotonic() + 120
                while sleeps() == 0 and time.monotonic() < deadline:
                    time.sleep(0.5)
                assert sleeps() >= 1, pool.log("w1")  # the sync met the session's lease and sleeps, durably
                assert fleet_db.execute("SELECT count(*) FROM runs WHERE workflow_id = %s", (workflow,))[0][0] == 0
                [(status,)] = fleet_db.execute("SELECT status FROM dbos.workflow_status WHERE workflow_uuid = %s",
                                               (workflow,))
                assert status == "PENDING"
                soap(http, url, "closeConnection", ticket=ticket)
            deadline = time.monotonic() + 120
            runs: list[Any] = []
            while time.monotonic() < deadline:
                runs = fleet_db.execute("SELECT status FROM runs WHERE workflow_id = %s AND status <> 'running'",
                                        (workflow,))
                if runs:
                    break
                time.sleep(0.5)
            assert runs == [("succeeded",)], pool.log("w1")
            assert lease_overlaps(fleet_db) == []
        finally:
            pool.stop_all()


def test_a_session_the_web_connector_abandons_lets_the_pipeline_go(tmp_path, fleet_db):
    """No closeConnection: the hold ends after `idle_s` without a call, or at the ticket's expiry; outside a hold
    the state is not reached (reads find nothing, writes are dropped)."""
    import time

    from ledgerlink.fleet.held_state import NotHeld, StateGate

    def lease_count() -> int:
        return fleet_db.execute("SELECT count(*) FROM leases")[0][0]

    def wait_free(seconds: float = 15) -> None:
        deadline = time.monotonic() + seconds
        while lease_count() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lease_count() == 0

    gate = StateGate(fleet_db, "acme", PIPELINE, tmp_path / "state.duckdb", "qb_desktop", lease_ttl_s=5, idle_s=0.5)
    try:
        assert gate.open("t1", 3600) is None and gate.holds("t1")
        gate.references.put("qbd:contact", "{F}", "2026-12-07T12:00:00+00:00")
        assert gate.references.get("qbd:contact", "{F}") == "2026-12-07T12:00:00+00:00"
        assert gate.open("t2", 3600) == 5  # another session waits for the lease
        wait_free()  # no call for idle_s: let go
        assert not gate.holds("t1")
        assert gate.references.get("qbd:contact", "{F}") is None and gate.awaiting.count() == 0
        gate.references.put("qbd:logins", "acme-qb", "noted")  # outside a session: in Postgres, not the state
        assert gate.references.get("qbd:logins", "acme-qb") == "noted"
        assert fleet_db.execute("SELECT kind, name, value FROM vendor_notes") == [("qbd:logins", "acme-qb", "noted")]
        with pytest.raises(NotHeld):
            gate.awaiting.confirm("k", "1")

        gate.idle_s = 3600
        assert gate.open("t3", 0.3) is None  # a ticket that expires
        wait_free()
        assert not gate.holds("t3")
        assert gate.open("t4", 3600) is None
        assert gate.references.get("qbd:contact", "{F}") == "2026-12-07T12:00:00+00:00"  # the state file kept it
        assert gate.references.get("qbd:logins", "acme-qb") is None  # ... and only what was written in a session
        gate.close("t4")
        assert lease_count() == 0
        [(event,)] = fleet_db.execute("SELECT last_event FROM vendor_sessions")
        assert event == "closeConnection"
    finally:
        gate.shutdown()
