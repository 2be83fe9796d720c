"""The name lists the designer picks from (tax codes, payment methods, classes, departments): the sandbox answers
the source's own queries and change-data-capture calls for them with objects Intuit's XSD accepts, inactive ones
included when asked, as QuickBooks does."""

from __future__ import annotations

import pytest

from ledgerlink import protocol
from ledgerlink_qbo import QuickBooksOnlineSource
from qbo_helpers import REFERENCE, Live
from qbo_xsd import Schema

LISTS = {"tax_codes": "TaxCode", "payment_methods": "PaymentMethod", "classes": "Class", "departments": "Department"}


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema(REFERENCE / "xsd")


def test_each_list_query_and_cdc_answer_fits_the_schema(live: Live, schema: Schema):
    token = live.access_token()
    for entity in LISTS.values():
        body = live.api("GET", "query", token, params={
            "query": f"select * from {entity} where Metadata.LastUpdatedTime >= '2020-01-01T00:00:00+00:00' "
                     "and Active in (true, false) orderby Metadata.LastUpdatedTime startposition 1 "
                     "maxresults 1000"}).json()
        rows = body["QueryResponse"][entity]
        assert rows and all(r["Active"] is True and r["Name"] for r in rows), entity
        assert schema.problems(body) == [], entity
        cdc = live.api("GET", "cdc", token, params={"entities": entity,
                                                      "changedSince": "2020-01-01T00:00:00+00:00"}).json()
        assert schema.problems(cdc) == [], entity


def test_the_source_reads_the_lists_and_an_inactive_class_comes_through_flagged(live: Live):
    company = live.sandbox.company
    retail = company.id_named("Class", "Retail")
    with company._lock:  # QuickBooks makes a name inactive rather than deleting it
        company.entities["Class"][retail]["Active"] = False
    source = QuickBooksOnlineSource()
    catalog = protocol.ConfiguredCatalog.model_validate({"streams": [
        {"stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
         "sync_mode": "full_refresh", "destination_sync_mode": "append"} for n in LISTS]})
    seen: dict[str, dict[str, bool]] = {n: {} for n in LISTS}
    for message in source.read(live.config(), catalog, None):
        if message.type == protocol.MessageType.RECORD and message.record is not None:
            seen[message.record.stream][message.record.data["Name"]] = message.record.data["Active"]
    assert seen == {"tax_codes": {"TAX": True, "NON": True},
                    "payment_methods": {"Cash": True, "Check": True, "Visa": True, "MasterCard": True},
                    "classes": {"Online": True, "Retail": False}, "departments": {"East": True, "West": True}}
