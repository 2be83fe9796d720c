"""The Web Connector SOAP service: Intuit's element names, the WSDL, bad input and security."""

from __future__ import annotations

import logging

import httpx
import pytest

from ledgerlink.sandbox import running_app

from ledgerlink_qb_desktop.bridge import Company, WebConnectorBridge
from ledgerlink_qb_desktop.passwords import hash_password, verify_password
from ledgerlink_qb_desktop.soap import NS, OPERATIONS, envelope, qbwc_app

from sandbox_helpers import AwaitingQueue, ReferenceBook  # noqa: E402
from test_qbd_bridge import _customer  # noqa: E402  (same folder)

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XS = "http://www.w3.org/2001/XMLSchema"


@pytest.fixture
def client():
    company = Company(username="qb", password_hash=hash_password("pw-123", iterations=1000), owner_id="{0}",
                      file_id="{F}", awaiting=AwaitingQueue([_customer("A")]), references=ReferenceBook())
    with running_app(qbwc_app(WebConnectorBridge([company]), max_request_bytes=50_000)) as url, \
            httpx.Client(base_url=url) as http:
        yield http


def _call(client, operation, values):
    return client.post("/", content=envelope(operation, values),
                       headers={"Content-Type": "text/xml", "SOAPAction": f'"{NS}{operation}"'})


def _intuit_wsdl(reference_dir):
    from lxml import etree

    return etree.parse(str(reference_dir / "qbxml" / "qbwc" / "QBWebConnectorSvc.intuit-TroubleshootWebServiceFS.wsdl"))


def _elements(tree):
    """element name → child element names (in order) of the WSDL's schema."""
    out = {}
    for el in tree.getroot().iter(f"{{{XS}}}element"):
        if el.getparent().tag == f"{{{XS}}}schema":
            out[el.get("name")] = [c.get("name") for c in el.iter(f"{{{XS}}}element") if c is not el]
    return out


def test_our_wsdl_has_intuits_operations_namespace_and_element_names(client, reference_dir):
    etree = pytest.importorskip("lxml.etree")
    ours = etree.fromstring(client.get("/?wsdl").content)
    theirs = _intuit_wsdl(reference_dir)
    assert ours.get("targetNamespace") == theirs.getroot().get("targetNamespace") == NS
    assert _elements(etree.ElementTree(ours)) == _elements(theirs)
    ops = lambda root: sorted({o.get("name") for o in root.iter(f"{{{WSDL_NS}}}operation")})  # noqa: E731
    assert ops(ours) == ops(theirs.getroot()) == sorted(OPERATIONS)
    actions = {o.get("soapAction") for o in ours.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")}
    assert actions == {f"{NS}{op}" for op in OPERATIONS}


def test_a_whole_session_speaks_the_wsdls_element_names(client):
    from defusedxml import ElementTree as ET

    assert "ledgerlink" in ET.fromstring(_call(client, "serverVersion", {}).content).find(
        f".//{{{NS}}}serverVersionResponse/{{{NS}}}serverVersionResult").text
    auth = ET.fromstring(_call(client, "authenticate", {"strUserName": "qb", "strPassword": "pw-123"}).content)
    strings = auth.findall(f".//{{{NS}}}authenticateResponse/{{{NS}}}authenticateResult/{{{NS}}}string")
    assert len(strings) == 2 and strings[1].text is None  # "" = use the open company file
    ticket = strings[0].text
    sent = ET.fromstring(_call(client, "sendRequestXML", {"ticket": ticket, "strHCPResponse": "", "strCompanyFileName":
                                                           "", "qbXMLCountry": "US", "qbXMLMajorVers": 16,
                                                           "qbXMLMinorVers": 0}).content)
    qbxml = sent.find(f".//{{{NS}}}sendRequestXMLResult").text
    assert qbxml.startswith("<?xml") and "<CustomerAddRq" in qbxml
    got = ET.fromstring(_call(client, "receiveResponseXML", {"ticket": ticket, "response": "<QBXML",
                                                              "hresult": "", "message": ""}).content)
    assert got.find(f".//{{{NS}}}receiveResponseXMLResult").text == "-1"
    error = ET.fromstring(_call(client, "getLastError", {"ticket": ticket}).content)
    assert "could not be read" in error.find(f".//{{{NS}}}getLastErrorResult").text
    closing = ET.fromstring(_call(client, "closeConnection", {"ticket": ticket}).content)
    assert closing.find(f".//{{{NS}}}closeConnectionResult").text.startswith("ledgerlink")


def test_raw_qbxml_inside_the_response_element_is_accepted(client):
    ticket = _call(client, "authenticate", {"strUserName": "qb", "strPassword": "pw-123"}).text.split("<string>")[1][:36]
    _call(client, "sendRequestXML", {"ticket": ticket, "qbXMLMajorVers": 16, "qbXMLMinorVers": 0})
    raw = (f'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
           f'<receiveResponseXML xmlns="{NS}"><ticket>{ticket}</ticket><response><QBXML><QBXMLMsgsRs>'
           '<CustomerAddRs requestID="1" statusCode="0" statusSeverity="Info"><CustomerRet><ListID>8-1</ListID>'
           '<EditSequence>1</EditSequence><Name>A</Name></CustomerRet></CustomerAddRs></QBXMLMsgsRs></QBXML>'
           "</response><hresult/><message/></receiveResponseXML></soap:Body></soap:Envelope>")
    answer = client.post("/", content=raw, headers={"Content-Type": "text/xml"})
    assert "<receiveResponseXMLResult>100</receiveResponseXMLResult>" in answer.text


@pytest.mark.parametrize("body,expected", [
    (b"not xml at all", "malformed XML"),
    (b"<a><b></a>", "malformed XML"),
    (b'<?xml version="1.0"?><Envelope/>', "not a SOAP 1.1 envelope"),
    (envelope("deleteEverything", {}).encode(), "unknown operation"),
    (envelope("sendRequestXML", {"ticket": "t", "qbXMLMajorVers": "sixteen"}).encode(), "must be an integer"),
])
def test_malformed_soap_gets_a_fault_and_a_log_line(client, body, expected, caplog):
    with caplog.at_level(logging.WARNING, "ledgerlink.qb_desktop"):
        answer = client.post("/", content=body, headers={"Content-Type": "text/xml"})
    assert answer.status_code == 400 and "<faultcode>soap:Client</faultcode>" in answer.text
    assert expected in answer.text and any("bad SOAP request" in r.message for r in caplog.records)


@pytest.mark.parametrize("attack", [
    '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x "boom"><!ENTITY y "&x;&x;&x;&x;&x;&x;&x;&x;">]>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    '<getLastError xmlns="http://developer.intuit.com/"><ticket>&y;</ticket></getLastError></soap:Body></soap:Envelope>',
    '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    '<getLastError xmlns="http://developer.intuit.com/"><ticket>&x;</ticket></getLastError></soap:Body></soap:Envelope>',
])
def test_entities_and_dtds_are_refused(client, attack):
    answer = client.post("/", content=attack.encode(), headers={"Content-Type": "text/xml"})
    assert answer.status_code == 400 and "refused" in answer.text
    assert "boom" not in answer.text and "root:" not in answer.text


def test_entities_inside_a_qbxml_response_are_refused(client, caplog):
    ticket = _call(client, "authenticate", {"strUserName": "qb", "strPassword": "pw-123"}).text.split("<string>")[1][:36]
    _call(client, "sendRequestXML", {"ticket": ticket, "qbXMLMajorVers": 16, "qbXMLMinorVers": 0})
    bomb = '<!DOCTYPE q [<!ENTITY a "x">]><QBXML><QBXMLMsgsRs/></QBXML>'
    answer = _call(client, "receiveResponseXML", {"ticket": ticket, "response": bomb, "hresult": "", "message": ""})
    assert "<receiveResponseXMLResult>-1</receiveResponseXMLResult>" in answer.text


def test_request_size_is_bounded(client):
    big = envelope("getLastError", {"ticket": "x" * 60_000}).encode()
    assert client.post("/", content=big, headers={"Content-Type": "text/xml"}).status_code == 413


def test_an_unknown_ticket_gets_sane_answers(client):
    assert "<sendRequestXMLResult></sendRequestXMLResult>" in _call(
        client, "sendRequestXML", {"ticket": "nope", "qbXMLMajorVers": 16, "qbXMLMinorVers": 0}).text
    assert "<receiveResponseXMLResult>-1</receiveResponseXMLResult>" in _call(
        client, "receiveResponseXML", {"ticket": "nope", "response": "<QBXML/>"}).text
    assert "unknown or expired" in _call(client, "getLastError", {"ticket": "nope"}).text
    assert "<connectionErrorResult>done</connectionErrorResult>" in _call(
        client, "connectionError", {"ticket": "nope", "hresult": "0x80040408", "message": "x"}).text


def test_passwords_are_stored_hashed_and_compared_safely():
    stored = hash_password("correct horse")
    assert "correct horse" not in stored and stored.startswith("pbkdf2_sha256$")
    assert verify_password("correct horse", stored) and not verify_password("Correct horse", stored)
    assert not verify_password("", stored) and not verify_password("x", "plain-text")
