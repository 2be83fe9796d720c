"""QBO faults from Intuit's real captured responses (JSON and XML) are read and classified correctly."""

from __future__ import annotations

import httpx
import pytest

from ledgerlink_qbo.faults import classify, describe, parse_fault, parse_fault_text
from qbo_helpers import REFERENCE

SAMPLES = REFERENCE / "samples"


def response(status: int, sample: str) -> httpx.Response:
    path = SAMPLES / sample
    kind = "application/xml" if path.suffix == ".xml" else "application/json"
    return httpx.Response(status, content=path.read_bytes(), headers={"content-type": kind},
                          request=httpx.Request("POST", "https://quickbooks.api.intuit.com/v3/company/1/customer"))


@pytest.mark.parametrize("sample,code,message,element", [
    ("quickbooks-ruby-xml/tax_service_error_dup.json", "6240", "Duplicate Name Exists Error", ""),
    ("exquickbooks-json/item_update_item_error.json", "5010", "Stale Object Error", ""),
    ("exquickbooks-json/sales_receipt_create_sales_receipt_error.json", "2020",
     "Required param missing, need to supply the required value for the API", "Line.DetailType"),
    ("exquickbooks-json/api_query_error.json", "4000", "Error parsing query", ""),
    ("exquickbooks-json/item_read_item_error.json", "610", "Object Not Found", ""),
    ("quickbooks-ruby-xml/customer_duplicate_error.xml", "6240", "Duplicate Name Exists Error", ""),
    ("quickbooks-ruby-xml/throttle_exceeded_error.xml", "3001", "message=ThrottleExceeded; errorCode=003001; "
                                                                "statusCode=403", ""),
    ("quickbooks-ruby-xml/generic_error.xml", "10000", "An application error has occurred while processing your "
                                                       "request", ""),
])
def test_captured_faults_parse_with_intuits_code_message_and_element(sample, code, message, element):
    fault = parse_fault_text((SAMPLES / sample).read_bytes())
    assert fault is not None
    assert (fault.code, fault.errors[0].message, fault.errors[0].element) == (code, message, element)


def test_a_bare_xml_fault_with_several_errors_keeps_them_all():
    fault = parse_fault_text((SAMPLES / "quickbooks-ruby-xml/fault.xml").read_text())
    assert fault is not None and fault.type == "ValidationFault"
    assert [(e.code, e.element) for e in fault.errors] == [("2050", "firstname"), ("2080", "postalcode")]
    assert "Length of the field exceeds 21 chars" in str(fault)


@pytest.mark.parametrize("status,sample,kind", [
    (429, "quickbooks-ruby-xml/too_many_requests_error.xml", "throttled"),
    (403, "quickbooks-ruby-xml/throttle_exceeded_error.xml", "throttled"),  # 3001 arrives with 403 too
    (500, "quickbooks-ruby-xml/generic_error.xml", "transient"),
    (400, "quickbooks-ruby-xml/generic_error.xml", "transient"),  # a SystemFault is Intuit's, not ours
    (400, "quickbooks-ruby-xml/customer_duplicate_error.xml", "permanent"),
    (400, "exquickbooks-json/item_update_item_error.json", "permanent"),
    (400, "exquickbooks-json/api_query_error.json", "permanent"),
    (400, "quickbooks-ruby-xml/query_validation_error.xml", "permanent"),
])
def test_classification_of_captured_responses(status, sample, kind):
    assert classify(response(status, sample)) == kind


def test_describe_gives_the_code_and_intuits_words_for_the_dead_letter():
    code, text = describe(response(400, "exquickbooks-json/sales_receipt_create_sales_receipt_error.json"))
    assert code == "2020"
    assert text == ("Required param missing, need to supply the required value for the API: Required "
                    "parameter Line.DetailType is missing in the request (element Line.DetailType)")


def test_lower_case_authentication_faults_are_read_too():
    body = b'{"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401",' \
           b'"detail":"Token expired","code":"3200"}],"type":"AUTHENTICATION"}}'
    fault = parse_fault(httpx.Response(401, content=body))
    assert fault is not None and fault.code == "3200" and fault.type == "AUTHENTICATION"


def test_hostile_xml_is_not_expanded():
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            '<Fault type="x"><Error code="1"><Message>&lol2;</Message></Error></Fault>')
    assert parse_fault_text(bomb) is None
    assert classify(httpx.Response(400, content=bomb.encode())) == "permanent"


def test_bodies_that_are_not_faults():
    assert parse_fault_text("<html>Service Unavailable</html>") is None
    assert parse_fault_text("not json") is None
    assert classify(httpx.Response(503, content=b"<html>busy</html>")) == "transient"
    assert classify(httpx.Response(200, content=b"{}")) == "ok"
