"""The sandbox cannot drift into agreeing with our bugs: its JSON is checked against Intuit's XSD and the
shapes of responses captured from the real service."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from qbo_helpers import REFERENCE, Credentials, Live, PlanCtx, as_outbox, fast_destination, make_order, write_all
from qbo_xsd import Schema

SAMPLES = REFERENCE / "samples" / "exquickbooks-json"


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema(REFERENCE / "xsd")


def posted(live: Live) -> dict[str, str]:
    """Post one order through the destination; the Ids of what it wrote, by stream."""
    dest = fast_destination()
    dest.open(dest.parse_config(live.config()), Credentials().context())
    records = as_outbox(dest.plan(make_order(), PlanCtx()))
    results = write_all(dest, records)
    return {r.stream: results[r.key].destination_id or "" for r in records}


def test_the_oracle_accepts_intuits_own_captured_json_and_rejects_an_invented_field(schema: Schema):
    for path in sorted(SAMPLES.glob("*.json")):
        assert schema.problems(json.loads(path.read_text())) == [], path.name
    assert schema.problems({"SalesReceipt": {"TotalAmount": 1, "Line": [{"Amout": 1}]}}) == [
        "SalesReceipt.TotalAmount (not on SalesReceipt)", "SalesReceipt.Line.Amout (not on Line)"]


def test_sandbox_entities_queries_and_settings_use_only_schema_fields(live: Live, schema: Schema):
    ids = posted(live)
    token = live.access_token()
    bodies = {
        "Customer": live.api("GET", f"customer/{ids['Customer']}", token).json(),
        "Item": live.api("GET", f"item/{ids['Item']}", token).json(),
        "SalesReceipt": live.api("GET", f"salesreceipt/{ids['SalesReceipt']}", token).json(),
        "query Account": live.api("GET", "query", token, params={"query": "select * from Account"}).json(),
        "query Vendor": live.api("GET", "query", token, params={"query": "select * from Vendor"}).json(),
        "query Employee": live.api("GET", "query", token, params={"query": "select * from Employee"}).json(),
        "count": live.api("GET", "query", token, params={"query": "select count(*) from Item"}).json(),
        "CompanyInfo": live.api("GET", f"companyinfo/{live.realm}", token).json(),
        "Preferences": live.api("GET", "preferences", token).json(),
    }
    for name, body in bodies.items():
        assert schema.problems(body) == [], name


def test_sandbox_faults_use_only_schema_fields(live: Live, schema: Schema):
    token = live.access_token()
    faults = [
        live.api("POST", "customer", token, json={"DisplayName": "Books by Bessie"}),  # 6240
        live.api("POST", "salesreceipt", token, json={"DocNumber": "1"}),  # 2020
        live.api("GET", "query", token, params={"query": "select * from"}),  # 4000
        live.api("GET", "item/99999", token),  # 610
    ]
    for response in faults:
        assert response.status_code == 400
        assert schema.problems(response.json()) == [], response.text


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    return type(value).__name__


def _same_shape(ours: dict[str, Any], theirs: dict[str, Any], path: str = "") -> list[str]:
    """Fields both have must have the same JSON kind (number, string, object…), recursively."""
    out = []
    for key in ours.keys() & theirs.keys():
        a, b = ours[key], theirs[key]
        if _kind(a) != _kind(b):
            out.append(f"{path}{key}: {_kind(a)} vs {_kind(b)}")
        elif isinstance(a, dict):
            out.extend(_same_shape(a, b, f"{path}{key}."))
        elif isinstance(a, list) and a and b and isinstance(a[0], dict) and isinstance(b[0], dict):
            out.extend(_same_shape(a[0], b[0], f"{path}{key}[0]."))
    return out


@pytest.mark.parametrize("entity,sample", [("SalesReceipt", "sales_receipt_create_sales_receipt.json"),
                                           ("Item", "item_create_item.json")])
def test_sandbox_entities_have_the_shape_of_captured_ones(live: Live, entity: str, sample: str):
    ids = posted(live)
    theirs = json.loads((SAMPLES / sample).read_text())[entity]
    ours = live.api("GET", f"{entity.lower()}/{ids[entity]}").json()[entity]
    # what QBO always returns on these objects (data-dependent fields aside)
    always = {"domain", "sparse", "Id", "SyncToken", "MetaData"} | (
        {"TxnDate", "TotalAmt", "Line", "CurrencyRef", "Balance", "DepositToAccountRef", "DocNumber",
         "ApplyTaxAfterDiscount", "PrintStatus", "EmailStatus", "CustomField"} if entity == "SalesReceipt" else
        {"Name", "Active", "FullyQualifiedName", "Taxable", "UnitPrice", "Type", "IncomeAccountRef", "PurchaseCost",
         "TrackQtyOnHand"})
    assert always <= theirs.keys() and always <= ours.keys()
    assert _same_shape(ours, theirs) == []
    assert ours["MetaData"].keys() == theirs["MetaData"].keys()
    if entity == "SalesReceipt":  # QBO adds a subtotal line after the item lines
        assert [ln["DetailType"] for ln in ours["Line"]][-2:] == ["SubTotalLineDetail", "DiscountLineDetail"]


def test_the_token_response_has_intuits_shape(live: Live):
    theirs = json.loads((REFERENCE / "samples" / "oauth2-dotnet-sdk" / "success_token_response.json").read_text())
    o = live.sandbox.options
    ours = live.http.post("/oauth2/v1/tokens/bearer", auth=(o.client_id, o.client_secret),
                          data={"grant_type": "refresh_token", "refresh_token": o.refresh_token}).json()
    # id_token comes only with the OpenID scopes, which an accounting app does not request
    assert ours.keys() == theirs.keys() - {"id_token"}
    assert _same_shape(ours, theirs) == []


def test_batch_cdc_and_every_document_type_use_only_schema_fields(live: Live, schema: Schema):
    """A batch mixing a Fault with successes (as in Intuit's captured batch_response.xml), a CDC answer with a
    deletion, and each document type the sandbox writes."""
    from test_qbo_documents import invoice, journal, open_destination, payment, write

    records = [invoice(1), payment(1, "INV-1", "40.00"), journal(1, "3.00", "3.00")]
    results = write(open_destination(live), records)
    assert all(r.ok for r in results.values())
    token = live.access_token()
    item = live.sandbox.company.id_named("Item", "Services")
    line = {"Amount": 5, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": item}}}
    batch = live.api("POST", "batch", token, json={"BatchItemRequest": [
        {"bId": "1a", "operation": "create", "SalesReceipt": {"DocNumber": "X" * 22, "Line": [line]}},
        {"bId": "2b", "operation": "create", "SalesReceipt": {"DocNumber": "B-1", "Line": [line]}},
        {"bId": "3c", "Query": "select * from Item where Name = 'Services'"}]}).json()
    assert [sorted(k for k in a if k != "bId") for a in batch["BatchItemResponse"]] == [
        ["Fault"], ["SalesReceipt"], ["QueryResponse"]]
    created = batch["BatchItemResponse"][1]["SalesReceipt"]
    live.api("POST", "salesreceipt", token, json={"Id": created["Id"], "SyncToken": "0"},
             params={"operation": "delete"})
    cdc = live.api("GET", "cdc", token, params={"entities": "Customer,SalesReceipt,Invoice,Payment,JournalEntry",
                                                "changedSince": "2020-01-01T00:00:00-08:00"})
    assert cdc.status_code == 400  # more than 30 days back
    since = live.sandbox.company.entities["Invoice"][results[records[0].key].destination_id]["MetaData"]["CreateTime"]
    cdc = live.api("GET", "cdc", token, params={"entities": "SalesReceipt,Invoice,Payment,JournalEntry",
                                                "changedSince": since}).json()
    answers = cdc["CDCResponse"][0]["QueryResponse"]
    assert answers[0]["SalesReceipt"] == [{"domain": "QBO", "status": "Deleted", "Id": created["Id"],
                                          "MetaData": answers[0]["SalesReceipt"][0]["MetaData"]}]
    assert [len(a.get(e, [])) for a, e in zip(answers[1:], ("Invoice", "Payment", "JournalEntry"))] == [1, 1, 1]
    bodies = {"batch": batch, "cdc": cdc}
    for stream, result in results.items():
        entity = stream.split(":")[0]
        bodies[entity] = live.api("GET", f"{entity.lower()}/{result.destination_id}", token).json()
    for name in ("Class", "Department", "TaxCode", "PaymentMethod"):
        bodies[name] = live.api("GET", "query", token, params={"query": f"select * from {name}"}).json()
    for name, body in bodies.items():
        assert schema.problems(body) == [], name


def test_the_captured_batch_response_maps_each_item_to_its_own_result():
    """Intuit's captured batch answer (XML, a Fault among successes) read as the destination reads JSON."""
    import xml.etree.ElementTree as ET

    from ledgerlink import OutboundRecord
    from ledgerlink_qbo.destination import _item_error

    ns = "{http://schema.intuit.com/finance/v3}"
    root = ET.parse(REFERENCE / "samples" / "quickbooks-ruby-xml" / "batch_response.xml").getroot()
    answers = {}
    for item in root.findall(f"{ns}BatchItemResponse"):
        child = item[0]
        name = child.tag[len(ns):]
        if name == "Fault":
            answers[item.get("bId")] = {"Fault": {"type": child.get("type"), "Error": [
                {"code": e.get("code"), "element": e.get("element"), "Message": e.findtext(f"{ns}Message"),
                 "Detail": e.findtext(f"{ns}Detail")} for e in child]}}
        else:
            answers[item.get("bId")] = {name: {"Id": child.findtext(f"{ns}Id")}}
    error = _item_error(answers["1a"], OutboundRecord(key="Customer:x", stream="Customer", data={}))
    assert error.kind == "permanent" and error.code == "2050"
    assert "Length of the field exceeds 21 chars" in str(error) and "ZipCode" in str(error)
    assert answers["6f"]["SalesReceipt"]["Id"] == "19891"


def _captured(name: str, entity: str) -> dict[str, Any]:
    """The top-level element names (and line shapes) of one of Intuit's captured XML objects."""
    import xml.etree.ElementTree as ET

    def local(el: ET.Element) -> str:  # some captures carry Intuit's namespace, some none
        return el.tag.split("}")[-1]

    root = ET.parse(REFERENCE / "samples" / "quickbooks-ruby-xml" / name).getroot()
    obj = next(el for el in root.iter() if local(el) == entity)
    return {"fields": {local(child) for child in obj},
            "lines": [{local(child) for child in line} for line in obj if local(line) == "Line"]}


def test_credit_memos_refund_receipts_deposits_and_adjustments_fit_the_schema_and_the_captured_ones(
        live: Live, schema: Schema):
    """Names and types of every field the sandbox answers for these four, read back, queried and through CDC;
    and what Intuit's captured objects always carry, ours carry too."""
    from test_qbo_documents import open_destination, receipt, rec, write

    line = {"Amount": "7.50", "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"name": "Services"}, "Qty": "3", "UnitPrice": "2.50",
                                    "TaxCodeRef": {"value": "NON"}}}
    records = [
        receipt(1),
        rec("CreditMemo", "c1", {"DocNumber": "CM-1", "TxnDate": "2025-04-03", "CustomerRef": {"name": "Cool Cars"},
                                 "Line": [line]}),
        rec("RefundReceipt", "f1", {"DocNumber": "RF-1", "TxnDate": "2025-04-03", "CustomerRef": {"name": "Cool Cars"},
                                    "DepositToAccountRef": {"name": "Checking"}, "PaymentMethodRef": {"name": "Visa"},
                                    "TxnTaxDetail": {"TotalTax": "0.60"}, "Line": [line]}),
        rec("Deposit", "d1", {"TxnDate": "2025-04-04", "DepositToAccountRef": {"name": "Checking"}, "Line": [
            {"Amount": "20.00", "LinkedTxn": [{"TxnType": "SalesReceipt", "DocNumber": "R-1"}]},
            {"Amount": "-2.90", "DetailType": "DepositLineDetail", "DepositLineDetail": {
                "AccountRef": {"name": "Merchant Fees"}, "PaymentMethodRef": {"name": "Cash"},
                "Entity": {"name": "Books by Bessie", "type": "VENDOR"}}}]}),
        rec("InventoryAdjustment", "a1", {"DocNumber": "ADJ-1", "TxnDate": "2025-04-05",
                                          "AdjustAccountRef": {"name": "Inventory Shrinkage"},
                                          "Line": [{"DetailType": "ItemAdjustmentLineDetail",
                                                    "ItemAdjustmentLineDetail": {"ItemRef": {"name": "Sprinkler Heads"},
                                                                                 "QtyDiff": "-2"}}]}),
    ]
    results = write(open_destination(live), records)
    assert all(r.ok for r in results.values()), [str(r.error) for r in results.values() if not r.ok]
    token = live.access_token()
    entities = ("CreditMemo", "RefundReceipt", "Deposit", "InventoryAdjustment")
    read = {}
    for record in records[1:]:
        entity = record.stream
        read[entity] = live.api("GET", f"{entity.lower()}/{results[record.key].destination_id}", token).json()
    bodies: dict[str, Any] = {f"read {k}": v for k, v in read.items()}
    for entity in entities:
        bodies[f"query {entity}"] = live.api("GET", "query", token,
                                             params={"query": f"select * from {entity}"}).json()
    since = min(doc[e]["MetaData"]["CreateTime"] for e, doc in read.items())
    bodies["cdc"] = live.api("GET", "cdc", token, params={"entities": ",".join(entities), "changedSince": since}).json()
    assert [len(a) for a in bodies["cdc"]["CDCResponse"][0]["QueryResponse"]] == [3, 3, 3, 3]  # rows, paging keys
    for name, body in bodies.items():
        assert schema.problems(body) == [], name

    memo, refund, deposit = read["CreditMemo"]["CreditMemo"], read["RefundReceipt"]["RefundReceipt"], read[
        "Deposit"]["Deposit"]
    always = {"Id", "SyncToken", "MetaData", "TxnDate", "CurrencyRef", "Line", "TotalAmt"}
    for ours, (sample, entity, extra) in (
            (memo, ("fetch_credit_memo.xml", "CreditMemo",
                    {"DocNumber", "CustomerRef", "PrintStatus", "EmailStatus", "Balance", "RemainingCredit"})),
            (refund, ("refund_receipt.xml", "RefundReceipt",
                      {"DocNumber", "CustomerRef", "TxnTaxDetail", "ApplyTaxAfterDiscount", "PrintStatus", "Balance",
                       "PaymentMethodRef", "DepositToAccountRef", "PrivateNote"})),
            (deposit, ("deposit.xml", "Deposit", {"PrivateNote", "DepositToAccountRef"}))):
        theirs = _captured(sample, entity)
        assert always | extra <= theirs["fields"] and always | extra <= ours.keys(), entity
    assert Decimal(str(memo["RemainingCredit"])) == Decimal(str(memo["TotalAmt"])) == Decimal("7.50")
    assert [ln["DetailType"] for ln in memo["Line"]] == ["SalesItemLineDetail", "SubTotalLineDetail"]
    assert memo["Line"][0]["SalesItemLineDetail"]["UnitPrice"] == Decimal("2.50")
    assert Decimal(str(refund["TotalAmt"])) == Decimal("8.10")
    # a deposited transaction's line is Amount + LinkedTxn only; a detail line names its payee as a reference
    theirs = _captured("deposit.xml", "Deposit")["lines"]
    assert set(deposit["Line"][0]) == theirs[0] == {"Amount", "LinkedTxn"}
    assert deposit["Line"][0]["LinkedTxn"][0] == {"TxnId": results[records[0].key].destination_id,
                                                  "TxnType": "SalesReceipt", "TxnLineId": "0"}
    assert set(deposit["Line"][1]) == theirs[1]
    bessie = live.sandbox.company.id_named("Vendor", "Books by Bessie")
    assert deposit["Line"][1]["DepositLineDetail"]["Entity"] == {"value": bessie, "name": "Books by Bessie",
                                                                 "type": "VENDOR"}
    assert Decimal(str(deposit["TotalAmt"])) == Decimal("17.10")
