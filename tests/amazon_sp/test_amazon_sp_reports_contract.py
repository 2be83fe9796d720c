"""Client contract for the Reports API: Amazon's own `x-amzn-api-sandbox` static cases of reports_2021-06-30,
replayed from cassettes through the engine. Regenerate the cassettes from the model with

    python tests/amazon_sp/test_amazon_sp_reports_contract.py

Each cassette holds the request exactly as `ReportsEngine` sends it to Amazon's sandbox and the response the
model documents. To check against Amazon instead, re-record with a sandbox app's credentials (see
test_amazon_sp_contract.py); the access token header is filtered.
"""

from __future__ import annotations

import itertools
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Generator

import httpx
import pytest

from ledgerlink import PermanentError
from ledgerlink_amazon_sp import AmazonSPConfig
from ledgerlink_amazon_sp.client import sp_client
from ledgerlink_amazon_sp.reports.engine import DOCUMENTS_PATH, REPORTS_PATH, ReportsEngine

HERE = Path(__file__).resolve().parent
MODEL = HERE.parents[2] / "shared" / "reference" / "amazon-sp-api" / "models" / "reports_2021-06-30.json"
AMAZON_SANDBOX = "https://sandbox.sellingpartnerapi-na.amazon.com"
#: createdSince the engine sends when replaying getReports (the static case leaves it to the caller)
CREATED_SINCE = datetime(2024, 3, 1, tzinfo=timezone.utc)
CONFIG = AmazonSPConfig(endpoint=AMAZON_SANDBOX, lwa_endpoint="https://api.amazon.com/auth/o2/token",
                        client_id="replay", client_secret="replay", refresh_token="replay",
                        marketplace_ids=["ATVPDKIKX0DER"], start_date="2024-01-01T00:00:00Z")


# ------------------------------------------------------------------------------------------------ cassettes


def static_cases(model: dict[str, Any]) -> list[tuple[str, int, dict[str, Any], Any]]:
    """(operationId, status, parameters, response body) for every static case outside report schedules."""
    out = []
    for path, methods in model["paths"].items():
        if "/schedules" in path:
            continue
        for method, op in methods.items():
            if method == "parameters":
                continue
            for status, response in op["responses"].items():
                for case in response.get("x-amzn-api-sandbox", {}).get("static", []):
                    params = {k: v["value"] for k, v in case["request"]["parameters"].items()}
                    out.append((op["operationId"], int(status), params, case.get("response")))
    return out


def _engine_request(operation: str, params: dict[str, Any]) -> tuple[str, str, bytes] | None:
    """(method, url, body) the engine sends for a static case's parameters; None if it cannot send it
    (cancelReport without a reportId)."""
    if operation == "createReport":
        spec = dict(params["body"])
        if "dataStartTime" in spec:  # the engine writes times to the second, as SP-API prints them
            spec["dataStartTime"] = spec["dataStartTime"].replace(".000Z", "Z")
        return "POST", AMAZON_SANDBOX + REPORTS_PATH, json.dumps(spec).encode()
    if operation == "getReports":
        query = {"reportTypes": ",".join(params["reportTypes"]), "createdSince": "2024-03-01T00:00:00Z",
                 "pageSize": 100, "processingStatuses": ",".join(params["processingStatuses"])}
        return "GET", str(httpx.URL(AMAZON_SANDBOX + REPORTS_PATH, params=query)), b""
    if operation in ("getReport", "cancelReport"):
        if "reportId" not in params:
            return None
        method = "GET" if operation == "getReport" else "DELETE"
        return method, f"{AMAZON_SANDBOX}{REPORTS_PATH}/{params['reportId']}", b""
    if operation == "getReportDocument":
        return "GET", AMAZON_SANDBOX + DOCUMENTS_PATH.format(reportDocumentId=params["reportDocumentId"]), b""
    raise LookupError(operation)


def cassette_name(operation: str, status: int) -> str:
    return f"{operation}-{status}.yaml"


def main(model_path: Path = MODEL, directory: Path = HERE / "cassettes") -> list[Path]:
    from vcr.cassette import Cassette
    from vcr.request import Request

    model = json.loads(model_path.read_text())
    written = []
    for operation, status, params, body in static_cases(model):
        request = _engine_request(operation, params)
        if request is None:
            continue
        method, url, content = request
        headers = {"accept": "application/json"}
        if content:
            headers["content-type"] = "application/json"
        response = {"status": {"code": status, "message": httpx.codes.get_reason_phrase(status)},
                    "headers": {"content-type": ["application/json"]},
                    "body": {"string": "" if body is None else json.dumps(body, indent=1)}}
        path = directory / cassette_name(operation, status)
        path.unlink(missing_ok=True)
        cassette = Cassette.load(path=str(path), record_mode="all")
        cassette.append(Request(method, url, content, headers), response)
        cassette._save(force=True)
        written.append(path)
    return written


# ------------------------------------------------------------------------------------------------ tests


@pytest.fixture(scope="module")
def reports_model(reference_dir: Path) -> dict[str, Any]:
    return json.loads((reference_dir / "amazon-sp-api" / "models" / "reports_2021-06-30.json").read_text())


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {"filter_headers": ["x-amz-access-token", "authorization", "user-agent"],
            "ignore_hosts": ["api.amazon.com"], "decode_compressed_response": True}


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(HERE / "cassettes")


class _ReplayToken(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["x-amz-access-token"] = "Atza|replay"
        yield request


@pytest.fixture
def engine():
    with sp_client(CONFIG, _ReplayToken()) as client:
        yield ReportsEngine(client, sleep=lambda s: None)


def oracle(model: dict[str, Any], operation: str, status: int) -> Any:
    return next(body for op, st, _, body in static_cases(model) if (op, st) == (operation, status))


def test_a_cassette_for_every_static_case(reports_model):
    expected = {cassette_name(op, st) for op, st, params, _ in static_cases(reports_model)
                if _engine_request(op, params) is not None}
    assert expected <= {p.name for p in (HERE / "cassettes").glob("*Report*.yaml")}
    assert len(expected) == 9


@pytest.mark.vcr
@pytest.mark.default_cassette("createReport-202.yaml")
def test_create_report(engine, reports_model):
    report_id = engine.create("GET_MERCHANT_LISTINGS_ALL_DATA", marketplace_ids=["A1PA6795UKMFR9", "ATVPDKIKX0DER"],
                              start=datetime(2024, 3, 10, 20, 11, 24, tzinfo=timezone.utc))
    assert report_id == oracle(reports_model, "createReport", 202)["reportId"] == "ID323"


@pytest.mark.vcr
@pytest.mark.default_cassette("createReport-400.yaml")
def test_create_report_refused(engine):
    with pytest.raises(PermanentError) as caught:
        engine.create("BAD_FEE_DISCOUNTS_REPORT", marketplace_ids=["A1PA6795UKMFR9", "ATVPDKIKX0DER"],
                      start=datetime(2024, 3, 10, 20, 11, 24, tzinfo=timezone.utc))
    assert (caught.value.status, caught.value.code) == (400, "400")
    assert caught.value.remote_message == "Invalid input (Invalid input)" and "settlement" in caught.value.hint


@pytest.mark.vcr
@pytest.mark.default_cassette("getReports-200.yaml")
def test_get_reports_first_page(engine, reports_model):
    first_page = oracle(reports_model, "getReports", 200)["reports"]
    listed = list(itertools.islice(engine.list_reports(
        ["FEE_DISCOUNTS_REPORT", "GET_AFN_INVENTORY_DATA"], created_since=CREATED_SINCE,
        processing_statuses=("IN_QUEUE", "IN_PROGRESS")), len(first_page)))
    assert listed == first_page and listed[0]["reportId"] == "ReportId1"


@pytest.mark.vcr
@pytest.mark.default_cassette("getReports-400.yaml")
def test_get_reports_refused(engine):
    with pytest.raises(PermanentError, match="Invalid input in processing status"):
        list(engine.list_reports(["FEE_DISCOUNTS_REPORT", "GET_AFN_INVENTORY_DATA"], created_since=CREATED_SINCE,
                                 processing_statuses=("BAD_VALUE", "IN_PROGRESS")))


@pytest.mark.vcr
@pytest.mark.default_cassette("getReport-200.yaml")
def test_get_report(engine, reports_model):
    report = engine.report("ID323")
    assert report == oracle(reports_model, "getReport", 200) and report["processingStatus"] == "IN_PROGRESS"


@pytest.mark.vcr
@pytest.mark.default_cassette("getReport-400.yaml")
def test_get_report_refused(engine):
    with pytest.raises(PermanentError) as caught:
        engine.report("badReportId1")
    assert caught.value.status == 400


@pytest.mark.vcr
@pytest.mark.default_cassette("getReportDocument-200.yaml")
def test_get_report_document(engine, reports_model):
    document = engine._document("0356cf79-b8b0-4226-b4b9-0ee058ea5760")
    assert document == oracle(reports_model, "getReportDocument", 200)
    assert "compressionAlgorithm" not in document  # Amazon's example is uncompressed: downloaded as is


@pytest.mark.vcr
@pytest.mark.default_cassette("getReportDocument-400.yaml")
def test_get_report_document_refused(engine):
    with pytest.raises(PermanentError) as caught:
        engine.document_text("badDocumentId1")
    assert caught.value.status == 400 and caught.value.operation == "getReportDocument"


@pytest.mark.vcr
@pytest.mark.default_cassette("cancelReport-200.yaml")
def test_cancel_report(engine):
    engine.cancel("ID")


if __name__ == "__main__":
    for path in main(*(Path(a) for a in sys.argv[1:2])):
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
