"""Vendor webhooks straight into the fleet: a console pointed at the fleet database, served over real HTTP on
loopback, receives BigCommerce callbacks (the subscription's secret header) and Intuit notifications (HMAC
`intuit-signature`), routes each by store hash / realm id to the tenant's pipeline, and queues its sync in
Postgres; unverified or unknown callbacks are 4xx, a fleet database out of reach is a 503. The slow test lets a
worker run the queued sync against the sandboxes."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from console_helpers import fakes, write_pipeline  # noqa: E402
from ledgerlink.console import Workspace  # noqa: E402
from ledgerlink.console.app import build_console_app  # noqa: E402
from ledgerlink.fleet import add_tenant  # noqa: E402
from ledgerlink.fleet.engine import fleet_client  # noqa: E402
from ledgerlink.sandbox import running  # noqa: E402
from ledgerlink_qbo.webhooks import sign  # noqa: E402

from fleet_helpers import WorkerPool, write_workspace  # noqa: E402
from sandbox_helpers import sandbox_running, shipped  # noqa: E402

BC_PIPELINE = "bigcommerce-two-stores-a-to-qbo"
QBO_PIPELINE = "qbo-inventory-to-bigcommerce"
SECRET_HEADER = "X-Ledgerlink-Webhook-Secret"
REALM = "9341455000000777"


class _Served:
    """The console app as `ledgerlink.sandbox.running` serves a sandbox: uvicorn on a free loopback port."""

    name = "console"

    def __init__(self, app: Any):
        self._app = app

    def app(self) -> Any:
        return self._app


def add_env(folder: Path, **env: str) -> None:
    with (folder / "tenant.env").open("a") as f:
        f.writelines(f"{k}={v}\n" for k, v in env.items())


def qbo_source_workspace(root: Path, tenant: str, realm: str, token: str) -> Path:
    """A tenant whose QuickBooks company is the source (stock to BigCommerce): Intuit's notifications wake it."""
    folder = root / tenant
    folder.mkdir(parents=True)
    text = shipped(f"{QBO_PIPELINE}.yaml").replace(
        "    realm_id: ${QBO_REALM_ID:-9341455000000000}\n",
        "    realm_id: ${QBO_REALM_ID:-9341455000000000}\n    webhook_verifier_token: ${QBO_VERIFIER}\n", 1)
    assert "webhook_verifier_token" in text
    (folder / f"{QBO_PIPELINE}.yaml").write_text(text)
    (folder / "tenant.env").write_text(f"QBO_REALM_ID={realm}\nQBO_VERIFIER={token}\n"
                                       "QBO_BASE_URL=http://127.0.0.1:9\nBIGCOMMERCE_BASE_URL=http://127.0.0.1:9\n")
    return folder


@pytest.fixture
def fleet_console(tmp_path: Path, fleet_db: Any, fleet_url: str,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    """Tenants acme (store s1) and globex (store s2), each with its own webhook secret, and initech whose QBO
    company (REALM) is its source; a console on the fleet database, served over HTTP."""
    tenants = tmp_path / "tenants"
    for name, store in (("acme", "s1"), ("globex", "s2")):
        folder = write_workspace(tenants, name, bc="http://127.0.0.1:9", store=store, qbo="http://127.0.0.1:9",
                                 realm="1")
        add_env(folder, BIGCOMMERCE_WEBHOOK_SECRET_A=f"{name}-secret")
        add_tenant(fleet_db, name, folder)
    add_tenant(fleet_db, "initech", qbo_source_workspace(tenants, "initech", REALM, "initech-verifier"))
    monkeypatch.setenv("LEDGERLINK_FLEET_DATABASE_URL", fleet_url)
    ws_dir = tmp_path / "console"
    ws_dir.mkdir()
    write_pipeline(ws_dir, "shop")
    workspace = Workspace.open(ws_dir, fakes.fresh_host(tmp_path), every=None, debounce=0,
                               announce=lambda line: None)
    with running(_Served(build_console_app(workspace))) as url:
        yield url, fleet_db
    workspace.stop()


def bc_callback(store: str, order: int, at: int) -> bytes:
    data = {"type": "order", "id": order}
    return json.dumps({"scope": "store/order/updated", "store_id": "1", "producer": f"stores/{store}",
                       "hash": f"h{order}", "created_at": at, "data": data}).encode()


def queued(db: Any) -> list[tuple[str, str, str]]:
    """(workflow id, partition key, status) of every sync the fleet holds."""
    return db.execute("SELECT workflow_uuid, queue_partition_key, status FROM dbos.workflow_status "
                      "WHERE name = 'ledgerlink.fleet.sync' ORDER BY created_at")


def test_verified_webhooks_queue_the_right_tenants_sync_and_others_are_refused(fleet_console):
    url, db = fleet_console
    with httpx.Client(base_url=url, timeout=30) as http:
        hook = "/fleet/webhooks/bigcommerce"
        # acme's store, acme's secret: acme's pipeline is queued on acme's partition
        first = http.post(hook, content=bc_callback("s1", 101, 1), headers={SECRET_HEADER: "acme-secret"})
        assert first.status_code == 200, first.text
        [entry] = first.json()["queued"]
        assert (entry["tenant"], entry["pipeline"], entry["joined"]) == ("acme", BC_PIPELINE, False)
        assert queued(db) == [(entry["workflow_id"], "acme", "ENQUEUED")]
        client = fleet_client(db)
        try:
            [status] = client.list_workflows(workflow_ids=[entry["workflow_id"]])
        finally:
            client.destroy()
        tenant, pipeline, reason = status.input["args"]
        assert (tenant, pipeline) == ("acme", BC_PIPELINE) and reason.startswith("webhook: bigcommerce store/order")

        # a burst for the same pipeline joins the sync still waiting in the queue
        again = http.post(hook, content=bc_callback("s1", 102, 2), headers={SECRET_HEADER: "acme-secret"})
        assert again.status_code == 200 and again.json()["queued"][0]["joined"] is True
        assert again.json()["queued"][0]["workflow_id"] == entry["workflow_id"]

        # globex's store with globex's secret goes to globex, not acme
        other = http.post(hook, content=bc_callback("s2", 7, 3), headers={SECRET_HEADER: "globex-secret"})
        assert other.status_code == 200 and other.json()["queued"][0]["tenant"] == "globex"

        # acme's store with globex's secret (or none) is refused, naming the header, and queues nothing
        before = len(queued(db))
        for headers in ({SECRET_HEADER: "globex-secret"}, {}):
            refused = http.post(hook, content=bc_callback("s1", 103, 4), headers=headers)
            assert refused.status_code == 401 and SECRET_HEADER in refused.json()["error"]
        # a store no tenant has, a body that is no callback, a receiver that does not exist, too big a body
        unknown = http.post(hook, content=bc_callback("s9", 1, 5), headers={SECRET_HEADER: "acme-secret"})
        assert unknown.status_code == 404 and "s9" in unknown.json()["error"]
        assert "acme" not in unknown.text and "globex" not in unknown.text
        assert http.post(hook, content=b"{not json", headers={SECRET_HEADER: "acme-secret"}).status_code == 400
        assert http.post(hook, content=b'{"producer": 5}').status_code == 400
        assert http.post("/fleet/webhooks/nosuch", content=b"{}").status_code == 404
        assert http.post(hook, content=b"x" * 1_100_000).status_code == 413
        assert len(queued(db)) == before

        # Intuit: signed with initech's verifier token, for initech's company
        note = json.dumps({"eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": [
            {"name": "Item", "id": "5", "operation": "Update", "lastUpdated": "2026-12-07T09:00:00Z"}]}}]}).encode()
        signed = http.post("/fleet/webhooks/qbo", content=note,
                           headers={"intuit-signature": sign(note, "initech-verifier")})
        assert signed.status_code == 200, signed.text
        assert [(q["tenant"], q["pipeline"]) for q in signed.json()["queued"]] == [("initech", QBO_PIPELINE)]
        forged = http.post("/fleet/webhooks/qbo", content=note, headers={"intuit-signature": sign(note, "guess")})
        assert forged.status_code == 401 and "intuit-signature" in forged.json()["error"]
        stranger = note.replace(REALM.encode(), b"123")
        assert http.post("/fleet/webhooks/qbo", content=stranger,
                         headers={"intuit-signature": sign(stranger, "initech-verifier")}).status_code == 404
        assert len(queued(db)) == before + 1
        assert {p for _, p, _ in queued(db)} == {"acme", "globex", "initech"}


def test_a_fleet_database_out_of_reach_is_a_503_so_the_vendor_sends_again(fleet_console, monkeypatch):
    url, _ = fleet_console
    monkeypatch.setenv("LEDGERLINK_FLEET_DATABASE_URL", "postgresql://ledgerlink:ledgerlink@127.0.0.1:9/nowhere")
    with httpx.Client(base_url=url, timeout=30) as http:
        answer = http.post("/fleet/webhooks/bigcommerce", content=bc_callback("s1", 101, 1),
                           headers={SECRET_HEADER: "acme-secret"})
    assert answer.status_code == 503 and "cannot reach the fleet database" in answer.json()["error"]
    assert "ledgerlink:ledgerlink@" not in answer.text  # the password never reaches the answer


@pytest.mark.slow
def test_a_webhook_wakes_a_worker_that_posts_the_tenants_orders(tmp_path, fleet_db, fleet_url, monkeypatch):
    """End to end: BigCommerce callback → console → Postgres queue → a worker → the QBO sandbox company."""
    with sandbox_running("bigcommerce", orders=6, store_hash="s1") as (bc, _bc_sb), \
            sandbox_running("qbo", realm_id="9341455000000101", rotate_refresh_tokens=False) as (qbo, qbo_sb):
        folder = write_workspace(tmp_path / "tenants", "acme", bc=bc, store="s1", qbo=qbo, realm="9341455000000101")
        add_env(folder, BIGCOMMERCE_WEBHOOK_SECRET_A="acme-secret")
        add_tenant(fleet_db, "acme", folder)
        monkeypatch.setenv("LEDGERLINK_FLEET_DATABASE_URL", fleet_url)
        ws_dir = tmp_path / "console"
        ws_dir.mkdir()
        write_pipeline(ws_dir, "shop")
        workspace = Workspace.open(ws_dir, fakes.fresh_host(tmp_path), every=None, debounce=0,
                                   announce=lambda line: None)
        logs = tmp_path / "logs"
        logs.mkdir()
        pool = WorkerPool(fleet_url, logs, concurrency=1)
        try:
            with running(_Served(build_console_app(workspace))) as url:
                answer = httpx.post(f"{url}/fleet/webhooks/bigcommerce", content=bc_callback("s1", 101, 1),
                                    headers={SECRET_HEADER: "acme-secret"}, timeout=30)
                assert answer.status_code == 200, answer.text
                workflow = answer.json()["queued"][0]["workflow_id"]
            pool.start("w1", max_seconds=400)
            deadline = time.monotonic() + 400
            runs: list[Any] = []
            while time.monotonic() < deadline:
                runs = fleet_db.execute("SELECT status, reason, posted, workflow_id FROM runs WHERE tenant = 'acme' "
                                        "AND status <> 'running'")
                if runs:
                    break
                time.sleep(0.5)
            assert runs, pool.log("w1")[-3000:]
            status, reason, posted, ran = runs[0]
            assert status == "succeeded", pool.log("w1")[-3000:]
            assert ran == workflow and reason.startswith("webhook: bigcommerce store/order/updated")
            assert posted and posted > 0
            assert qbo_sb.company.entities["SalesReceipt"] or qbo_sb.company.entities["Invoice"]
        finally:
            pool.stop_all()
            workspace.stop()
