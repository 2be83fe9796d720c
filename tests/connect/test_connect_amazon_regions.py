"""Amazon tokens are kept per seller and region: the same seller connected in North America and in Europe has two
refresh tokens, both work, a rotation of one leaves the other alone, and a token stored per seller by an earlier
version is migrated to the region of the pipeline that reads it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterator

import pytest

from connect_helpers import Served, callback, consent
from sandbox_helpers import sandbox_running
from ledgerlink.connect.accounts import describe, slot, workspace_credentials_path
from ledgerlink.runtime.check import check_pipeline
from ledgerlink.store.shared_credentials import SharedCredentials

SELLER = "A2SANDBOXSELLER1"
APP = "amzn1.sp.solution.sandbox"


def _pipeline(folder: Path, name: str, url: str, region: str) -> None:
    (folder / f"{name}.yaml").write_text(
        f"name: {name}\nstate: {folder / '.ledgerlink' / (name + '.duckdb')}\n"
        "source:\n  connector: amazon_sp\n  config:\n"
        f"    endpoint: {url}\n    lwa_endpoint: {url}/auth/o2/token\n    region: {region}\n"
        "    client_id: amzn1.application-oa2-client.sandbox\n    client_secret: sandbox-lwa-client-secret\n"
        f"    refresh_token: Atzr|not-connected-yet\n    marketplace_ids: [ATVPDKIKX0DER]\n    seller_id: {SELLER}\n"
        "    start_date: '2026-01-01T00:00:00Z'\n  streams: [orders]\n"
        "destination:\n  connector: qbo\n  config: {realm_id: '1', client_id: c, client_secret: s, refresh_token: r}\n")


def _names(served: Served) -> dict[str, str]:
    con = sqlite3.connect(workspace_credentials_path(served.workspace.root))
    try:
        return dict(con.execute("SELECT name, value_encrypted FROM credentials"))
    finally:
        con.close()


def _check(served: Served, name: str) -> str:
    service = served.workspace.services[name]
    return check_pipeline(service.pipeline, "source", plugin_host=served.workspace.plugin_host,
                          store=service.store).status.value


@pytest.fixture
def two_regions(tmp_path: Path) -> Iterator[tuple[Served, Any]]:
    with sandbox_running("amazon_sp", orders=2, refresh_token="Atzr|issued-elsewhere") as (url, sandbox):
        _pipeline(tmp_path, "sales_na", url, "na")
        _pipeline(tmp_path, "sales_eu", url, "eu")
        served = Served(tmp_path)
        yield served, sandbox
        served.close()


def test_one_seller_connected_in_two_regions_keeps_two_tokens(two_regions):
    served, _ = two_regions
    ws = served.workspace
    for name in ("sales_na", "sales_eu"):
        done = callback(served, consent(served.start(name, "source", application_id=APP, version="beta")))
        assert done.status_code == 200, done.text
    store = SharedCredentials(workspace_credentials_path(ws.root))
    na, eu = (store.load(f"amazon_sp:{SELLER}:{r}:refresh_token") for r in ("na", "eu"))
    assert na and eu and na != eu
    assert sorted(n for n in _names(served) if n.startswith("amazon_sp:") and n.endswith(":refresh_token")) == [
        f"amazon_sp:{SELLER}:eu:refresh_token", f"amazon_sp:{SELLER}:na:refresh_token"]
    shown = {s: describe(ws, slot(ws, s, "source")) for s in ("sales_na", "sales_eu")}
    assert shown["sales_na"]["account"] == f"{SELLER}:na" and shown["sales_eu"]["account"] == f"{SELLER}:eu"
    assert shown["sales_na"]["status"] == shown["sales_eu"]["status"] == "connected"
    assert shown["sales_na"]["shared_with"] == []  # another region is another account
    assert _check(served, "sales_na") == _check(served, "sales_eu") == "SUCCEEDED"
    # the runtime keeps a rotated token under the account's own name: Europe's rotation leaves North America's
    from ledgerlink.runtime.extract import credential_name
    from ledgerlink_amazon_sp import AmazonSellingPartnerSource as AmazonSPSource

    eu_config = dict(ws.services["sales_eu"].pipeline.source.config)
    ws.services["sales_eu"].store.credentials.save(credential_name(AmazonSPSource(), eu_config, "refresh_token"),
                                                   "Atzr|rotated-in-europe")
    assert store.load(f"amazon_sp:{SELLER}:eu:refresh_token") == "Atzr|rotated-in-europe"
    assert store.load(f"amazon_sp:{SELLER}:na:refresh_token") == na
    assert _check(served, "sales_na") == "SUCCEEDED"
    # disconnecting Europe forgets Europe's token only
    served.form(served.client, "/connections/disconnect", pipeline="sales_eu", role="source")
    assert store.load(f"amazon_sp:{SELLER}:eu:refresh_token") is None
    assert store.load(f"amazon_sp:{SELLER}:na:refresh_token") == na


def test_a_token_stored_per_seller_is_migrated_to_the_pipelines_region(two_regions):
    served, _ = two_regions
    ws = served.workspace
    store = SharedCredentials(workspace_credentials_path(ws.root))
    # what an earlier version stored: one token per seller, recorded under the seller alone
    store.connect("amazon_sp", SELLER, f"Amazon seller {SELLER} (NA)",
                  {f"amazon_sp:{SELLER}:refresh_token": "Atzr|issued-elsewhere"}, "admin")
    assert describe(ws, slot(ws, "sales_na", "source"))["status"] == "connected"
    assert _check(served, "sales_na") == "SUCCEEDED"
    assert store.load(f"amazon_sp:{SELLER}:na:refresh_token") == "Atzr|issued-elsewhere"  # migrated
    store.save(f"amazon_sp:{SELLER}:na:refresh_token", "Atzr|rotated-in-america")
    assert store.load(f"amazon_sp:{SELLER}:refresh_token") == "Atzr|issued-elsewhere"  # the old name untouched
