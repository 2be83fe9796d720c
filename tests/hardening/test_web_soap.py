"""Bad-input corpus for the QuickBooks Web Connector SOAP service over a real loopback server: malformed XML,
deep nesting in every part, entity bombs, wrong operations and namespaces, huge parts and ill-typed integers, and
hostile qbXML responses relayed by the Web Connector. Each is a SOAP fault with HTTP 400 (or 413) saying what is
wrong, never a 500; nothing in the queue changes; and a clean sign-in right after still works (for qbXML: the same
session goes on)."""

from __future__ import annotations

import re

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink import OutboundRecord
from ledgerlink.sandbox import running_app
from ledgerlink_qb_desktop.bridge import Company, WebConnectorBridge
from ledgerlink_qb_desktop.logins import ThrottlePolicy
from ledgerlink_qb_desktop.passwords import hash_password
from ledgerlink_qb_desktop.qbxml import MAX_RESPONSE_DEPTH
from ledgerlink_qb_desktop.soap import MAX_DEPTH, NS, OPERATIONS, PART_LIMITS, SOAP_NS, envelope

MAX_BYTES = 2_000_000
#: the corpus is about parsing: a policy that never throttles, so refused sign-ins do not lock the test's address
LENIENT = ThrottlePolicy(free_failures=10_000, lockout_failures=10_000)


class Queue:
    def __init__(self, records):
        self.records = {r.key: r for r in records}
        self.confirmed, self.failed = {}, {}

    def list(self, stream=None, limit=100):
        return list(self.records.values())[:limit]

    def confirm(self, key, destination_id, version=None, created=True):
        self.records.pop(key)
        self.confirmed[key] = destination_id

    def fail(self, key, error, *, retry=False):
        self.records.pop(key)
        self.failed[key] = error

    def count(self):
        return len(self.records)


class Refs(dict):
    def get(self, kind, name):
        return super().get((kind, name))

    def put(self, kind, name, ref_id, version=None):
        self[(kind, name)] = ref_id


@pytest.fixture(scope="module")
def service():
    queue = Queue([OutboundRecord(key=f"Customer:C{i}", stream="Customer",
                                  data={"CustomerAdd": {"Name": f"C{i}"}}) for i in range(3)])
    company = Company(username="qb", password_hash=hash_password("pw-123", iterations=1000), owner_id="{0}",
                      file_id="{F}", awaiting=queue, references=Refs())
    bridge = WebConnectorBridge([company], login_policy=LENIENT)
    with running_app(bridge_app(bridge)) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http, queue, company.references


def bridge_app(bridge):
    from ledgerlink_qb_desktop.soap import qbwc_app

    return qbwc_app(bridge, max_request_bytes=MAX_BYTES)


def post(http, body: bytes | str):
    return http.post("/", content=body.encode() if isinstance(body, str) else body,
                     headers={"Content-Type": "text/xml; charset=utf-8"})


def call(http, operation, values):
    return post(http, envelope(operation, values))


def result(answer, operation) -> str:
    found = re.search(rf"<{operation}Result>(.*?)</{operation}Result>", answer.text, re.S)
    return found.group(1) if found else ""


def sign_in(http) -> str:
    answer = call(http, "authenticate", {"strUserName": "qb", "strPassword": "pw-123"})
    assert answer.status_code == 200
    ticket, status = re.findall(r"<string>(.*?)</string>", answer.text) + [""] * (2 - answer.text.count("<string>"))
    assert status != "nvu"
    return ticket


def state(queue, refs):
    return dict(queue.records), dict(queue.confirmed), dict(queue.failed), dict(refs)


def assert_fault_then_clean_works(answer, queue, refs, *, says="", status=400):
    assert state(queue, refs) == answer._state_before  # the refused request changed nothing
    assert answer.status_code == status, (answer.status_code, answer.text[:400])
    assert "<faultcode>soap:Client</faultcode>" in answer.text and says in answer.text, answer.text[:400]
    assert len(answer.text) < 3_000  # the fault never echoes a huge input
    http = answer._test_http
    ticket = sign_in(http)
    assert "written" in result(call(http, "closeConnection", {"ticket": ticket}), "closeConnection")


def send(service, body):
    http, queue, refs = service
    before = state(queue, refs)
    answer = post(http, body)
    answer._test_http, answer._state_before = http, before
    return answer, queue, refs


def soap(inner: str) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body>{inner}'
            "</soap:Body></soap:Envelope>")


# ------------------------------------------------------------------------------------------ malformed XML

MALFORMED = ["", "   ", "<", "not xml at all", "<a><b></a>", f'<soap:Envelope xmlns:soap="{SOAP_NS}">',
             "<a b=1/>", '<?xml version="1.0" encoding="utf-8"?>\x00<a/>', "<a/><b/>", soap("<x") + ">",
             b'<?xml version="1.0" encoding="utf-8"?><a>\xff\xfe</a>', b"\xef\xbb\xbf\xff", "<a>&undefined;</a>",
             "<a>&#0;</a>", "<a>&#xD800;</a>", "<!-- only a comment -->", "<?pi only?>", "<1a/>",
             soap(f'<authenticate xmlns="{NS}"><strUserName>qb</strUserName>'),
             *[f'<?xml version="1.0" encoding="{e}"?><a/>' for e in ("klingon", "rot13", "base64", "utf-32",
                                                                     "undefined", "idna", "zlib", "mbcs")]]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_xml_is_a_fault(service, body):
    assert_fault_then_clean_works(*send(service, body), says="refused")


# ------------------------------------------------------------------------------------------ deep nesting

def _deep(depth: int) -> str:
    return "<x>" * depth + "v" + "</x>" * depth


PARTS = [(op, part) for op, (parts, _) in OPERATIONS.items() for part, xsd in parts if xsd == "string"]


@pytest.mark.parametrize("depth", [MAX_DEPTH, 1_000, 100_000])
@pytest.mark.parametrize("op,part", PARTS, ids=[f"{o}.{p}" for o, p in PARTS])
def test_deep_nesting_in_any_part_is_a_fault_before_any_sign_in(service, op, part, depth):
    body = soap(f'<{op} xmlns="{NS}"><{part}>{_deep(depth)}</{part}></{op}>')
    assert_fault_then_clean_works(*send(service, body), says="deeper than")


@pytest.mark.parametrize("where", ["envelope", "body", "header"])
def test_deep_nesting_around_the_call_is_a_fault(service, where):
    deep = _deep(5_000)
    body = {"envelope": f'<soap:Envelope xmlns:soap="{SOAP_NS}">{deep}</soap:Envelope>',
            "body": soap(deep),
            "header": f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Header>{deep}</soap:Header></soap:Envelope>'}[where]
    assert_fault_then_clean_works(*send(service, body), says="deeper than")


def test_nesting_just_within_the_limit_is_read(service):
    http, queue, _ = service
    inner = _deep(MAX_DEPTH - 4)  # Envelope › Body › call › part › …
    answer = post(http, soap(f'<getLastError xmlns="{NS}"><ticket>{inner}</ticket></getLastError>'))
    assert answer.status_code in (200, 400) and "deeper than" not in answer.text


# ------------------------------------------------------------------------------------------ entities and DTDs

BOMBS = [
    '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>' + soap(
        f'<getLastError xmlns="{NS}"><ticket>&d;</ticket></getLastError>'),
    '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY big "' + "B" * 50_000 + '">]>' + soap(
        f'<getLastError xmlns="{NS}"><ticket>' + "&big;" * 30 + "</ticket></getLastError>"),
    '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + soap(
        f'<getLastError xmlns="{NS}"><ticket>&x;</ticket></getLastError>'),
    '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>' + soap(""),
    '<?xml version="1.0"?><!DOCTYPE e SYSTEM "http://127.0.0.1:9/evil.dtd">' + soap(""),
    '<?xml version="1.0"?><!DOCTYPE e [<!ELEMENT e ANY>]>' + soap(""),
    '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x "ok">]><e>&x;</e>',
]


@pytest.mark.parametrize("body", BOMBS, ids=range(len(BOMBS)))
def test_entities_and_dtds_are_refused(service, body):
    answer, queue, refs = send(service, body)
    assert "root:" not in answer.text and "aaaaaaaaaa" not in answer.text
    assert_fault_then_clean_works(answer, queue, refs, says="DTDs and entities are not accepted")


# ------------------------------------------------------------------------------------------ wrong calls

WRONG_CALLS = [
    (soap(f'<deleteEverything xmlns="{NS}"/>'), "unknown operation"),
    (soap('<authenticate xmlns="http://example.com/"/>'), "unknown operation"),
    (soap("<authenticate/>"), "unknown operation"),
    (soap(f'<AUTHENTICATE xmlns="{NS}"/>'), "unknown operation"),
    (soap(f'<authenticateResponse xmlns="{NS}"/>'), "unknown operation"),
    (soap(""), "without a Body"),
    (f'<soap:Envelope xmlns:soap="{SOAP_NS}"/>', "without a Body"),
    (f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Header/></soap:Envelope>', "without a Body"),
    ('<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/></soap:Envelope>',
     "not a SOAP 1.1 envelope"),
    ("<Envelope><Body/></Envelope>", "not a SOAP 1.1 envelope"),
    (f'<QBXML xmlns="{NS}"/>', "not a SOAP 1.1 envelope"),
]


@pytest.mark.parametrize("body,says", WRONG_CALLS, ids=range(len(WRONG_CALLS)))
def test_wrong_operations_and_envelopes_are_faults(service, body, says):
    assert_fault_then_clean_works(*send(service, body), says=says)


INT_PARTS = [(op, part) for op, (parts, _) in OPERATIONS.items() for part, xsd in parts if xsd == "int"]


@pytest.mark.parametrize("value", ["sixteen", "1e3", "\u00b2", "\u0661\u0666", "9999999999", "", " ", "-", "0x10",
                                   "16.0", "1" * 5000])
@pytest.mark.parametrize("op,part", INT_PARTS)
def test_integers_that_are_not_are_faults(service, op, part, value):
    body = soap(f'<{op} xmlns="{NS}"><ticket>t</ticket><{part}>{value}</{part}></{op}>')
    assert_fault_then_clean_works(*send(service, body), says="must be an integer")


@pytest.mark.parametrize("part,limit", sorted(PART_LIMITS.items()))
def test_a_part_over_its_length_is_a_fault_naming_it(service, part, limit):
    op = next(o for o, (parts, _) in OPERATIONS.items() if part in dict(parts))
    answer = send(service, envelope(op, {part: "p" * (limit + 1)}))
    assert_fault_then_clean_works(*answer, says=f"{op}.{part} is {limit + 1:,} characters")


def test_a_request_over_the_size_limit_is_a_413(service):
    big = envelope("receiveResponseXML", {"ticket": "t", "response": "r" * (MAX_BYTES + 1)})
    assert_fault_then_clean_works(*send(service, big), says="limit", status=413)


@pytest.mark.parametrize("values", [{}, {"strUserName": "qb"}, {"strPassword": "pw-123"}])
def test_a_sign_in_with_parts_missing_is_refused_and_opens_no_session(service, values):
    http, queue, _ = service
    answer = call(http, "authenticate", values)
    assert answer.status_code == 200 and "<string>nvu</string>" in answer.text
    ticket = re.search(r"<string>(.*?)</string>", answer.text).group(1)
    assert result(call(http, "sendRequestXML", {"ticket": ticket, "qbXMLMajorVers": 16, "qbXMLMinorVers": 0}),
                  "sendRequestXML") == ""
    assert "not valid" in result(call(http, "getLastError", {"ticket": ticket}), "getLastError")
    assert len(queue.records) == 3 and sign_in(http)


@pytest.mark.parametrize("op", ["sendRequestXML", "receiveResponseXML", "getLastError", "closeConnection",
                                "connectionError", "clientVersion", "serverVersion"])
def test_calls_with_every_part_missing_get_sane_answers(service, op):
    http, queue, _ = service
    answer = call(http, op, {})
    assert answer.status_code == 200 and f"<{op}Response" in answer.text
    assert len(queue.records) == 3 and sign_in(http)


# ------------------------------------------------------------------------------------------ qbXML responses

def _qbxml(inner: str) -> str:
    return f'<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRs>{inner}</QBXMLMsgsRs></QBXML>'


HOSTILE_QBXML = [
    ("", "empty"),
    ("<QBXML", "malformed"),
    ("plain text", "malformed"),
    ("<QBXML><QBXMLMsgsRs></QBXML>", "malformed"),
    ("<NotQBXML/>", "not <QBXML>"),
    ("<QBXML/>", "no <QBXMLMsgsRs>"),
    (_qbxml('<CustomerAddRs requestID="1" statusCode="zero"/>'), "no numeric statusCode"),
    (_qbxml('<CustomerAddRs requestID="1"/>'), "no numeric statusCode"),
    (_qbxml('<CustomerAddRs requestID="1" statusCode="0"><CustomerRet>' + _deep(MAX_RESPONSE_DEPTH)
            + "</CustomerRet></CustomerAddRs>"), "deeper than"),
    (_qbxml('<CustomerAddRs requestID="1" statusCode="0"><CustomerRet>' + _deep(100_000)
            + "</CustomerRet></CustomerAddRs>"), "deeper than"),
    ('<!DOCTYPE q [<!ENTITY a "x">]><QBXML><QBXMLMsgsRs/></QBXML>', "DTDs and entities"),
    ('<!DOCTYPE q [<!ENTITY a SYSTEM "file:///etc/passwd">]><QBXML><QBXMLMsgsRs>&a;</QBXMLMsgsRs></QBXML>',
     "DTDs and entities"),
    ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><QBXML>&b;</QBXML>',
     "DTDs and entities"),
    ("<QBXML>&#xD800;</QBXML>", "malformed"),
    ("<QBXML><QBXMLMsgsRs>" + "<CustomerAddRs requestID=\"9\" statusCode=\"0\">" * 60 + "</QBXML>", "deeper than"),
]


@pytest.mark.parametrize("response,says", HOSTILE_QBXML, ids=range(len(HOSTILE_QBXML)))
def test_a_hostile_qbxml_response_is_an_error_for_that_request_and_the_session_goes_on(service, response, says):
    http, queue, refs = service
    ticket = sign_in(http)
    sent = result(call(http, "sendRequestXML", {"ticket": ticket, "qbXMLMajorVers": 16, "qbXMLMinorVers": 0}),
                  "sendRequestXML")
    assert "CustomerAddRq" in sent or "CustomerQueryRq" in sent
    answer = call(http, "receiveResponseXML", {"ticket": ticket, "response": response, "hresult": "", "message": ""})
    assert answer.status_code == 200 and result(answer, "receiveResponseXML") == "-1"
    error = result(call(http, "getLastError", {"ticket": ticket}), "getLastError")
    assert "could not be read" in error and says in error.replace("&lt;", "<").replace("&gt;", ">"), error
    assert len(queue.records) == 3 and not queue.confirmed and not queue.failed  # nothing settled blind
    # the same session goes on: the unanswered requests are asked about again, not lost or sent twice blind
    again = result(call(http, "sendRequestXML", {"ticket": ticket, "qbXMLMajorVers": 16, "qbXMLMinorVers": 0}),
                   "sendRequestXML")
    assert "CustomerQueryRq" in again
    assert "written" in result(call(http, "closeConnection", {"ticket": ticket}), "closeConnection")


# ------------------------------------------------------------------------------------------ random input

RANDOM = settings(max_examples=80, derandomize=True, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@RANDOM
@given(op=st.sampled_from(sorted(OPERATIONS)), values=st.dictionaries(
    st.sampled_from(sorted({p for parts, _ in OPERATIONS.values() for p, _ in parts})),
    st.text(max_size=60) | st.integers(min_value=-(10**12), max_value=10**12), max_size=4))
def test_random_parts_never_get_a_500(service, op, values):
    http, queue, _ = service
    values.pop("strPassword", None)  # a right password is not what this test guesses
    answer = call(http, op, values)
    assert answer.status_code in (200, 400), answer.text[:300]
    if answer.status_code == 400:
        assert "<faultcode>soap:Client</faultcode>" in answer.text
    assert not queue.confirmed and not queue.failed


@RANDOM
@given(body=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: soap(t)))
def test_random_bytes_never_get_a_500(service, body):
    http, _, _ = service
    answer = post(http, body)
    assert answer.status_code in (200, 400), answer.text[:300]


_child = st.sampled_from(["ListID", "TxnID", "EditSequence", "Name", "FullName", "Memo", "RefNumber", "X"])
_ret = st.lists(st.tuples(_child, st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                                          max_size=20)), max_size=6)
_rs = st.tuples(st.sampled_from(["CustomerAdd", "CustomerQuery", "ItemInventoryQuery", "TxnVoid", "Unknown"]),
                st.sampled_from(["1", "2", "3", "99", ""]),
                st.sampled_from(["0", "1", "500", "3100", "3140", "3170", "3200", "3250", "-1", "x", "²", ""]),
                st.sampled_from(["", "5", "²", "-3", "x"]), st.lists(_ret, max_size=3))


def _rs_xml(kind, rid, code, remaining, rets):
    from xml.sax.saxutils import escape, quoteattr

    attrs = f' requestID={quoteattr(rid)} statusCode={quoteattr(code)} iteratorRemainingCount={quoteattr(remaining)}'
    body = "".join(f"<{kind}Ret>" + "".join(f"<{n}>{escape(v)}</{n}>" for n, v in ret) + f"</{kind}Ret>"
                   for ret in rets)
    return f"<{kind}Rs{attrs} statusMessage='m'>{body}</{kind}Rs>"


@RANDOM
@given(answers=st.lists(_rs, max_size=5))
def test_random_qbxml_answers_settle_only_what_was_sent_and_never_raise(answers):
    queue = Queue([OutboundRecord(key=f"Customer:C{i}", stream="Customer", data={"CustomerAdd": {"Name": f"C{i}"}})
                   for i in range(3)])
    company = Company(username="qb", password_hash=hash_password("pw", iterations=1), owner_id="{0}", file_id="{F}",
                      awaiting=queue, references=Refs())
    bridge = WebConnectorBridge([company], login_policy=LENIENT)
    ticket, _ = bridge.authenticate("qb", "pw")
    assert "CustomerAddRq" in bridge.send_request(ticket, "", "", 16, 0)
    done = bridge.receive_response(ticket, _qbxml("".join(_rs_xml(*a) for a in answers)), "", "")
    assert isinstance(done, int) and -1 <= done <= 100
    assert set(queue.confirmed) | set(queue.failed) <= {"Customer:C0", "Customer:C1", "Customer:C2"}
    assert isinstance(bridge.send_request(ticket, "", "", 16, 0), str)  # the session goes on
