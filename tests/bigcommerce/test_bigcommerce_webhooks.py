"""The webhook receiver (verified, deduplicated, fast) and the subscription commands, with real deliveries."""

from __future__ import annotations

import threading
import time

import httpx
import yaml
from click.testing import CliRunner
import click

from ledgerlink.plugins import host
from ledgerlink.sandbox import Sandbox, running
from ledgerlink_bigcommerce.webhooks import SECRET_HEADER, webhook_app

PAYLOAD = {"scope": "store/order/created", "store_id": "1025646", "data": {"type": "order", "id": 250},
           "hash": "dd70c0976e06b67aaf671e73f49dcb79230ebf9d", "created_at": 1561479335, "producer": "stores/abc123"}


class FakeContext:
    def __init__(self, secret="s3cret"):
        self.source_config = {"store_hash": "abc123", "webhook_secret": secret}
        self.reasons: list[str] = []
        self.event = threading.Event()

    def trigger_sync(self, reason: str) -> None:
        self.reasons.append(reason)
        self.event.set()


def test_verified_callbacks_trigger_a_sync_and_duplicates_are_dropped():
    ctx = FakeContext()
    with running(_Receiver(ctx)) as url:
        _accepts_once(ctx, httpx.Client(base_url=url))


def _accepts_once(ctx, client):
    ok = client.post("/", json=PAYLOAD, headers={SECRET_HEADER: "s3cret"})
    dup = client.post("/", json=PAYLOAD, headers={SECRET_HEADER: "s3cret"})
    later = client.post("/", json={**PAYLOAD, "created_at": PAYLOAD["created_at"] + 60}, headers={SECRET_HEADER: "s3cret"})
    assert (ok.json()["status"], dup.json()["status"], later.json()["status"]) == ("accepted", "duplicate", "accepted")
    assert ctx.reasons == ["bigcommerce store/order/created order 250"] * 2


def test_bad_signature_foreign_store_and_junk_are_refused():
    ctx = FakeContext()
    with running(_Receiver(ctx)) as url, running(_Receiver(FakeContext(secret=""))) as unset:
        _refuses(ctx, httpx.Client(base_url=url))
        assert httpx.post(unset + "/", json=PAYLOAD).status_code == 503


def _refuses(ctx, client):
    assert client.post("/", json=PAYLOAD).status_code == 401
    assert client.post("/", json=PAYLOAD, headers={SECRET_HEADER: "wrong"}).status_code == 401
    assert client.post("/", json={**PAYLOAD, "producer": "stores/evil"}, headers={SECRET_HEADER: "s3cret"}).status_code == 403
    assert client.post("/", content=b"{not json", headers={SECRET_HEADER: "s3cret"}).status_code == 400
    ignored = client.post("/", json={**PAYLOAD, "scope": "store/cart/created"}, headers={SECRET_HEADER: "s3cret"})
    assert ignored.json()["status"] == "ignored"
    assert ctx.reasons == []


class _Receiver(Sandbox):
    """Serves the receiver on loopback (Sandbox.running is a handy uvicorn-on-a-thread)."""

    name = "receiver"
    default_port = 0

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx

    def app(self):
        return webhook_app(self.ctx)


def test_create_check_list_and_a_new_order_reaches_the_receiver(sandbox_url, config, tmp_path):
    ctx = FakeContext()
    with sandbox_url(orders=3) as (url, sandbox), running(_Receiver(ctx)) as receiver:
        pipeline = tmp_path / "p.yaml"
        pipeline.write_text(yaml.safe_dump({"version": 1, "name": "t", "source": {
            "connector": "bigcommerce", "config": {**config(url), "access_token": "${BC_TOKEN:-tok}"}},
            "destination": {"connector": "qbo", "config": {}}}))
        cli = click.Group()
        host().add_commands(cli)  # the plugin's register_commands hook
        runner = CliRunner()
        args = ["--pipeline", str(pipeline), "--destination-url", receiver + "/"]
        assert runner.invoke(cli, ["bigcommerce", "webhooks", "check", *args]).exit_code == 1
        created = runner.invoke(cli, ["bigcommerce", "webhooks", "create", *args])
        assert created.exit_code == 0, created.output
        assert created.output.count("created") == 4
        again = runner.invoke(cli, ["bigcommerce", "webhooks", "create", *args])
        assert again.output.count("unchanged") == 4 and len(sandbox.store.hooks) == 4
        checked = runner.invoke(cli, ["bigcommerce", "webhooks", "check", *args])
        assert checked.exit_code == 0, checked.output
        listed = runner.invoke(cli, ["bigcommerce", "webhooks", "list", "--pipeline", str(pipeline)])
        assert "s3cret" not in listed.output and listed.output.count("\n") == 4

        order = httpx.post(f"{url}/_sandbox/orders", json={"status_id": 11}).json()
        assert ctx.event.wait(10)
        assert ctx.reasons[0] == f"bigcommerce store/order/created order {order['id']}"
        deadline = time.monotonic() + 10
        while not sandbox.store.deliverer.log and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sandbox.store.deliverer.log[0]["status"] == 200
