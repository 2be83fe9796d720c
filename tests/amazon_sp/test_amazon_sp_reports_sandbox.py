"""The sandbox's Reports API against Amazon's own model (reports_2021-06-30.json, strict), the report type
values page and the published usage plans: it refuses what Amazon refuses, and lists settlement reports."""

from __future__ import annotations

import copy
import gzip
import json
import re
import sys
import time
import types
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

import ledgerlink_amazon_sp.sandbox
from ledgerlink_amazon_sp import AmazonSPConfig
from ledgerlink_amazon_sp.auth import lwa_auth
from ledgerlink_amazon_sp.client import sp_client
from ledgerlink_amazon_sp.reports.engine import ReportsEngine
from ledgerlink_amazon_sp.sandbox import SANDBOX_PLANS
from ledgerlink_amazon_sp.sandbox.reports import PLANS
from ledgerlink_amazon_sp.sandbox.seed_reports import NOT_CREATABLE, REPORT_TYPES, SETTLEMENT_TYPES
from amazon_models import strict  # noqa: E402

BASE = "/reports/2021-06-30"
LEDGER = "GET_LEDGER_DETAIL_VIEW_DATA"
US = ["ATVPDKIKX0DER"]



@pytest.fixture(scope="module")
def reports_model(reference_dir: Path) -> dict[str, Any]:
    return json.loads((reference_dir / "amazon-sp-api" / "models" / "reports_2021-06-30.json").read_text())


@pytest.fixture(scope="module")
def validate(reports_model):
    """validate(path, method, status, body) against the schema the model names for that reply."""
    definitions = strict(copy.deepcopy(reports_model["definitions"]))

    def check(path: str, method: str, status: int, body: Any) -> None:
        schema = reports_model["paths"][path][method]["responses"][str(status)].get("schema")
        if schema is None:
            assert body in (None, b"", ""), f"{method} {path} {status} documents no body"
            return
        jsonschema.Draft4Validator({**schema, "definitions": definitions}).validate(body)

    return check


def token(url: str) -> dict[str, str]:
    body = httpx.post(f"{url}/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|r",
                                                    "client_id": "c", "client_secret": "s"}).json()
    return {"x-amz-access-token": body["access_token"]}


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_report_lifecycle_matches_the_model(sandbox, validate):
    now = datetime.now(timezone.utc)
    # 2 s in the queue and 2 s processing at the sandbox's 1000x clock: long enough that a loaded machine's first
    # poll still sees the report before it is DONE
    with sandbox(orders=60, report_queue_s=2000, report_processing_s=2000) as (url, sb):
        with httpx.Client(base_url=url, headers=token(url)) as client:
            created = client.post(f"{BASE}/reports", json={
                "reportType": LEDGER, "marketplaceIds": US, "dataStartTime": iso(now - timedelta(days=30)),
                "dataEndTime": iso(now - timedelta(minutes=5)), "reportOptions": {"eventType": "Shipments"}})
            assert created.status_code == 202, created.text
            validate(f"{BASE}/reports", "post", 202, created.json())
            report_id = created.json()["reportId"]
            seen = set()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                polled = client.get(f"{BASE}/reports/{report_id}")
                validate(f"{BASE}/reports/{{reportId}}", "get", 200, polled.json())
                seen.add(polled.json()["processingStatus"])
                if polled.json()["processingStatus"] == "DONE":
                    break
                time.sleep(0.05)
            assert seen >= {"IN_QUEUE", "DONE"} or seen >= {"IN_PROGRESS", "DONE"}
            report = polled.json()
            assert report["dataStartTime"] <= report["dataEndTime"] and report["marketplaceIds"] == US
            listed = client.get(f"{BASE}/reports", params={"reportTypes": LEDGER, "pageSize": 1})
            validate(f"{BASE}/reports", "get", 200, listed.json())
            assert listed.json()["reports"] == [report]
            doc = client.get(f"{BASE}/documents/{report['reportDocumentId']}")
            validate(f"{BASE}/documents/{{reportDocumentId}}", "get", 200, doc.json())
            assert doc.json()["compressionAlgorithm"] == "GZIP"
            download = httpx.get(doc.json()["url"])  # presigned: no credentials
    assert download.status_code == 200
    assert gzip.decompress(download.content).decode().startswith("Date\tFNSKU\tASIN\tMSKU\t")


def test_refusals_match_the_model(sandbox, validate):
    with sandbox(orders=5, report_queue_s=3600) as (url, sb):
        headers = token(url)
        with httpx.Client(base_url=url, headers=headers) as client:
            cases = {
                "settlement": client.post(f"{BASE}/reports", json={
                    "reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "marketplaceIds": US}),
                "unknown type": client.post(f"{BASE}/reports", json={"reportType": "BAD_FEE_DISCOUNTS_REPORT",
                                                                     "marketplaceIds": US}),
                "no marketplaces": client.post(f"{BASE}/reports", json={"reportType": LEDGER, "marketplaceIds": []}),
                "future": client.post(f"{BASE}/reports", json={"reportType": LEDGER, "marketplaceIds": US,
                                                               "dataEndTime": "2999-01-01T00:00:00Z"}),
                "bad status": client.get(f"{BASE}/reports", params={"reportTypes": LEDGER,
                                                                    "processingStatuses": "BAD_VALUE,IN_PROGRESS"}),
                "no types": client.get(f"{BASE}/reports"),
                "token and more": client.get(f"{BASE}/reports", params={"nextToken": "abc", "reportTypes": LEDGER}),
                "page size": client.get(f"{BASE}/reports", params={"reportTypes": LEDGER, "pageSize": 101}),
                "bad document id": client.get(f"{BASE}/documents/badDocumentId1"),
            }
            missing = client.get(f"{BASE}/reports/404404")
            queued = client.post(f"{BASE}/reports", json={"reportType": LEDGER, "marketplaceIds": US}).json()
            cancelled = client.delete(f"{BASE}/reports/{queued['reportId']}")
            again = client.delete(f"{BASE}/reports/{queued['reportId']}")
        denied = httpx.get(f"{url}{BASE}/reports", params={"reportTypes": LEDGER})
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "getReport", "status": 429})
        throttled = httpx.get(f"{url}{BASE}/reports/{queued['reportId']}", headers=headers)
    for name, response in cases.items():
        assert response.status_code == 400, name
        assert response.json()["errors"][0]["code"] == "InvalidInput", name
        path, method = (f"{BASE}/documents/{{reportDocumentId}}", "get") if "document" in name else (
            f"{BASE}/reports", "post" if response.request.method == "POST" else "get")
        validate(path, method, 400, response.json())
    assert "Settlement reports cannot be requested" in cases["settlement"].json()["errors"][0]["details"]
    assert "nextToken must be the only parameter" in cases["token and more"].json()["errors"][0]["details"]
    assert "BAD_VALUE" in cases["bad status"].json()["errors"][0]["details"]
    assert (missing.status_code, cancelled.status_code, again.status_code) == (404, 200, 400)
    validate(f"{BASE}/reports/{{reportId}}", "get", 404, missing.json())
    validate(f"{BASE}/reports/{{reportId}}", "delete", 200, cancelled.content or None)
    validate(f"{BASE}/reports/{{reportId}}", "delete", 400, again.json())
    assert (denied.status_code, throttled.status_code) == (403, 429)
    validate(f"{BASE}/reports", "get", 403, denied.json())
    validate(f"{BASE}/reports/{{reportId}}", "get", 429, throttled.json())


def test_get_reports_pages_with_a_next_token_sent_alone(sandbox, validate):
    with sandbox(orders=5) as (url, sb):
        with httpx.Client(base_url=url, headers=token(url)) as client:
            ids = [client.post(f"{BASE}/reports", json={"reportType": LEDGER, "marketplaceIds": US}).json()["reportId"]
                   for _ in range(5)]
            client.post(f"{BASE}/reports", json={"reportType": "GET_FBA_REIMBURSEMENTS_DATA", "marketplaceIds": US})
            pages, params = [], {"reportTypes": LEDGER, "pageSize": 2}
            while True:
                body = client.get(f"{BASE}/reports", params=params).json()
                validate(f"{BASE}/reports", "get", 200, body)
                pages.append([r["reportId"] for r in body["reports"]])
                if "nextToken" not in body:
                    break
                params = {"nextToken": body["nextToken"]}
            other_market = client.get(f"{BASE}/reports", params={"reportTypes": LEDGER,
                                                                 "marketplaceIds": "A2EUQ1WTGCTBG2"}).json()
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(i for p in pages for i in p) == sorted(ids)  # every report once, newest first
    assert other_market == {"reports": []}


@dataclass
class FakeSettlement:
    report_id: str
    settlement_id: str
    created_at: datetime
    text: str


def test_settlement_reports_are_listed_and_downloadable_but_not_creatable(sandbox, make_config, monkeypatch):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    docs = [FakeSettlement("7001", "11111", now - timedelta(days=20), "settlement-id\ttotal-amount\n11111\t10.00\n"),
            FakeSettlement("7002", "22222", now - timedelta(days=6), "settlement-id\ttotal-amount\n22222\t-3,50\n")]
    fake = types.ModuleType("ledgerlink_amazon_sp.sandbox.seed_settlements")
    fake.settlement_documents = lambda book: docs  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    monkeypatch.setattr(ledgerlink_amazon_sp.sandbox, "seed_settlements", fake, raising=False)
    with sandbox(orders=5) as (url, sb):
        config = AmazonSPConfig(**make_config(url))
        with sp_client(config, lwa_auth(config)) as client:
            engine = ReportsEngine(client)
            listed = list(engine.list_reports(["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"],
                                              created_since=now - timedelta(days=89)))
            texts = [engine.document_text(r["reportDocumentId"]) for r in listed]
            recent = list(engine.list_reports(["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"],
                                              created_since=now - timedelta(days=10)))
    assert [r["reportId"] for r in listed] == ["7002", "7001"]  # newest first
    assert all(r["processingStatus"] == "DONE" for r in listed)
    assert texts == [docs[1].text, docs[0].text]
    assert [r["reportId"] for r in recent] == ["7002"]


def test_without_a_settlements_seed_none_are_listed(sandbox):
    with sandbox(orders=5) as (url, sb):
        body = httpx.get(f"{url}{BASE}/reports", headers=token(url),
                         params={"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"}).json()
        expected = len(sb.api.reports.settlements())
    assert len(body["reports"]) == min(expected, 10)


# ------------------------------------------------------------------------------------------------ oracles


def doc_types(reference_dir: Path) -> tuple[set[str], set[str]]:
    """(every reportType value, those the page says cannot be requested) from Amazon's Report Type Values."""
    text = (reference_dir / "amazon-sp-api" / "docs" / "reporttype-values_2022-01-04.md").read_text()
    names = set(re.findall(r"\bGET_[A-Z0-9_]+\b", text)) | set(
        re.findall(r"reportType</strong>\s*value:\s*(?:<br>)?\s*([A-Z][A-Z0-9_]+)", text))
    refused: set[str] = set()
    for section in re.split(r"\n## ", text):
        for row in re.findall(r"<tr.*?</tr>", section, re.S):
            if section.startswith("Settlement reports") or re.search(r"cannot be\s+requested", row):
                refused |= set(re.findall(r"\bGET_[A-Z0-9_]+\b", row))
    return names, refused


def test_report_types_are_amazons(reference_dir):
    names, refused = doc_types(reference_dir)
    assert REPORT_TYPES == names
    assert NOT_CREATABLE == refused and SETTLEMENT_TYPES < NOT_CREATABLE


def test_usage_plans_are_amazons(reference_dir):
    limits = json.loads((reference_dir / "amazon-sp-api" / "derived" / "rate_limits.json").read_text())
    published = {o["operationId"]: (o["rate_per_sec"], o["burst"]) for o in limits["operations"]
                 if o["model"] == "reports_2021-06-30.json" and "Schedule" not in o["operationId"]}
    assert PLANS == published
    assert all(SANDBOX_PLANS[op] == plan for op, plan in PLANS.items())


def test_create_report_is_throttled_by_its_usage_plan(sandbox, validate):
    with sandbox(orders=5, time_scale=1) as (url, sb):  # Amazon's own pace: 1 a minute after a burst of 15
        with httpx.Client(base_url=url, headers=token(url)) as client:
            replies = [client.post(f"{BASE}/reports", json={"reportType": LEDGER, "marketplaceIds": US})
                       for _ in range(16)]
    assert [r.status_code for r in replies] == [202] * 15 + [429]
    validate(f"{BASE}/reports", "post", 429, replies[-1].json())
    assert replies[-1].json()["errors"][0]["code"] == "QuotaExceeded"
    assert float(replies[0].headers["x-amzn-RateLimit-Limit"]) == PLANS["createReport"][0]
