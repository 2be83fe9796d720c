"""The simulated QuickBooks company file: customers, items, accounts and transactions in memory, answering qbXML
as QuickBooks does.

Status codes 0, 1, 500, 3100, 3120, 3140, 3170, 3180, 3200 come with QuickBooks' wording. Given the path of
Intuit's qbXML XSD (`xsd=…/qbxmlops160.xsd`; the schema is never shipped) it validates every request against it
and refuses an invalid one as QuickBooks does (`QbxmlRejected`: statusCode -1 with hresult 0x80040400 at the
Web Connector). It can be told to answer 3100, 3140, 3170, 3180 or 3200 for a kind of request.

The company file is split by what it answers: `customers`, `items` (and accounts), `transactions`, `payments`
(and voids), `classes` (and payment methods), on the records and shared answers in `records`. This module reads
a qbXML message and hands each request to its handler.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from defusedxml import ElementTree as SafeET

from .classes import ClassRequests
from .customers import CustomerRequests
from .items import ITEM_RET, ItemRequests
from .name_lists import NameListRequests
from .payments import PaymentRequests
from .records import DEFAULT_ACCOUNTS, DEFAULT_PAYMENT_METHODS
from .transactions import TransactionRequests

__all__ = ["CompanyFile", "QbxmlRejected", "DEFAULT_ACCOUNTS", "DEFAULT_PAYMENT_METHODS"]


class QbxmlRejected(Exception):
    """The request is not valid qbXML: the Web Connector reports an hresult instead of a response."""

class CompanyFile(CustomerRequests, ItemRequests, TransactionRequests, PaymentRequests, ClassRequests,
                  NameListRequests):
    """One simulated QuickBooks company file."""

    # --------------------------------------------------------------------------------------- messages

    def handle(self, qbxml: str) -> str:
        """Process one qbXML request message; return the response message. Raises QbxmlRejected."""
        with self.lock:
            if self._schema is not None:
                from lxml import etree

                try:
                    doc = etree.fromstring(qbxml.encode("utf-8"))
                except etree.XMLSyntaxError as exc:
                    raise QbxmlRejected(f"not XML: {exc}") from None
                if not self._schema.validate(doc):
                    raise QbxmlRejected(f"not valid qbXML: {self._schema.error_log.last_error}")
            try:
                root = SafeET.fromstring(qbxml.encode("utf-8"), forbid_dtd=True)
            except Exception as exc:
                raise QbxmlRejected(f"not XML: {exc}") from None
            msgs = root.find("QBXMLMsgsRq")
            if root.tag != "QBXML" or msgs is None:
                raise QbxmlRejected("no QBXML/QBXMLMsgsRq")
            stop = msgs.get("onError") == "stopOnError"
            out_root = ET.Element("QBXML")
            out = ET.SubElement(out_root, "QBXMLMsgsRs")
            for rq in msgs:
                rs = self._one(rq)
                out.append(rs)
                if stop and int(rs.get("statusCode", "0")) >= 1000:
                    break
            return '<?xml version="1.0" ?>\n' + ET.tostring(out_root, encoding="unicode")

    def _one(self, rq: ET.Element) -> ET.Element:
        kind = rq.tag[:-2]
        self.requests.append(kind)
        rs = ET.Element(f"{kind}Rs")
        if rq.get("requestID") is not None:
            rs.set("requestID", rq.get("requestID"))
        handler = getattr(self, f"_rq_{kind}", None)
        if handler is None and kind in ("InvoiceAdd", "CreditMemoAdd", "ReceivePaymentAdd", "JournalEntryAdd",
                                        "InventoryAdjustmentAdd", "SalesReceiptAdd", "DepositAdd", "CheckAdd"):
            handler = self._txn_add
        if handler is None and kind in ("InvoiceQuery", "CreditMemoQuery", "SalesReceiptQuery", "ReceivePaymentQuery",
                                        "JournalEntryQuery", "DepositQuery", "CheckQuery"):
            handler = self._txn_query
        if handler is None and kind in ITEM_RET:
            handler = self._item_add
        if handler is None:
            return self._status(rs, 3250, "Error", f"This feature is not supported by the ledgerlink simulator: {kind}.")
        fault = self._take_fault(kind)
        return handler(rq, rs, kind, fault)
