"""Write the contract-test cassettes from the `x-amzn-api-sandbox` static cases of Amazon's Orders v0 model.

    python tests/amazon_sp/make_amazon_sp_cassettes.py [path/to/ordersV0.json]

Each cassette holds the request exactly as `ledgerlink_amazon_sp`'s client sends it to Amazon's own sandbox
(https://sandbox.sellingpartnerapi-na.amazon.com) and the response the model documents for it. To check the
client against Amazon instead of the model, re-record with real sandbox credentials (see
test_amazon_sp_contract.py); the token exchange is never recorded and the access token header is filtered.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
from vcr.cassette import Cassette
from vcr.request import Request

HERE = Path(__file__).resolve().parent
MODEL = HERE.parents[2] / "shared" / "reference" / "amazon-sp-api" / "models" / "ordersV0.json"
AMAZON_SANDBOX = "https://sandbox.sellingpartnerapi-na.amazon.com"
OPERATIONS = {"getOrders": "/orders/v0/orders", "getOrderItems": "/orders/v0/orders/{orderId}/orderItems"}
#: cassettes that combine cases (the order and its items, for the normaliser)
COMBINED = {"orderAndItems-TEST_CASE_200": [("getOrders", "TEST_CASE_200"), ("getOrderItems", "TEST_CASE_200")]}


def static_cases(model: dict[str, Any], operation: str) -> list[tuple[int, dict[str, Any], Any]]:
    """(status, parameters, response body) for each static sandbox case of one operation."""
    path = OPERATIONS[operation]
    out = []
    for status, response in model["paths"][path]["get"]["responses"].items():
        for case in response.get("x-amzn-api-sandbox", {}).get("static", []):
            params = {k: v["value"] for k, v in case["request"]["parameters"].items()}
            out.append((int(status), params, case["response"]))
    return out


def case_id(operation: str, params: dict[str, Any]) -> str:
    """Cases are named by their marker value (CreatedAfter or orderId, e.g. TEST_CASE_200)."""
    return f"{operation}-{params.get('CreatedAfter') or params.get('orderId')}"


def request_for(operation: str, params: dict[str, Any]) -> Request:
    """The request as the client sends it: path parameters in the path, lists comma-separated (csv)."""
    path = OPERATIONS[operation]
    query = {}
    for name, value in params.items():
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", str(value))
        else:
            query[name] = ",".join(value) if isinstance(value, list) else value
    url = httpx.URL(AMAZON_SANDBOX + path, params=query)
    return Request("GET", str(url), b"", {"accept": "application/json"})


def response_for(status: int, body: Any) -> dict[str, Any]:
    return {"status": {"code": status, "message": httpx.codes.get_reason_phrase(status)},
            "headers": {"content-type": ["application/json"]}, "body": {"string": json.dumps(body, indent=1)}}


def write(directory: Path, name: str, interactions: list[tuple[Request, dict[str, Any]]]) -> Path:
    path = directory / f"{name}.yaml"
    path.unlink(missing_ok=True)
    cassette = Cassette.load(path=str(path), record_mode="all")
    for request, response in interactions:
        cassette.append(request, response)
    cassette._save(force=True)
    return path


def main(model_path: Path = MODEL, directory: Path = HERE / "cassettes") -> list[Path]:
    model = json.loads(model_path.read_text())
    directory.mkdir(parents=True, exist_ok=True)
    by_id: dict[str, list[tuple[Request, dict[str, Any]]]] = {}
    by_case: dict[tuple[str, str], tuple[Request, dict[str, Any]]] = {}
    for operation in OPERATIONS:
        for status, params, body in static_cases(model, operation):
            interaction = (request_for(operation, params), response_for(status, body))
            by_id.setdefault(case_id(operation, params), []).append(interaction)
            by_case.setdefault((operation, str(params.get("CreatedAfter") or params.get("orderId"))), interaction)
    for name, parts in COMBINED.items():
        by_id[name] = [by_case[p] for p in parts]
    return [write(directory, name, interactions) for name, interactions in sorted(by_id.items())]


if __name__ == "__main__":
    for written in main(*(Path(a) for a in sys.argv[1:2])):
        print(written.relative_to(Path.cwd()) if written.is_relative_to(Path.cwd()) else written)
