"""The sandbox's Finances replies validate against Amazon's official models (Finances 2024-06-19 and v0), strictly:
a field the model does not define fails, so the sandbox cannot drift into agreeing with our own bugs."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import httpx
import jsonschema
import pytest

from ledgerlink import json_loads
from amazon_models import strict  # noqa: E402

MODELS = {"/finances/2024-06-19/transactions": "finances_2024-06-19.json",
          "/finances/v0/financialEvents": "financesV0.json"}



def strict_definitions(definitions: dict[str, Any]) -> dict[str, Any]:
    """`strict` for every definition, except that the parts of an allOf (Context = contextType + one of several
    contexts) stay open, and the allOf as a whole allows only the union of its parts' properties."""
    parts = {ref.rsplit("/", 1)[-1] for d in definitions.values() for part in d.get("allOf", [])
             for ref in [part.get("$ref", "")] if ref}
    out = {name: (d if name in parts else strict(d)) for name, d in definitions.items()}
    for name, d in definitions.items():
        if "allOf" not in d:
            continue
        members = [definitions[p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p for p in d["allOf"]]
        union = {k: {} for m in members for k in m.get("properties", {})}
        out[name] = {**d, "allOf": [*d["allOf"], {"properties": union, "additionalProperties": False}]}
    return out


@pytest.fixture(scope="module")
def validate(reference_dir: Path) -> Callable[[str, int, Any], None]:
    models = {path: json.loads((reference_dir / "amazon-sp-api" / "models" / name).read_text())
              for path, name in MODELS.items()}
    definitions = {path: strict_definitions(copy.deepcopy(m["definitions"])) for path, m in models.items()}

    def check(path: str, status: int, body: Any) -> None:
        ref = models[path]["paths"][path]["get"]["responses"][str(status)]["schema"]["$ref"]
        jsonschema.Draft4Validator({"$ref": ref, "definitions": definitions[path]}).validate(body)

    return check


def token(url: str) -> dict[str, str]:
    body = httpx.post(f"{url}/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|r",
                                                    "client_id": "c", "client_secret": "s"}).json()
    return {"x-amz-access-token": body["access_token"]}


def ago(days: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def pages(http: httpx.Client, path: str, params: dict[str, str], token_name: str, headers: dict[str, str],
          payload_token: Callable[[Any], str | None]) -> list[tuple[int, Any]]:
    out = []
    while True:
        response = http.get(path, params=params, headers=headers)
        out.append((response.status_code, json_loads(response.content)))
        next_token = payload_token(out[-1][1])
        if response.status_code != 200 or not next_token:
            return out
        params = {**params, token_name: next_token}


def test_list_transactions_pages_match_the_2024_06_19_model(sandbox, validate):
    path = "/finances/2024-06-19/transactions"
    with sandbox(orders=200, transactions_page_size=30) as (url, sb), httpx.Client(base_url=url) as http:
        got = pages(http, path, {"postedAfter": ago(70)}, "nextToken", token(url),
                    lambda b: (b.get("payload") or {}).get("nextToken"))
        total = len(sb.api.finances.book.events)
    seen = 0
    for status, body in got:
        assert status == 200
        validate(path, 200, json.loads(json.dumps(body, default=float)))  # jsonschema's "number" is int/float
        seen += len(body["payload"]["transactions"])
    assert seen == total and len(got) > 5
    statuses = {t["transactionStatus"] for _, b in got for t in b["payload"]["transactions"]}
    assert statuses == {"DEFERRED", "RELEASED", "DEFERRED_RELEASED"}


def test_list_financial_events_pages_match_the_v0_model(sandbox, validate):
    path = "/finances/v0/financialEvents"
    with sandbox(orders=200) as (url, sb), httpx.Client(base_url=url) as http:
        got = pages(http, path, {"PostedAfter": ago(70), "MaxResultsPerPage": "30"}, "NextToken", token(url),
                    lambda b: (b.get("payload") or {}).get("NextToken"))
        released = sum(1 for e in sb.api.finances.book.events if e.status != "DEFERRED")
    seen = 0
    for status, body in got:
        assert status == 200
        validate(path, 200, json.loads(json.dumps(body, default=float)))
        seen += sum(len(v) for v in body["payload"]["FinancialEvents"].values())
    assert seen == released and len(got) > 5


def test_error_replies_match_the_models(sandbox, validate):
    with sandbox(orders=3) as (url, sb), httpx.Client(base_url=url) as http:
        headers = token(url)
        replies = []
        for path, after in (("/finances/2024-06-19/transactions", "postedAfter"),
                            ("/finances/v0/financialEvents", "PostedAfter")):
            operation = "listTransactions" if "2024" in path else "listFinancialEvents"
            replies.append((path, 400, http.get(path, params={after: ago(-1)}, headers=headers)))
            replies.append((path, 403, http.get(path, params={after: ago(3)})))
            for status in (429, 500, 503):
                http.post("/_sandbox/faults", json={"operation": operation, "status": status})
                replies.append((path, status, http.get(path, params={after: ago(3)}, headers=headers)))
    for path, status, response in replies:
        assert response.status_code == status, response.text
        validate(path, status, response.json())
