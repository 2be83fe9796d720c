"""A pipeline created while `serve` runs (the designer's Save) gets its plugin web endpoints at once, without a
restart: the console finds every pipeline's plugin apps again when the set of pipelines changes, makes each app
once; when a second one moves the paths under /<pipeline>/, the first pipeline's old address stops answering (as
after a restart), and a removed pipeline's addresses stop too."""

from __future__ import annotations

import fakes
from starlette.testclient import TestClient

from console_helpers import write_pipeline
from ledgerlink.console import Workspace
from ledgerlink.console.app import build_console_app
from ledgerlink.designer.create import serve_new_pipeline


def test_a_new_pipeline_answers_its_webhooks_without_a_restart(tmp_path):
    host = fakes.fresh_host(tmp_path)
    host.register(fakes.web_plugin, name="fake_web")
    ws = Workspace.open(write_pipeline(tmp_path, "hooked"), host, every=None, debounce=0, announce=lambda s: None)
    try:
        client = TestClient(build_console_app(ws))
        assert client.post("/webhooks/fake/event").json() == {"ok": True, "pipeline": "hooked"}
        assert client.post("/webhooks/fake/event").json()["pipeline"] == "hooked"
        assert client.post("/fresh/webhooks/fake/event").status_code in (401, 404)  # not served yet
        serve_new_pipeline(ws, write_pipeline(tmp_path, "fresh"))  # what the designer's Save does
        assert client.post("/fresh/webhooks/fake/event").json() == {"ok": True, "pipeline": "fresh"}
        assert client.post("/hooked/webhooks/fake/event").json() == {"ok": True, "pipeline": "hooked"}
        # the address the first pipeline had is taken over by the two under /<pipeline>/: it no longer reaches it
        assert client.post("/webhooks/fake/event").status_code in (401, 404)
        bare = client.post("/fresh/webhooks/fake", follow_redirects=False)  # the app's own 404, not a redirect
        assert bare.status_code == 404 and "location" not in bare.headers
        assert client.get("/fresh/webhooks/fake/status").status_code == 401  # its read-outs still need a sign-in
        ws.services.pop("fresh").stop()  # no longer served: its address stops, the one left is alone again
        assert client.post("/fresh/webhooks/fake/event").status_code in (401, 404)
        assert client.post("/hooked/webhooks/fake/event").status_code in (401, 404)
        assert client.post("/webhooks/fake/event").json() == {"ok": True, "pipeline": "hooked"}
    finally:
        ws.stop()


def test_each_app_is_made_once_while_its_pipeline_is_served(tmp_path, monkeypatch):
    host = fakes.fresh_host(tmp_path)
    made: list[str] = []

    class Counting:
        from ledgerlink.plugins import hookimpl

        @hookimpl
        def register_web_routes(self, register):
            def factory(context):
                made.append(context.pipeline_name)
                return fakes.webhook_app(context)
            register("/webhooks/fake", factory)

    host.register(Counting(), name="counting")
    ws = Workspace.open(write_pipeline(tmp_path, "one"), host, every=None, debounce=0, announce=lambda s: None)
    try:
        client = TestClient(build_console_app(ws))
        for _ in range(3):
            assert client.post("/webhooks/fake/event").status_code == 200
        assert made == ["one"]
        serve_new_pipeline(ws, write_pipeline(tmp_path, "two"))
        for _ in range(3):
            assert client.post("/two/webhooks/fake/event").json()["pipeline"] == "two"
        assert made == ["one", "two"]
    finally:
        ws.stop()
