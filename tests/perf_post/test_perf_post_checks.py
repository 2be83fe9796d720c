"""The per-document work cut from QuickBooks Online posting (issue 18) gives the reference's answers: one walk
of a payload finds the feature references and the first bad amount exactly as the two walks before it did, and a
batch's references remembered in one statement are what one `put` each left."""

from __future__ import annotations

import copy
import threading
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx
from hypothesis import given, settings, strategies as st

from ledgerlink import OutboundRecord, RecordError
from ledgerlink.store import Store
from ledgerlink_qbo.client import MAX_IN_FLIGHT, QboApi
from ledgerlink_qbo.config import QboConfig
from ledgerlink_qbo.destination import _check_amount, _scan
from ledgerlink_qbo.plans.links import payload_copy

_MONEY_FIELDS = ("Amount", "TotalAmt", "TotalTax")


# -- the reference: the checks as they were before (destination.py at c25db69) ---------------------------------

def _has_key(node: Any, wanted: str) -> bool:
    if isinstance(node, dict):
        return any(k == wanted or _has_key(v, wanted) for k, v in node.items())
    if isinstance(node, list):
        return any(_has_key(v, wanted) for v in node)
    return False


def _amounts(node: Any, record: OutboundRecord, path: str = "") -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            _amounts(item, record, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else key
            if key in _MONEY_FIELDS and value is not None and not isinstance(value, (dict, list, bool)):
                try:
                    amount = Decimal(str(value))
                except InvalidOperation:
                    raise RecordError(f"{value!r} is not an amount", stream=record.stream, key=record.key,
                                      field=where) from None
                if amount != amount.quantize(Decimal("0.01")):
                    raise RecordError(f"amount {value} has more than 2 decimals", stream=record.stream,
                                      key=record.key, field=where,
                                      hint="round it in the mapping (the `money` filter), so the books keep cents")
            else:
                _amounts(value, record, where)


def _outcome(check: Any) -> tuple[str, Any]:
    try:
        check()
    except RecordError as exc:
        return ("record", (exc.message, exc.field, exc.hint))
    except Exception as exc:  # noqa: BLE001 — whatever the reference raised, the new path must raise too
        return ("other", type(exc).__name__)
    return ("ok", None)


# -- generated payloads -----------------------------------------------------------------------------------------

_amount = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.text(max_size=6), st.none(), st.booleans())
_key = st.sampled_from(["Amount", "TotalAmt", "TotalTax", "ClassRef", "DepartmentRef", "Line", "Qty", "name",
                        "SalesItemLineDetail", "UnitPrice"])
_payload = st.recursive(
    _amount,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_key, inner, max_size=5)),
    max_leaves=25)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_key, _payload, max_size=6))
def test_one_walk_finds_what_the_two_walks_found(data: dict[str, Any]):
    record = OutboundRecord(key="SalesReceipt:k", stream="SalesReceipt", data=data)
    refs, bad = _scan(data)
    assert ("ClassRef" in refs) == _has_key(data, "ClassRef")
    assert ("DepartmentRef" in refs) == _has_key(data, "DepartmentRef")
    assert _outcome(lambda: _check_amount(record, *bad) if bad else None) == _outcome(lambda: _amounts(data, record))


def test_the_path_of_a_bad_amount_names_its_line():
    data = {"Line": [{"Amount": "1.00"}, {"SalesItemLineDetail": {"TotalTax": "0.001"}}], "TotalAmt": "1.234"}
    refs, bad = _scan(data)
    assert refs == set() and bad == ("0.001", "Line[1].SalesItemLineDetail.TotalTax")


def test_references_remembered_together_are_those_remembered_one_by_one(tmp_path: Path):
    entries = [("key:a", "1", None), ("key:b", "2", "0"), ("key:a", "3", "1"), ("O'Brien", "4", None)]
    one, many = Store(tmp_path / "one.duckdb"), Store(tmp_path / "many.duckdb")
    for name, ref_id, version in entries:
        one.references("qbo").put("SalesReceipt", name, ref_id, version)
    many.references("qbo").put("SalesReceipt", "key:b", "old")  # an entry that is there already is replaced
    many.references("qbo").put_many("SalesReceipt", entries)
    query = "SELECT destination, kind, name, ref_id, version FROM refs ORDER BY name"
    assert many.db.fetchall(query) == one.db.fetchall(query)
    assert many.references("qbo").get("SalesReceipt", "key:a") == "3"


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_key, _payload, max_size=6))
def test_a_payload_copy_is_a_deep_copy(data: dict[str, Any]):
    copied = payload_copy(data)
    assert copied == copy.deepcopy(data) or _has_nan(data)
    containers = {id(n) for n in _containers(data)}
    assert not containers & {id(n) for n in _containers(copied)}  # nothing mutable shared with the original


def _containers(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [node, *(c for v in node.values() for c in _containers(v))]
    if isinstance(node, list):
        return [node, *(c for v in node for c in _containers(v))]
    return []


def _has_nan(node: Any) -> bool:
    if isinstance(node, dict):
        return any(_has_nan(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_nan(v) for v in node)
    return node != node  # NaN is not equal to itself, in the copy or the original


def test_a_company_never_has_more_than_ten_calls_of_this_process_at_once():
    state = {"now": 0, "most": 0, "released": False}
    cond = threading.Condition()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tokens/bearer"):
            return httpx.Response(200, json={"access_token": "a", "refresh_token": "r", "expires_in": 3600,
                                             "x_refresh_token_expires_in": 86400})
        with cond:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            if state["now"] >= MAX_IN_FLIGHT:
                state["released"] = True
                cond.notify_all()
            cond.wait_for(lambda: state["released"], timeout=20)  # bound: a missing limit shows as 12, not a hang
            state["now"] -= 1
        return httpx.Response(200, json={"QueryResponse": {}})

    config = QboConfig.model_validate({"base_url": "https://qbo.test", "token_url": "https://qbo.test/tokens/bearer",
                                       "realm_id": "perf-post-places", "client_id": "c", "client_secret": "s",
                                       "refresh_token": "r", "requests_per_minute": 100_000})
    apis = [QboApi(config, "r", transport=httpx.MockTransport(handler)) for _ in range(2)]  # one realm, two clients
    threads = [threading.Thread(target=apis[i % 2].query, args=("select * from Item",)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert state["most"] == MAX_IN_FLIGHT
