"""The QBO sandbox's query endpoint against the forms Intuit documents and python-quickbooks sends: each accepted
form answers as QuickBooks Online does, and each form QBO rejects gets QBO's fault (4000 parse, 4001 invalid)."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from qbo_helpers import Live, live_sandbox


@pytest.fixture(scope="module")
def qbo() -> Iterator[Live]:
    with live_sandbox() as live:
        income = live.sandbox.company.id_named("Account", "Sales of Product Income")
        for name, sku in (("Red Mug", "MUG-RED"), ("Blue Mug", "MUG-BLUE"), ("Tea Towel", None)):
            body: dict[str, Any] = {"Name": name, "Type": "NonInventory", "IncomeAccountRef": {"value": income}}
            if sku:
                body["Sku"] = sku
            live.api("POST", "item", json=body).raise_for_status()
        yield live


def answer(live: Live, text: str) -> dict[str, Any]:
    r = live.api("GET", "query", params={"query": text})
    assert r.status_code == 200, r.text
    return r.json()["QueryResponse"]


def names(response: dict[str, Any], entity: str = "Item") -> list[str]:
    return [row["Name"] for row in response.get(entity, [])]


def test_select_star_comma_sku_returns_the_items_sku(qbo: Live):
    """python-quickbooks' Item query."""
    rows = answer(qbo, "SELECT *, Sku FROM Item WHERE Name = 'Red Mug'")["Item"]
    assert [(r["Name"], r["Sku"], r["Type"]) for r in rows] == [("Red Mug", "MUG-RED", "NonInventory")]
    assert "sparse" not in rows[0] or rows[0]["sparse"] is False


def test_named_fields_answer_only_those_fields_and_the_objects_identity(qbo: Live):
    (row,) = answer(qbo, "select Id, Sku from Item where Sku = 'MUG-BLUE'")["Item"]
    assert row["Sku"] == "MUG-BLUE" and row["Id"] and row["SyncToken"] == "0" and row["sparse"] is True
    assert "Name" not in row and "IncomeAccountRef" not in row


def test_select_count_star(qbo: Live):
    assert answer(qbo, "SELECT COUNT(*) FROM Item WHERE Type = 'NonInventory' AND Name LIKE '%Mug'") == {
        "totalCount": 2}


def test_where_in_a_list_as_python_quickbooks_choose_sends(qbo: Live):
    assert sorted(names(answer(qbo, "SELECT * FROM Item WHERE Sku IN ('MUG-RED', 'MUG-BLUE', 'NONE')"))) == [
        "Blue Mug", "Red Mug"]


@pytest.mark.parametrize("pattern, expected", [("'%Mug%'", ["Blue Mug", "Red Mug"]), ("'Tea%'", ["Tea Towel"]),
                                               ("'%towel'", ["Tea Towel"])])
def test_like_with_percent_wildcards(qbo: Live, pattern, expected):
    assert sorted(names(answer(qbo, f"select * from Item where Name like {pattern}"))) == expected


@pytest.mark.parametrize("clause", ["ORDERBY Name DESC", "ORDER BY Name desc"])
def test_orderby_either_spelling(qbo: Live, clause):
    ordered = names(answer(qbo, f"SELECT * FROM Item WHERE Name LIKE '%Mug%' {clause}"))
    assert ordered == ["Red Mug", "Blue Mug"]


def test_startposition_and_maxresults_page_through(qbo: Live):
    first = answer(qbo, "SELECT * FROM Item WHERE Name LIKE '%' ORDERBY Name STARTPOSITION 1 MAXRESULTS 2")
    second = answer(qbo, "SELECT * FROM Item WHERE Name LIKE '%' ORDERBY Name STARTPOSITION 3 MAXRESULTS 2")
    assert (first["startPosition"], first["maxResults"], second["startPosition"]) == (1, 2, 3)
    everything = names(answer(qbo, "SELECT * FROM Item ORDERBY Name MAXRESULTS 1000"))
    assert names(first) + names(second) == everything[:4]


def test_metadata_last_updated_time_compares_as_an_instant(qbo: Live):
    assert len(names(answer(qbo, "SELECT * FROM Item WHERE Metadata.LastUpdatedTime > '2000-01-01T00:00:00Z' "
                                 "AND Name LIKE '%Mug'"))) == 2
    assert answer(qbo, "SELECT * FROM Item WHERE MetaData.LastUpdatedTime >= '2999-01-01T00:00:00-08:00'") == {}


def test_python_quickbooks_filter_with_an_unquoted_boolean(qbo: Live):
    assert names(answer(qbo, "SELECT * FROM Item WHERE Active = True AND Name = 'Tea Towel'")) == ["Tea Towel"]


def test_entity_names_are_case_insensitive_and_answered_in_qbos_spelling(qbo: Live):
    assert names(answer(qbo, "select * from item where Name = 'Red Mug'")) == ["Red Mug"]


@pytest.mark.parametrize("text, code", [
    ("SELECT * FROM Item WHERE Name = 'Red Mug' OR Name = 'Blue Mug'", "4000"),  # QBO has no OR
    ("SELECT * FROM Item WHERE Name != 'Red Mug'", "4000"),
    ("SELECT * FROM Item WHERE Name = null", "4000"),
    ("SELECT *, * FROM Item", "4000"),
    ("SELECT Name, FROM Item", "4000"),
    ("SELECT * FROM Item GROUP BY Type", "4000"),
    ("SELECT * FROM Item LIMIT 10", "4000"),
    ("SELECT * FROM Item WHERE (Name = 'Red Mug')", "4000"),
    ("SELECT COUNT(Name) FROM Item", "4000"),
    ("SELECT * FROM Item MAXRESULTS 1001", "4001"),
    ("SELECT * FROM Item STARTPOSITION 0", "4001"),
    ("SELECT * FROM Widget", "4001"),
])
def test_a_form_qbo_rejects_is_rejected_with_qbos_fault(qbo: Live, text, code):
    r = qbo.api("GET", "query", params={"query": text})
    assert r.status_code == 400
    fault = r.json()["Fault"]
    assert fault["type"] == "ValidationFault"
    (error,) = fault["Error"]
    assert error["code"] == code
    assert error["Message"] == {"4000": "Error parsing query", "4001": "Invalid query"}[code]
    assert error["Detail"].startswith("QueryParserError" if code == "4000" else "QueryValidationError")


# ------------------------------------------------------------------ the real client: python-quickbooks' own queries


def test_python_quickbooks_queries_are_answered(qbo: Live, monkeypatch: pytest.MonkeyPatch):
    """python-quickbooks (the client the issue names) against the sandbox: all() sends `SELECT *, Sku FROM Item
    ... MAXRESULTS`, filter() `WHERE Name = '..' ORDERBY`, choose() `WHERE Sku IN (..)`, count() `COUNT(*)`."""
    pytest.importorskip("quickbooks")
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox is plain http on 127.0.0.1
    from types import SimpleNamespace

    from quickbooks import QuickBooks
    from quickbooks.objects.item import Item

    class SandboxQuickBooks(QuickBooks):
        api_url = f"{qbo.url}/v3"  # the only thing pointing the client at Intuit

    auth = SimpleNamespace(environment="production", client_id=qbo.sandbox.options.client_id,
                           access_token=qbo.access_token(), refresh_token="unused")
    qb = SandboxQuickBooks(auth_client=auth, company_id=qbo.realm, minorversion=75)
    everything = Item.all(order_by="Name", max_results=1000, qb=qb)
    assert {(i.Name, i.Sku) for i in everything} >= {("Red Mug", "MUG-RED"), ("Blue Mug", "MUG-BLUE")}
    assert [i.Name for i in Item.filter(Name="Red Mug", order_by="Name", qb=qb)] == ["Red Mug"]
    assert sorted(i.Name for i in Item.choose(["MUG-RED", "MUG-BLUE"], field="Sku", qb=qb)) == ["Blue Mug", "Red Mug"]
    assert Item.count("Name LIKE '%Mug'", qb=qb) == 2
    assert [i.Name for i in Item.where("Name LIKE '%Mug%'", order_by="Name DESC", start_position=1, max_results=1,
                                       qb=qb)] == ["Red Mug"]
