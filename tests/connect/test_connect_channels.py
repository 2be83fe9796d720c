"""Connecting the other accounts from the console, end to end against the sandboxes: an Amazon seller through
Seller Central's consent page and Login with Amazon's authorization-code grant; a BigCommerce store's token,
checked at once; QuickBooks Desktop's Web Connector password and `.qwc` file. Each refusal is a clear 4xx that
names the field, with nothing stored."""

from __future__ import annotations

import html
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from connect_helpers import PASSWORD, Served, callback, consent
from sandbox_helpers import sandbox_running
from ledgerlink.connect.accounts import workspace_credentials_path

SELLER = "A2SANDBOXSELLER1"
APP = "amzn1.sp.solution.sandbox"


def text(response: httpx.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


def stored_names(served: Served) -> list[str]:
    path = workspace_credentials_path(served.workspace.root)
    if not path.exists():
        return []
    con = sqlite3.connect(path)
    try:
        return sorted(n for (n,) in con.execute("SELECT name FROM credentials"))
    finally:
        con.close()


# -- Amazon -----------------------------------------------------------------------------------------------------------

def amazon_pipeline(folder: Path, name: str, amazon_url: str, *, seller: str | None = SELLER) -> None:
    """Amazon → a fake destination (nothing posted): what is proved is the source reading with the stored token."""
    (folder / f"{name}.yaml").write_text(
        f"name: {name}\nstate: {folder / '.ledgerlink' / (name + '.duckdb')}\n"
        "source:\n  connector: amazon_sp\n  config:\n"
        f"    endpoint: {amazon_url}\n    lwa_endpoint: {amazon_url}/auth/o2/token\n"
        "    client_id: amzn1.application-oa2-client.sandbox\n    client_secret: sandbox-lwa-client-secret\n"
        "    refresh_token: Atzr|not-connected-yet\n    marketplace_ids: [ATVPDKIKX0DER]\n"
        + (f"    seller_id: {seller}\n" if seller else "")
        + "    start_date: '2026-01-01T00:00:00Z'\n  streams: [orders]\n"
        "destination:\n  connector: qbo\n  config: {realm_id: '1', client_id: c, client_secret: s, refresh_token: r}\n")


@pytest.fixture
def amazon(tmp_path: Path) -> Iterator[tuple[Served, str, Any]]:
    # the sandbox accepts only the refresh token it was started with, and those its consent page issues
    with sandbox_running("amazon_sp", orders=3, refresh_token="Atzr|issued-elsewhere") as (url, sandbox):
        amazon_pipeline(tmp_path, "sales", url)
        amazon_pipeline(tmp_path, "unnamed", url, seller=None)
        amazon_pipeline(tmp_path, "other", url, seller="A9OTHERSELLER")
        served = Served(tmp_path)
        yield served, url, sandbox
        served.close()


def test_an_amazon_seller_connects_through_seller_central(amazon: tuple[Served, str, Any]) -> None:
    served, url, _ = amazon
    from ledgerlink.runtime.check import check_pipeline
    pipeline = served.workspace.services["sales"].pipeline
    assert check_pipeline(pipeline, "source", plugin_host=served.workspace.plugin_host,
                          store=served.workspace.services["sales"].store).status.value == "FAILED"

    authorize = served.start("sales", "source", application_id=APP, version="beta")
    assert authorize.startswith(f"{url}/apps/authorize/consent?")
    query = dict(httpx.URL(authorize).params)
    assert query["application_id"] == APP and query["version"] == "beta" and len(query["state"]) >= 40
    params = consent(authorize)
    assert params.keys() == {"state", "selling_partner_id", "spapi_oauth_code"} and params["selling_partner_id"] == SELLER
    done = callback(served, params)
    assert done.status_code == 200 and f"Amazon seller {SELLER} (NA) is connected" in text(done)
    assert stored_names(served) == [f"amazon_sp:{SELLER}:na:refresh_token",
                                    f"amazon_sp:{SELLER}:na:refresh_token:authorised_at"]

    checked = served.form(served.client, "/connections/check", pipeline="sales", role="source")
    assert checked.status_code == 303
    page = text(served.client.get("/connections"))
    assert "check passed" in page and "sales stops" not in page


def test_amazon_refusals_store_nothing(amazon: tuple[Served, str, Any]) -> None:
    served, url, _ = amazon
    unnamed = served.form(served.client, "/connections/connect", pipeline="unnamed", role="source",
                          application_id=APP, version="beta")
    assert unnamed.status_code == 400 and "names no seller" in text(unnamed) and "seller_id" in text(unnamed)

    missing = served.form(served.client, "/connections/connect", pipeline="sales", role="source", version="beta")
    assert missing.status_code == 400 and "SP-API application id is required" in text(missing)
    assert "form.application_id" in text(missing)

    wrong_app = httpx.get(served.start("sales", "source", application_id="amzn1.sp.solution.nope", version="beta"))
    assert wrong_app.status_code == 200  # the sandbox accepts any application id unless pinned

    denied = callback(served, consent(served.start("sales", "source", application_id=APP, version="beta"), "deny"))
    assert denied.status_code == 400 and "consent was denied at Amazon Seller Central" in text(denied)

    params = consent(served.start("sales", "source", application_id=APP, version="beta"))
    wrong = callback(served, {**params, "spapi_oauth_code": "ANbogus"})
    assert wrong.status_code == 400 and "Login with Amazon refused the authorization code: invalid_grant" in text(wrong)

    params = consent(served.start("sales", "source", application_id=APP, version="beta"))
    httpx.post(f"{url}/_sandbox/codes/expire").raise_for_status()
    expired = callback(served, params)
    assert expired.status_code == 400 and "expired" in text(expired)

    # a seller other than the one the pipeline names
    other = callback(served, consent(served.start("other", "source", application_id=APP, version="beta")))
    assert other.status_code == 400 and "names account A9OTHERSELLER" in text(other)
    assert stored_names(served) == []


def test_a_draft_application_needs_version_beta(amazon: tuple[Served, str, Any]) -> None:
    served, _, _ = amazon
    page = httpx.get(served.start("sales", "source", application_id=APP, version=""))
    assert page.status_code == 400 and "version=beta" in page.text


# -- BigCommerce ------------------------------------------------------------------------------------------------------

@pytest.fixture
def bigcommerce(tmp_path: Path) -> Iterator[tuple[Served, str]]:
    with sandbox_running("bigcommerce", orders=3, access_token="the-real-token") as (url, _):
        (tmp_path / "store.yaml").write_text(
            f"name: store\nstate: {tmp_path / '.ledgerlink' / 'store.duckdb'}\n"
            "source:\n  connector: bigcommerce\n  config:\n"
            f"    base_url: {url}\n    store_hash: abc123\n    access_token: not-connected-yet\n"
            "    start_date: '2024-01-01T00:00:00Z'\n"
            "destination:\n  connector: qbo\n  config: {realm_id: '1', client_id: c, client_secret: s, refresh_token: r}\n")
        served = Served(tmp_path)
        yield served, url
        served.close()


def test_a_bigcommerce_token_is_checked_at_once_and_stored_encrypted(bigcommerce: tuple[Served, str]) -> None:
    served, _ = bigcommerce
    post = lambda **fields: served.form(served.client, "/connections/connect", pipeline="store", role="source",  # noqa: E731
                                        **fields)
    wrong = post(store_hash="abc123", access_token="a-wrong-token")
    assert wrong.status_code == 400 and "BigCommerce did not accept the store hash and token" in text(wrong)
    assert "form.access_token" in text(wrong) and "a-wrong-token" not in wrong.text
    other = post(store_hash="zzz999", access_token="the-real-token")
    assert other.status_code == 400 and "reads store abc123, not zzz999" in text(other) and "form.store_hash" in text(other)
    blank = post(store_hash="abc123", access_token="")
    assert blank.status_code == 400 and "Access token is required" in text(blank)
    assert stored_names(served) == []

    done = post(store_hash="abc123", access_token="the-real-token")
    assert done.status_code == 200 and "BigCommerce store abc123 is connected" in text(done)
    assert stored_names(served) == ["bigcommerce:abc123:access_token"]
    assert b"the-real-token" not in workspace_credentials_path(served.workspace.root).read_bytes()
    page = served.client.get("/connections")
    assert "the-real-token" not in page.text and 'data-status="connected"' in page.text
    checked = served.client.post("/api/v1/pipelines/store/connections/source/check",
                                 headers={"X-CSRF-Token": served.client.csrf})  # type: ignore[attr-defined]
    assert checked.status_code == 200 and checked.json()["ok"] is True, checked.text  # read with the stored token


# -- QuickBooks Desktop -----------------------------------------------------------------------------------------------

QBD_CONFIG = ("  connector: qb_desktop\n  config:\n    username: shopqb\n"
              "    password_hash: pbkdf2_sha256$200000$bGVkZ2VybGluay1zYW5kYm94$GviD0cGBHOFhDe87NGGKomjaCTgO9wvV_0F6s7bTDfo\n"
              "    owner_id: 6B7A4F1E-2C3D-4E5F-8A9B-0C1D2E3F4A5B\n    file_id: 0F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0\n")


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[Served]:
    (tmp_path / "desk.yaml").write_text(
        f"name: desk\nstate: {tmp_path / '.ledgerlink' / 'desk.duckdb'}\n"
        "source: {connector: amazon_sp, config: {client_id: c, client_secret: s, refresh_token: r, "
        "marketplace_ids: [ATVPDKIKX0DER], start_date: '2026-01-01T00:00:00Z'}}\n"
        "destination:\n" + QBD_CONFIG)
    served = Served(tmp_path)
    yield served
    served.close()


def web_connector_login(client: TestClient, password: str) -> list[str]:
    from ledgerlink_qb_desktop.soap import envelope

    answer = client.post("/qbwc/", content=envelope("authenticate", {"strUserName": "shopqb", "strPassword": password}),
                         headers={"Content-Type": "text/xml; charset=utf-8",
                                  "SOAPAction": '"http://developer.intuit.com/authenticate"'})
    assert answer.status_code == 200, answer.text
    return re.findall(r"<string>([^<]*)</string>", answer.text)


def test_the_web_connector_password_is_set_from_the_console(desktop: Served) -> None:
    served = desktop
    post = lambda **fields: served.form(served.client, "/connections/connect", pipeline="desk", role="destination",  # noqa: E731
                                        **fields)
    short = post(username="shopqb", password="short", password_again="short")
    assert short.status_code == 400 and "shorter than 10 characters" in text(short) and "form.password" in text(short)
    differ = post(username="shopqb", password="a long password", password_again="another long one")
    assert differ.status_code == 400 and "the two passwords differ" in text(differ)
    renamed = post(username="someone", password="a long password", password_again="a long password")
    assert renamed.status_code == 400 and "Web Connector user is shopqb" in text(renamed)
    assert stored_names(served) == []

    web_connector = TestClient(served.app)
    assert web_connector_login(web_connector, "sandbox-qbwc-password")[1] != "nvu"  # the pipeline file's password
    done = post(username="shopqb", password="a long password", password_again="a long password")
    assert done.status_code == 200 and "Web Connector user shopqb is connected" in text(done)
    assert stored_names(served) == ["qb_desktop:shopqb:password_hash"]
    assert web_connector_login(web_connector, "a long password")[1] != "nvu"
    assert web_connector_login(web_connector, "sandbox-qbwc-password")[1] == "nvu"  # replaced


def test_the_qwc_file_points_at_this_console(desktop: Served) -> None:
    served = desktop
    local = TestClient(served.app, base_url="http://localhost:8700")
    signed = local.post("/api/v1/session", json={"name": "admin", "password": PASSWORD})
    assert signed.status_code == 200
    qwc = local.get("/connections/desk/destination/files/qwc")
    assert qwc.status_code == 200 and qwc.headers["content-disposition"] == 'attachment; filename="shopqb.qwc"'
    assert "<AppURL>http://localhost:8700/qbwc/</AppURL>" in qwc.text and "<UserName>shopqb</UserName>" in qwc.text
    remote = served.client.get("/connections/desk/destination/files/qwc")  # plain http to a non-local host
    assert remote.status_code == 400 and "needs https" in text(remote)
    assert served.client.get("/connections/desk/destination/files/nope").status_code == 404
    assert "Download .qwc file" in served.client.get("/connections").text
