"""The Web Connector's SOAP 1.1 service (document/literal, wrapped), as an ASGI app.

Element names and the namespace are those of Intuit's QBWebConnectorSvc WSDL; the WSDL served at `?wsdl` is
generated from `OPERATIONS` below, so it describes exactly what this app answers. Requests are untrusted: the
body is size-bounded while it is read, parsed with defusedxml (no DTD, no entity expansion, no external
entities) and refused past MAX_DEPTH levels of nesting, and each part is held to its own length
(`PART_LIMITS`), all before any sign-in is checked. Every malformed request gets a SOAP Fault (HTTP 400, faultcode
soap:Client, saying what is wrong) and a log line; nothing in the queue changes. HTTP 500 (soap:Server) is kept
for failures of the service itself.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledgerlink import WebInputError, parse_untrusted_xml, read_body

from .bridge import WebConnectorBridge

__all__ = ["NS", "SOAP_NS", "OPERATIONS", "wsdl", "envelope", "parse_envelope", "SoapFault", "qbwc_app",
           "SERVER_VERSION", "MAX_DEPTH", "PART_LIMITS"]

log = logging.getLogger("ledgerlink.qb_desktop")

NS = "http://developer.intuit.com/"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SERVER_VERSION = "ledgerlink-qbwc 1.0"

#: operation → (request parts as (name, xsd type), result type). Types: string, int, ArrayOfString
OPERATIONS: dict[str, tuple[list[tuple[str, str]], str]] = {
    "serverVersion": ([], "string"),
    "clientVersion": ([("strVersion", "string")], "string"),
    "authenticate": ([("strUserName", "string"), ("strPassword", "string")], "ArrayOfString"),
    "connectionError": ([("ticket", "string"), ("hresult", "string"), ("message", "string")], "string"),
    "sendRequestXML": ([("ticket", "string"), ("strHCPResponse", "string"), ("strCompanyFileName", "string"),
                        ("qbXMLCountry", "string"), ("qbXMLMajorVers", "int"), ("qbXMLMinorVers", "int")], "string"),
    "receiveResponseXML": ([("ticket", "string"), ("response", "string"), ("hresult", "string"),
                            ("message", "string")], "int"),
    "getLastError": ([("ticket", "string")], "string"),
    "closeConnection": ([("ticket", "string")], "string"),
}


#: Envelope › Body › call › part › (raw qbXML a hand-made client may put inside <response>, ~10 levels)
MAX_DEPTH = 40
#: longest value of each part, in characters; `response` and `strHCPResponse` are bounded by the request size only
PART_LIMITS: dict[str, int] = {"ticket": 100, "strUserName": 200, "strPassword": 1024, "strVersion": 200,
                               "strCompanyFileName": 2048, "qbXMLCountry": 16, "hresult": 200, "message": 65_536}


class SoapFault(Exception):
    """A request refused: soap:Client faults are the caller's (HTTP 400), soap:Server ones the service's (500)."""

    def __init__(self, message: str, code: str = "soap:Client", status: int = 400):
        super().__init__(message)
        self.code, self.status = code, status


def _part(name: str, xsd: str, required_int: bool = True) -> str:
    if xsd == "int":
        return f'<s:element minOccurs="1" maxOccurs="1" name="{name}" type="s:int"/>'
    if xsd == "ArrayOfString":
        return f'<s:element minOccurs="0" maxOccurs="1" name="{name}" type="tns:ArrayOfString"/>'
    return f'<s:element minOccurs="0" maxOccurs="1" name="{name}" type="s:string"/>'


def wsdl(location: str) -> str:
    """The service description, with this service's own address."""
    types, messages, ports, bindings = [], [], [], []
    for op, (parts, result) in OPERATIONS.items():
        inner = "".join(_part(n, t) for n, t in parts)
        types.append(f'<s:element name="{op}"><s:complexType>'
                     + (f"<s:sequence>{inner}</s:sequence>" if inner else "") + "</s:complexType></s:element>")
        types.append(f'<s:element name="{op}Response"><s:complexType><s:sequence>{_part(op + "Result", result)}'
                     "</s:sequence></s:complexType></s:element>")
        messages.append(f'<wsdl:message name="{op}SoapIn"><wsdl:part name="parameters" element="tns:{op}"/></wsdl:message>'
                        f'<wsdl:message name="{op}SoapOut"><wsdl:part name="parameters" element="tns:{op}Response"/>'
                        "</wsdl:message>")
        ports.append(f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}SoapIn"/>'
                     f'<wsdl:output message="tns:{op}SoapOut"/></wsdl:operation>')
        bindings.append(f'<wsdl:operation name="{op}"><soap:operation soapAction="{NS}{op}" style="document"/>'
                        '<wsdl:input><soap:body use="literal"/></wsdl:input>'
                        '<wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>')
    array = ('<s:complexType name="ArrayOfString"><s:sequence><s:element minOccurs="0" maxOccurs="unbounded" '
             'name="string" nillable="true" type="s:string"/></s:sequence></s:complexType>')
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<wsdl:definitions xmlns:s="http://www.w3.org/2001/XMLSchema" '
            'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
            f'xmlns:tns="{NS}" targetNamespace="{NS}">'
            '<wsdl:documentation>ledgerlink: QuickBooks Web Connector service</wsdl:documentation>'
            f'<wsdl:types><s:schema elementFormDefault="qualified" targetNamespace="{NS}">{"".join(types)}{array}'
            '</s:schema></wsdl:types>' + "".join(messages)
            + f'<wsdl:portType name="QBWebConnectorSvcSoap">{"".join(ports)}</wsdl:portType>'
            '<wsdl:binding name="QBWebConnectorSvcSoap" type="tns:QBWebConnectorSvcSoap">'
            '<soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>' + "".join(bindings) + "</wsdl:binding>"
            '<wsdl:service name="QBWebConnectorSvc"><wsdl:port name="QBWebConnectorSvcSoap" '
            f'binding="tns:QBWebConnectorSvcSoap"><soap:address location={quoteattr(location)}/></wsdl:port>'
            "</wsdl:service></wsdl:definitions>\n")


def _value_xml(value: Any) -> str:
    if isinstance(value, list):
        return "".join(f"<string>{escape(str(v))}</string>" for v in value)
    return escape(str(value))


def envelope(operation: str, values: dict[str, Any]) -> str:
    """A SOAP 1.1 envelope whose body is `<operation xmlns="http://developer.intuit.com/">` with `values` as
    children (a list becomes `<string>` items, in the same namespace as QBWC requires)."""
    body = "".join(f"<{k}>{_value_xml(v)}</{k}>" for k, v in values.items() if v is not None)
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            f'<soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
            f'<soap:Body><{operation} xmlns="{NS}">{body}</{operation}></soap:Body></soap:Envelope>')


def fault(message: str, code: str = "soap:Client") -> str:
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><soap:Fault><faultcode>{code}</faultcode>'
            f"<faultstring>{escape(message)}</faultstring></soap:Fault></soap:Body></soap:Envelope>")


def _local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        ns, name = tag[1:].split("}", 1)
        return ns, name
    return None, tag


def _text_of(node: ET.Element) -> str:
    """A part's value: its text, or (hand-made fixtures put qbXML inside `<response>` as raw XML) its children
    serialised back to text."""
    children = list(node)
    if not children:
        return node.text or ""
    for el in node.iter():  # raw qbXML inside the SOAP body inherits the SOAP namespace: drop it
        el.tag = _local(el.tag)[1]
    return "".join(ET.tostring(c, encoding="unicode") for c in children)


def parse_envelope(data: bytes) -> tuple[str, dict[str, Any]]:
    """(operation, {part: value}) of a SOAP 1.1 request. Raises SoapFault for anything else."""
    try:
        root = parse_untrusted_xml(data, max_depth=MAX_DEPTH, what="the SOAP request")
    except WebInputError as exc:
        raise SoapFault(f"request refused: {exc.message}") from None
    ns, name = _local(root.tag)
    if ns != SOAP_NS or name != "Envelope":
        raise SoapFault("not a SOAP 1.1 envelope")
    body = next((c for c in root if _local(c.tag) == (SOAP_NS, "Body")), None)
    if body is None or not len(body):
        raise SoapFault("SOAP envelope without a Body element")
    call = body[0]
    ns, operation = _local(call.tag)
    if ns != NS or operation not in OPERATIONS:
        raise SoapFault(f"unknown operation {{{ns}}}{operation}" if ns else f"unknown operation {operation}")
    parts, _ = OPERATIONS[operation]
    known = {n: t for n, t in parts}
    values: dict[str, Any] = {}
    for child in call:
        cns, cname = _local(child.tag)
        if cname not in known or cns not in (NS, None):
            continue  # e.g. serverVersion's strVersion in some stubs: accepted and ignored
        text = _text_of(child)
        limit = PART_LIMITS.get(cname)
        if limit is not None and len(text) > limit:
            raise SoapFault(f"{operation}.{cname} is {len(text):,} characters; at most {limit:,} are accepted")
        if known[cname] == "int":
            digits = text.strip()
            if not re.fullmatch(r"[+-]?[0-9]{1,9}", digits):
                raise SoapFault(f"{operation}.{cname} must be an integer (of at most 9 digits), not "
                                f"{digits[:20]!r}")
            values[cname] = int(digits)
        else:
            values[cname] = text
    return operation, values


def _dispatch(bridge: WebConnectorBridge, operation: str, v: dict[str, Any], address: str | None = None) -> Any:
    if operation == "serverVersion":
        return SERVER_VERSION
    if operation == "clientVersion":
        log.info("qbwc clientVersion %s", (v.get("strVersion") or "")[:40])
        return ""
    if operation == "authenticate":
        return bridge.authenticate(v.get("strUserName"), v.get("strPassword"), address)
    if operation == "sendRequestXML":
        return bridge.send_request(v.get("ticket"), v.get("strHCPResponse"), v.get("strCompanyFileName"),
                                   v.get("qbXMLMajorVers"), v.get("qbXMLMinorVers"))
    if operation == "receiveResponseXML":
        return bridge.receive_response(v.get("ticket"), v.get("response"), v.get("hresult"), v.get("message"))
    if operation == "connectionError":
        return bridge.connection_error(v.get("ticket"), v.get("hresult"), v.get("message"))
    if operation == "getLastError":
        return bridge.last_error(v.get("ticket"))
    return bridge.close(v.get("ticket"))


def qbwc_app(bridge: WebConnectorBridge, *, max_request_bytes: int = 10_000_000,
             status: Callable[[], Any] | None = None) -> Starlette:
    """The ASGI app: POST SOAP at `/`, GET `/?wsdl` for the WSDL. Mount it anywhere (`/qbwc` under serve)."""

    async def endpoint(request: Request) -> Response:
        if request.method == "GET":
            if "wsdl" in {k.lower() for k in request.query_params.keys()}:
                location = str(request.url.replace(query=""))
                return Response(wsdl(location), media_type="text/xml; charset=utf-8")
            return Response("ledgerlink QuickBooks Web Connector service; WSDL at ?wsdl\n", media_type="text/plain")
        try:
            data = await read_body(request, max_request_bytes, what="the SOAP request")
        except WebInputError as exc:
            log.warning("qbwc: %s", exc.message)
            return Response(fault(f"request too large: {exc.message}"), status_code=exc.status,
                            media_type="text/xml; charset=utf-8")
        try:
            operation, values = parse_envelope(data)
        except SoapFault as exc:
            log.warning("qbwc: bad SOAP request: %s", exc)
            return Response(fault(str(exc), exc.code), status_code=exc.status, media_type="text/xml; charset=utf-8")
        try:
            address = request.client.host if request.client else None
            result = await run_in_threadpool(_dispatch, bridge, operation, values, address)
        except Exception as exc:
            log.exception("qbwc %s failed: %s", operation, exc)
            return Response(fault("internal error; see the service log", "soap:Server"), status_code=500,
                            media_type="text/xml; charset=utf-8")
        return Response(envelope(f"{operation}Response", {f"{operation}Result": result}),
                        media_type="text/xml; charset=utf-8")

    async def status_endpoint(request: Request) -> Response:
        from ledgerlink import json_dumps

        return Response(json_dumps(bridge.status()), media_type="application/json")

    return Starlette(routes=[Route("/", endpoint, methods=["GET", "POST"]),
                             Route("/status", status_endpoint, methods=["GET"])])
