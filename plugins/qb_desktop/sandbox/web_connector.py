"""The simulated QuickBooks Web Connector: polls a Web Connector service (our bridge) over SOAP for one company file.

`WebConnectorClient.poll` runs one session as QBWC does: serverVersion, clientVersion, authenticate, then
sendRequestXML / receiveResponseXML until done, closeConnection, handing each qbXML message to the company file.
An authenticate answered "busy" (the service is syncing) ends the session at once, as QBWC postpones the
update by the seconds the answer's third element gives. It can be told to fail: lose a response, report an hresult, call connectionError, or send a response that does
not parse.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from defusedxml import ElementTree as SafeET

from .company import CompanyFile, QbxmlRejected

__all__ = ["WebConnectorClient"]

log = logging.getLogger("ledgerlink.qb_desktop.simulator")


class WebConnectorClient:
    """Plays the QuickBooks Web Connector against a service URL, for one company file."""

    version = "2.3.0.215"

    def __init__(self, company: CompanyFile, *, username: str, password: str, company_file: str = "",
                 qbxml_version: tuple[int, int] = (16, 0), http: httpx.Client | None = None):
        self.company, self.username, self.password = company, username, password
        self.company_file, self.qbxml_version = company_file, qbxml_version
        self.http = http or httpx.Client(timeout=30)
        self.client_faults: list[dict[str, Any]] = []
        self.log: list[str] = []

    def add_fault(self, fault: dict[str, Any]) -> None:
        self.client_faults.append({"count": 1, **fault})

    def _take(self, name: str) -> bool:
        for fault in self.client_faults:
            if fault.get("client") == name:
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self.client_faults.remove(fault)
                return True
        return False

    def call(self, url: str, operation: str, values: dict[str, Any]) -> Any:
        from ..soap import NS, envelope

        self.log.append(operation)
        response = self.http.post(url, content=envelope(operation, values).encode("utf-8"),
                                  headers={"Content-Type": "text/xml; charset=utf-8",
                                           "SOAPAction": f'"{NS}{operation}"'})
        response.raise_for_status()
        root = SafeET.fromstring(response.content, forbid_dtd=True)
        result = root.find(f".//{{{NS}}}{operation}Response/{{{NS}}}{operation}Result")
        if result is None:
            raise RuntimeError(f"{operation}: no {operation}Result in the answer")
        strings = result.findall(f"{{{NS}}}string")
        if strings:
            return [s.text or "" for s in strings]
        return result.text or ""

    def poll(self, url: str, max_messages: int = 200) -> dict[str, Any]:
        """One Web Connector session. Returns what happened."""
        self.call(url, "serverVersion", {})
        self.call(url, "clientVersion", {"strVersion": self.version})
        ticket, answer, postpone = (self.call(url, "authenticate", {"strUserName": self.username,
                                                                    "strPassword": self.password}) + ["", "", ""])[:3]
        if answer == "nvu":
            return {"result": "nvu", "error": self.call(url, "getLastError", {"ticket": ticket})}
        if answer == "busy":  # the service asks QBWC to postpone the update by the third element's seconds
            return {"result": "busy", "wait_s": int(postpone) if postpone.isdigit() else None}
        if answer == "none":
            self.call(url, "closeConnection", {"ticket": ticket})
            return {"result": "none", "messages": 0}
        if self._take("connection_error"):
            done = self.call(url, "connectionError", {"ticket": ticket, "hresult": "0x80040408",
                                                      "message": "Could not start QuickBooks."})
            return {"result": "connection_error", "answer": done}
        messages = 0
        hcp = ('<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><HostQueryRs statusCode="0" statusSeverity="Info" '
               'statusMessage="Status OK"><HostRet><ProductName>QuickBooks Enterprise Solutions 24.0</ProductName>'
               f'<MajorVersion>34</MajorVersion><MinorVersion>0</MinorVersion><Country>US</Country>'
               f'<SupportedQBXMLVersion>{self.qbxml_version[0]}.{self.qbxml_version[1]}</SupportedQBXMLVersion>'
               "</HostRet></HostQueryRs></QBXMLMsgsRs></QBXML>")
        result = "done"
        while messages < max_messages:
            request = self.call(url, "sendRequestXML", {
                "ticket": ticket, "strHCPResponse": hcp if messages == 0 else "", "strCompanyFileName":
                self.company_file, "qbXMLCountry": "US", "qbXMLMajorVers": self.qbxml_version[0],
                "qbXMLMinorVers": self.qbxml_version[1]})
            if not request:
                break
            messages += 1
            if self._take("hresult"):
                pct = self.call(url, "receiveResponseXML", {"ticket": ticket, "response": "", "hresult": "0x80040400",
                                                            "message": "QuickBooks found an error when parsing the "
                                                                       "provided XML text stream."})
            else:
                try:
                    response = self.company.handle(request)
                except QbxmlRejected as exc:
                    log.error("qb_desktop simulator: %s", exc)
                    pct = self.call(url, "receiveResponseXML", {"ticket": ticket, "response": "",
                                                                "hresult": "0x80040400", "message": str(exc)})
                    result = "rejected"
                else:
                    if self._take("lost_response"):
                        return {"result": "lost_response", "messages": messages}  # the answer never reaches the service
                    if self._take("garbage_response"):
                        response = "<QBXML><QBXMLMsgsRs><CustomerAddRs statusCode="
                    pct = self.call(url, "receiveResponseXML", {"ticket": ticket, "response": response,
                                                                "hresult": "", "message": ""})
            if int(pct) < 0:
                error = self.call(url, "getLastError", {"ticket": ticket})
                self.call(url, "closeConnection", {"ticket": ticket})
                return {"result": result if result == "rejected" else "error", "error": error, "messages": messages}
            if int(pct) >= 100:
                break
        closing = self.call(url, "closeConnection", {"ticket": ticket})
        return {"result": result, "messages": messages, "closing": closing}
