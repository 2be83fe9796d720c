"""What the connect tests share (a module name unique in the suite): a workspace of real pipelines pointed at the
sandboxes, served by a TestClient over the console app, and the browser's side of a vendor consent page (follow
the console's redirect to the sandbox, choose Allow or Deny, come back with the sandbox's redirect)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from starlette.testclient import TestClient

from ledgerlink.console import Workspace
from ledgerlink.console.app import build_console_app
from ledgerlink.plugins import PluginHost

PASSWORD = "correct horse battery"
#: a refresh token no sandbox ever issued: a pipeline holding only this is not connected
NOT_CONNECTED = "not-connected-yet"


def qbo_pipeline(folder: Path, name: str, qbo_url: str, amazon_url: str, *, realm: str = "9341455000000000",
                 credentials: str | None = None) -> Path:
    """An Amazon → QuickBooks Online pipeline whose QuickBooks refresh token is not a real one (connect it)."""
    path = folder / f"{name}.yaml"
    path.write_text(
        f"name: {name}\nstate: {folder / '.ledgerlink' / (name + '.duckdb')}\n"
        + (f"credentials: {credentials}\n" if credentials else "")
        + "source:\n  connector: amazon_sp\n  config:\n"
        f"    endpoint: {amazon_url}\n    lwa_endpoint: {amazon_url}/auth/o2/token\n"
        "    client_id: amzn1.application-oa2-client.sandbox\n    client_secret: sandbox-lwa-client-secret\n"
        "    refresh_token: Atzr|sandbox-refresh-token\n    marketplace_ids: [ATVPDKIKX0DER]\n"
        "    start_date: '2026-01-01T00:00:00Z'\n  streams: [orders, order_items]\n"
        "destination:\n  connector: qbo\n  config:\n"
        f"    base_url: {qbo_url}\n    token_url: {qbo_url}/oauth2/v1/tokens/bearer\n    realm_id: '{realm}'\n"
        "    client_id: sandbox-qbo-client\n    client_secret: sandbox-qbo-client-secret\n"
        f"    refresh_token: {NOT_CONNECTED}\n    requests_per_minute: 500000\n    batch_requests_per_minute: 500000\n"
        "  options: {customer_strategy: per_marketplace}\n")
    return path


class Served:
    """A workspace served by the console app, with an admin signed in."""

    def __init__(self, folder: Path, clock: Any = None):
        kwargs = {"clock": clock} if clock is not None else {}
        self.workspace = Workspace.open(folder, PluginHost(), every=None, debounce=0, announce=lambda line: None,
                                        **kwargs)
        self.workspace.accounts.add("admin", "admin", PASSWORD)
        self.workspace.accounts.add("keeper", "bookkeeper", PASSWORD)
        self.app = build_console_app(self.workspace)
        self.client = self.sign_in("admin")

    def sign_in(self, name: str) -> TestClient:
        client = TestClient(self.app)
        response = client.post("/api/v1/session", json={"name": name, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.csrf = response.json()["csrf_token"]  # type: ignore[attr-defined]
        return client

    def form(self, client: TestClient, path: str, **fields: str) -> httpx.Response:
        return client.post(path, data={"csrf_token": client.csrf, **fields}, follow_redirects=False)  # type: ignore[attr-defined]

    def start(self, pipeline: str, role: str, client: TestClient | None = None, **values: str) -> str:
        """Press Connect: the vendor's consent URL the console redirects to."""
        response = self.form(client or self.client, "/connections/connect", pipeline=pipeline, role=role, **values)
        assert response.status_code == 303, response.text
        return response.headers["location"]

    def sync(self, pipeline: str) -> Any:
        service = self.workspace.services[pipeline]
        service._run("test")
        return service

    def close(self) -> None:
        self.workspace.stop()


def consent(authorize_url: str, decision: str = "allow") -> dict[str, str]:
    """The user on the vendor's consent page: it is shown, they choose; the redirect's query parameters."""
    with httpx.Client(timeout=30) as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 200, page.text
        form = dict(re.findall(r'<input type=hidden name="([^"]+)" value="([^"]*)"', page.text))
        action = re.search(r"<form method=post action=([^ >]+)>", page.text).group(1)
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
        import html
        answer = browser.post(origin + action, data={k: html.unescape(v) for k, v in form.items()} | {"decision": decision})
    assert answer.status_code in (302, 303), answer.text
    return dict(parse_qsl(urlsplit(answer.headers["location"]).query))


def callback(served: Served, params: dict[str, str], client: TestClient | None = None) -> httpx.Response:
    """The browser arriving back at the console with the vendor's parameters."""
    return (client or served.client).get("/connections/callback", params=params, follow_redirects=False)
