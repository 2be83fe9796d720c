"""The sandbox's order-to-cash answers (invoice, payment, void, exchange rate, non-US tax codes) use only fields
Intuit's XSD defines, so the sandbox cannot drift into agreeing with our bugs."""

from __future__ import annotations

import pytest

from o2c_helpers import bc_order, open_dest, post
from qbo_helpers import REFERENCE, Live
from qbo_xsd import Schema


@pytest.fixture(scope="module")
def schema() -> Schema:
    if not (REFERENCE / "xsd").exists():
        pytest.skip("Intuit's XSDs are not in ../shared/reference")
    return Schema(REFERENCE / "xsd")


@pytest.mark.sandbox_options(multicurrency=True)
def test_invoice_payment_void_and_exchange_rate_answers_fit_the_schema(live: Live, schema: Schema):
    dest = open_dest(live)
    post(dest, bc_order("7001", currency="CAD"))
    post(dest, bc_order("7001", status="Awaiting Fulfillment", paid=True, currency="CAD"))
    post(dest, bc_order("7001", status="Cancelled", currency="CAD"))
    dest.close()
    token = live.access_token()
    bodies = {
        "invoices": live.api("GET", "query", token, params={"query": "select * from Invoice"}).json(),
        "payments": live.api("GET", "query", token, params={"query": "select * from Payment"}).json(),
        "rate": live.api("GET", "exchangerate", token, params={"sourcecurrencycode": "CAD",
                                                                "asofdate": "2025-06-02"}).json(),
    }
    assert bodies["invoices"]["QueryResponse"]["Invoice"][0]["PrivateNote"] == "Voided"
    assert bodies["rate"]["ExchangeRate"]["Rate"] == 0.73
    for name, body in bodies.items():
        assert schema.problems(body) == [], name


@pytest.mark.sandbox_options(country="CA", home_currency="CAD")
def test_a_non_us_companys_tax_codes_fit_the_schema(live: Live, schema: Schema):
    token = live.access_token()
    body = live.api("GET", "query", token, params={"query": "select * from TaxCode"}).json()
    assert {c["Name"] for c in body["QueryResponse"]["TaxCode"]} >= {"GST/HST ON", "Exempt"}
    assert schema.problems(body) == []
