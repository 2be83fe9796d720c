"""`ledgerlink sandbox qb_desktop`: a simulated QuickBooks company file and a Web Connector that polls a service.

The company file keeps customers, items, accounts and transactions in memory, answers qbXML as QuickBooks does
(status codes 0, 1, 500, 3100, 3120, 3140, 3170, 3180, 3200 with QuickBooks' wording), and, when given the path
of Intuit's qbXML XSD (`xsd=…/qbxmlops160.xsd`; the schema is never shipped), validates every request against it
and refuses an invalid one as QuickBooks does (statusCode -1 with hresult 0x80040400 at the Web Connector).

The Web Connector client (`WebConnectorClient.poll`) runs one session as QBWC does: serverVersion, clientVersion,
authenticate, then sendRequestXML / receiveResponseXML until done, closeConnection. It can be told to fail:
lose a response, report an hresult, call connectionError, or send a response that does not parse; the company
file can be told to answer 3100, 3140, 3170, 3180 or 3200 for a kind of request.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, ClassVar
from xml.etree import ElementTree as ET

import httpx
from defusedxml import ElementTree as SafeET

from ledgerlink import Sandbox, SandboxOptions

__all__ = ["CompanyFile", "WebConnectorClient", "QuickBooksDesktopSimulator", "QbxmlRejected"]

log = logging.getLogger("ledgerlink.qb_desktop.simulator")

DEFAULT_ACCOUNTS = {
    "Sales": "Income", "Undeposited Funds": "OtherCurrentAsset", "Discounts Given": "Income",
    "Sales Tax Payable": "OtherCurrentLiability", "Cost of Goods Sold": "CostOfGoodsSold",
    "Inventory Asset": "OtherCurrentAsset", "Inventory Adjustments": "Expense", "Accounts Receivable": "AccountsReceivable",
    "Checking": "Bank",
}
DEFAULT_PAYMENT_METHODS = {"Cash": "Cash", "Check": "Check", "American Express": "AmericanExpress",
                           "Discover": "Discover", "MasterCard": "MasterCard", "Visa": "Visa", "Debit Card": "DebitCard",
                           "Gift Card": "GiftCard", "E-Check": "ECheck"}
_ITEM_RET = {"ItemNonInventoryAdd": "ItemNonInventoryRet", "ItemServiceAdd": "ItemServiceRet",
             "ItemInventoryAdd": "ItemInventoryRet"}
_TXN_LINES = {"SalesReceiptAdd": "SalesReceiptLineAdd", "InvoiceAdd": "InvoiceLineAdd",
              "CreditMemoAdd": "CreditMemoLineAdd"}
_DOC_LABEL = {"SalesReceipt": "Sales Receipt", "Invoice": "Invoice", "CreditMemo": "Credit Memo",
              "ReceivePayment": "Receive Payment", "JournalEntry": "Journal Entry",
              "InventoryAdjustment": "Inventory Adjustment"}


class QbxmlRejected(Exception):
    """The request is not valid qbXML: the Web Connector reports an hresult instead of a response."""


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _sub(parent: ET.Element, name: str, text: Any) -> ET.Element:
    node = ET.SubElement(parent, name)
    if text is not None:
        node.text = str(text)
    return node


def _ref(parent: ET.Element, name: str, list_id: str | None, full_name: str | None) -> None:
    node = ET.SubElement(parent, name)
    if list_id:
        _sub(node, "ListID", list_id)
    if full_name:
        _sub(node, "FullName", full_name)


def _find(node: ET.Element, path: str) -> str | None:
    found = node.find(path)
    return found.text if found is not None and found.text is not None else None


class CompanyFile:
    """One simulated QuickBooks company file."""

    def __init__(self, *, accounts: dict[str, str] | None = None, xsd: str | None = None, multicurrency: bool = False,
                 home_currency: str = "US Dollar"):
        self.lock = threading.RLock()
        #: the company preference Edit → Preferences → Multiple Currencies (off by default, as in QuickBooks)
        self.multicurrency = multicurrency
        self.home_currency = home_currency
        self.accounts: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}  # by Name (case-insensitive key)
        self.items: dict[str, dict[str, Any]] = {}
        self.txns: dict[str, list[dict[str, Any]]] = {}  # SalesReceipt → [...]
        self.classes: dict[str, dict[str, Any]] = {}  # by Name (case-insensitive key)
        #: a new QuickBooks company file's payment methods
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.faults: list[dict[str, Any]] = []
        self.requests: list[str] = []  # every request kind handled, in order
        self._ids = itertools.count(0x80000001)
        self._txn_numbers = itertools.count(1)
        self._schema = None
        if xsd:
            try:
                from lxml import etree
            except ImportError:  # pragma: no cover - lxml is a test dependency
                raise RuntimeError("validating against the qbXML XSD needs lxml (pip install lxml)") from None
            self._schema = etree.XMLSchema(etree.parse(xsd))
        for name, kind in (accounts or DEFAULT_ACCOUNTS).items():
            self.accounts[name.lower()] = self._list_obj(Name=name, AccountType=kind)
        for name, kind in DEFAULT_PAYMENT_METHODS.items():
            self.payment_methods[name.lower()] = self._list_obj(Name=name, PaymentMethodType=kind)

    # --------------------------------------------------------------------------------------------- state

    def _list_obj(self, **fields: Any) -> dict[str, Any]:
        now = _now()
        return {"ListID": f"{next(self._ids):X}-{int(time.time())}", "TimeCreated": now, "TimeModified": now,
                "EditSequence": str(int(time.time())), "IsActive": True, **fields}

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {"Customer": len(self.customers), "Item": len(self.items), "Account": len(self.accounts),
                    **{k: len(v) for k, v in self.txns.items()}}

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"counts": self.counts(), "customers": sorted(c["Name"] for c in self.customers.values()),
                    "items": sorted(i["Name"] for i in self.items.values()),
                    "transactions": {k: [{"TxnID": t["TxnID"], "RefNumber": t.get("RefNumber"),
                                          "CustomerRef": t.get("CustomerRef"), "TotalAmount": str(t["TotalAmount"]),
                                          "Memo": t.get("Memo"), **({"BalanceRemaining": t["BalanceRemaining"]}
                                                                    if "BalanceRemaining" in t else {})}
                                         for t in v] for k, v in self.txns.items()},
                    "faults": list(self.faults)}

    def add_fault(self, fault: dict[str, Any]) -> None:
        with self.lock:
            self.faults.append({"count": 1, **fault})

    def _take_fault(self, kind: str) -> dict[str, Any] | None:
        for fault in self.faults:
            if fault.get("code") and fault.get("request") in (None, kind):
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self.faults.remove(fault)
                return fault
        return None

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
                                        "InventoryAdjustmentAdd", "SalesReceiptAdd"):
            handler = self._txn_add
        if handler is None and kind in ("InvoiceQuery", "CreditMemoQuery", "SalesReceiptQuery", "ReceivePaymentQuery"):
            handler = self._txn_query
        if handler is None and kind in _ITEM_RET:
            handler = self._item_add
        if handler is None:
            return self._status(rs, 3250, "Error", f"This feature is not supported by the ledgerlink simulator: {kind}.")
        fault = self._take_fault(kind)
        return handler(rq, rs, kind, fault)

    @staticmethod
    def _status(rs: ET.Element, code: int, severity: str, message: str) -> ET.Element:
        rs.set("statusCode", str(code))
        rs.set("statusSeverity", severity)
        rs.set("statusMessage", message)
        return rs

    def _ok(self, rs: ET.Element) -> ET.Element:
        return self._status(rs, 0, "Info", "Status OK")

    @staticmethod
    def _refused_save(rs: ET.Element, code: int, what: str, name: str) -> ET.Element:
        if code == 3170:
            message = (f'There was an error when modifying a {what} list, element "{name}".  QuickBooks error message: '
                       "This record is being used by another user.")
        else:
            message = (f'There was an error when saving a {what} list, element "{name}".  QuickBooks error message: '
                       "Cannot save: the record is in use.")
        return CompanyFile._status(rs, code, "Error", message)

    @staticmethod
    def _multicurrency_off(rs: ET.Element) -> ET.Element:
        """What QuickBooks answers to a currency (CurrencyRef, ExchangeRate) while multicurrency is off."""
        return CompanyFile._status(rs, 3250, "Error", "This feature is not enabled or not available in this version "
                                   "of QuickBooks.  QuickBooks error message: Multicurrency is turned off in this "
                                   "company file.")

    def _name_taken(self, name: str) -> bool:
        return name.lower() in self.customers

    def _missing_ref(self, rs: ET.Element, kind: str, name: str, where: str) -> ET.Element:
        return self._status(rs, 3140, "Error", f'There is an invalid reference to QuickBooks {kind} "{name}" in the '
                            f"{where}.  QuickBooks error message: Invalid argument.  The specified record does not "
                            "exist in the list.")

    # ---------------------------------------------------------------------------------------- customers

    def _customer_ret(self, parent: ET.Element, c: dict[str, Any]) -> None:
        ret = ET.SubElement(parent, "CustomerRet")
        for f in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name"):
            _sub(ret, f, c[f])
        _sub(ret, "FullName", c["Name"])
        _sub(ret, "IsActive", "true")
        _sub(ret, "Sublevel", 0)
        for f in ("CompanyName", "Phone", "Email"):
            if c.get(f):
                _sub(ret, f, c[f])
        _sub(ret, "Balance", "0.00")
        _sub(ret, "TotalBalance", "0.00")
        if c.get("Notes"):
            _sub(ret, "Notes", c["Notes"])
        if self.multicurrency:
            _ref(ret, "CurrencyRef", None, c.get("Currency") or self.home_currency)

    def _rq_CustomerAdd(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        add = rq.find("CustomerAdd")
        name = _find(add, "Name") or ""
        if fault and fault["code"] == 3100 and not self._name_taken(name):
            self.customers[name.lower()] = self._list_obj(Name=name, Notes="created by hand in QuickBooks")
        if fault and fault["code"] in (3170, 3180):
            return self._refused_save(rs, fault["code"], "Customer", name)
        if self._name_taken(name):
            return self._status(rs, 3100, "Error", f'The name "{name}" of the list element is already in use.')
        currency = _find(add, "CurrencyRef/FullName")
        if currency and not self.multicurrency:
            return self._multicurrency_off(rs)
        c = self._list_obj(Name=name, **{f: _find(add, f) for f in ("CompanyName", "Phone", "Email", "Notes")},
                           Currency=currency or self.home_currency)
        self.customers[name.lower()] = c
        self._customer_ret(rs, c)
        return self._ok(rs)

    def _rq_CustomerMod(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        mod = rq.find("CustomerMod")
        list_id, seq = _find(mod, "ListID"), _find(mod, "EditSequence")
        c = next((c for c in self.customers.values() if c["ListID"] == list_id), None)
        if c is None:
            return self._status(rs, 3120, "Error", f'Object "{list_id}" specified in the request cannot be found.')
        if fault and fault["code"] == 3200:
            c["EditSequence"] = str(int(c["EditSequence"]) + 1)  # someone edited it in QuickBooks meanwhile
        if fault and fault["code"] in (3170, 3180):
            return self._refused_save(rs, fault["code"], "Customer", c["Name"])
        if seq != c["EditSequence"]:
            return self._status(rs, 3200, "Error", "The provided edit sequence \"%s\" is out-of-date." % seq)
        for f in ("CompanyName", "Phone", "Email", "Notes"):
            if _find(mod, f) is not None:
                c[f] = _find(mod, f)
        new_name = _find(mod, "Name")
        if new_name and new_name.lower() != c["Name"].lower():
            if self._name_taken(new_name):
                return self._status(rs, 3100, "Error", f'The name "{new_name}" of the list element is already in use.')
            del self.customers[c["Name"].lower()]
            c["Name"] = new_name
            self.customers[new_name.lower()] = c
        c["EditSequence"] = str(int(c["EditSequence"]) + 1)
        c["TimeModified"] = _now()
        self._customer_ret(rs, c)
        return self._ok(rs)

    def _list_query(self, rq: ET.Element, rs: ET.Element, pool: dict[str, dict[str, Any]], write) -> ET.Element:
        ids = [e.text for e in rq.findall("ListID")]
        names = [e.text for e in rq.findall("FullName")]
        if ids or names:
            found = [o for o in pool.values() if o["ListID"] in ids or o["Name"].lower() in
                     {(n or "").lower() for n in names}]
            if not found:
                missing = (ids or names)[0]
                return self._status(rs, 500, "Warn", f'The query request has not been fully completed. There was a '
                                    f'required element ("{missing}") that could not be found in QuickBooks.')
        else:
            found = list(pool.values())
            limit = _find(rq, "MaxReturned")
            found = found[:int(limit)] if limit else found
        if not found:
            return self._status(rs, 1, "Info", "A query request did not find a matching object in QuickBooks")
        for o in found:
            write(rs, o)
        return self._ok(rs)

    def _rq_CustomerQuery(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        return self._list_query(rq, rs, self.customers, self._customer_ret)

    # ------------------------------------------------------------------------------------ accounts, items

    def _account_ret(self, parent: ET.Element, a: dict[str, Any]) -> None:
        ret = ET.SubElement(parent, "AccountRet")
        for f in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name"):
            _sub(ret, f, a[f])
        _sub(ret, "FullName", a["Name"])
        _sub(ret, "IsActive", "true")
        _sub(ret, "Sublevel", 0)
        _sub(ret, "AccountType", a["AccountType"])

    def _rq_AccountQuery(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        types = {e.text for e in rq.findall("AccountType")}
        pool = {k: v for k, v in self.accounts.items() if not types or v["AccountType"] in types}
        return self._list_query(rq, rs, pool, self._account_ret)

    def _item_ret(self, parent: ET.Element, i: dict[str, Any]) -> None:
        ret = ET.SubElement(parent, i["Ret"])
        for f in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name"):
            _sub(ret, f, i[f])
        _sub(ret, "FullName", i["Name"])
        _sub(ret, "IsActive", "true")
        _sub(ret, "Sublevel", 0)
        if i["Ret"] == "ItemInventoryRet":
            if i.get("Desc"):
                _sub(ret, "SalesDesc", i["Desc"])
            _ref(ret, "IncomeAccountRef", None, i["Account"])
            _ref(ret, "COGSAccountRef", None, i.get("COGS"))
            _ref(ret, "AssetAccountRef", None, i.get("Asset"))
            _sub(ret, "QuantityOnHand", i.get("QuantityOnHand", 0))
        else:
            sop = ET.SubElement(ret, "SalesOrPurchase")
            if i.get("Desc"):
                _sub(sop, "Desc", i["Desc"])
            _ref(sop, "AccountRef", None, i["Account"])

    def _item_add(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        add = rq.find(kind)
        name = _find(add, "Name") or ""
        if fault and fault["code"] == 3100 and name.lower() not in self.items:
            self.items[name.lower()] = {**self._list_obj(Name=name), "Ret": _ITEM_RET[kind], "Account": "Sales"}
        if fault and fault["code"] in (3170, 3180):
            return self._refused_save(rs, fault["code"], "Item", name)
        if name.lower() in self.items:
            return self._status(rs, 3100, "Error", f'The name "{name}" of the list element is already in use.')
        if kind == "ItemInventoryAdd":
            account, desc = _find(add, "IncomeAccountRef/FullName"), _find(add, "SalesDesc")
            extra = {"COGS": _find(add, "COGSAccountRef/FullName"), "Asset": _find(add, "AssetAccountRef/FullName"),
                     "QuantityOnHand": _find(add, "QuantityOnHand") or "0"}
            refs = [account, extra["COGS"], extra["Asset"]]
        else:
            base = "SalesOrPurchase" if add.find("SalesOrPurchase") is not None else "SalesAndPurchase"
            account = _find(add, f"{base}/AccountRef/FullName") or _find(add, f"{base}/IncomeAccountRef/FullName")
            desc = _find(add, f"{base}/Desc") or _find(add, f"{base}/SalesDesc")
            extra, refs = {}, [account]
        for ref in refs:
            if not ref or ref.lower() not in self.accounts:
                return self._missing_ref(rs, "Account", ref or "", "Item")
        item = {**self._list_obj(Name=name), "Ret": _ITEM_RET[kind], "Account": account, "Desc": desc, **extra}
        self.items[name.lower()] = item
        self._item_ret(rs, item)
        return self._ok(rs)

    def _rq_ItemQuery(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        return self._list_query(rq, rs, self.items, self._item_ret)

    def _rq_ItemInventoryQuery(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        pool = {k: v for k, v in self.items.items() if v["Ret"] == "ItemInventoryRet"}
        return self._iterate(rq, rs, list(pool.values()), self._item_ret)

    def _iterate(self, rq: ET.Element, rs: ET.Element, found: list[dict[str, Any]], write) -> ET.Element:
        """Iterator queries: Start returns MaxReturned objects and an iteratorID; Continue returns the next page."""
        iterator = rq.get("iterator")
        if iterator == "Continue":
            state = getattr(self, "_iterators", {}).get(rq.get("iteratorID"))
            if state is None:
                return self._status(rs, 3020, "Error", "The iteratorID is not valid or has expired.")
            found, limit = state
        else:
            limit_text = _find(rq, "MaxReturned")
            limit = int(limit_text) if limit_text else len(found) or 1
        page, rest = found[:limit], found[limit:]
        if iterator:
            self._iterators = getattr(self, "_iterators", {})
            iterator_id = rq.get("iteratorID") or "{%08X-0000-0000-0000-000000000000}" % next(self._ids)
            self._iterators[iterator_id] = (rest, limit)
            rs.set("iteratorRemainingCount", str(len(rest)))
            rs.set("iteratorID", iterator_id)
        if not page:
            return self._status(rs, 1, "Info", "A query request did not find a matching object in QuickBooks")
        for o in page:
            write(rs, o)
        return self._ok(rs)

    # ------------------------------------------------------------------------------------- transactions

    def _txn_ret(self, parent: ET.Element, t: dict[str, Any]) -> None:
        kind = t["Kind"]
        ret = ET.SubElement(parent, f"{kind}Ret")
        for f in ("TxnID", "TimeCreated", "TimeModified", "EditSequence", "TxnNumber"):
            _sub(ret, f, t[f])
        if kind == "JournalEntry":
            for f in ("TxnDate", "RefNumber"):
                if t.get(f):
                    _sub(ret, f, t[f])
            if t.get("Memo"):
                _sub(ret, "Memo", t["Memo"])
            return
        if kind == "InventoryAdjustment":
            _ref(ret, "AccountRef", None, t.get("AccountRef"))
        if t.get("CustomerRef") and kind != "InventoryAdjustment":
            c = self.customers.get(t["CustomerRef"].lower())
            _ref(ret, "CustomerRef", c["ListID"] if c else None, t["CustomerRef"])
        if t.get("ClassRef") and kind in ("SalesReceipt", "Invoice", "CreditMemo"):
            _ref(ret, "ClassRef", None, t["ClassRef"])
        for f in ("TxnDate", "RefNumber"):
            if t.get(f):
                _sub(ret, f, t[f])
        currency = ([("CurrencyRef", t.get("Currency") or self.home_currency), ("ExchangeRate", t.get("ExchangeRate"))]
                    if self.multicurrency else [])
        if kind in ("SalesReceipt", "Invoice", "CreditMemo"):
            _sub(ret, "Subtotal", t["TotalAmount"])
            if kind == "Invoice":
                _sub(ret, "AppliedAmount", f"{Decimal(0) - Decimal(t.get('AppliedAmount', '0')):.2f}")
            _sub(ret, "BalanceRemaining" if kind == "Invoice" else "TotalAmount", t.get("BalanceRemaining",
                                                                                       t["TotalAmount"]))
        if kind == "ReceivePayment":
            _sub(ret, "TotalAmount", t["TotalAmount"])
        if kind in ("SalesReceipt", "Invoice", "ReceivePayment"):
            for name, value in currency:
                if value is not None:
                    (_ref(ret, name, None, value) if name == "CurrencyRef" else _sub(ret, name, value))
        if t.get("Memo"):
            _sub(ret, "Memo", t["Memo"])
        if kind == "Invoice":
            _sub(ret, "IsPaid", "true" if Decimal(t.get("BalanceRemaining", t["TotalAmount"])) == 0 else "false")
            for link in t.get("Links", []):
                lt = ET.SubElement(ret, "LinkedTxn")
                for f in ("TxnID", "TxnType", "TxnDate", "RefNumber", "LinkType", "Amount"):
                    if link.get(f) is not None:
                        _sub(lt, f, link[f])
        if kind == "ReceivePayment":
            for applied in t.get("Applied", []):
                ar = ET.SubElement(ret, "AppliedToTxnRet")
                for f in ("TxnID", "TxnType", "TxnDate", "RefNumber", "BalanceRemaining", "Amount"):
                    if applied.get(f) is not None:
                        _sub(ar, f, applied[f])
        if kind == "SalesReceipt":
            if t.get("DepositToAccountRef"):
                _ref(ret, "DepositToAccountRef", None, t["DepositToAccountRef"])
            for n, line in enumerate(t["Lines"]):
                lr = ET.SubElement(ret, "SalesReceiptLineRet")
                _sub(lr, "TxnLineID", f"{t['TxnID'].split('-')[0]}-{n + 1}")
                _ref(lr, "ItemRef", None, line["ItemRef"])
                if line.get("Desc"):
                    _sub(lr, "Desc", line["Desc"])
                if line.get("Quantity"):
                    _sub(lr, "Quantity", line["Quantity"])
                _sub(lr, "Amount", line["Amount"])

    def _txn_add(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        add = rq.find(kind)
        doc = kind[:-3]
        label = _DOC_LABEL.get(doc, doc)
        customer = _find(add, "CustomerRef/FullName")
        if fault and fault["code"] == 3140 and customer:
            self.customers.pop(customer.lower(), None)  # someone deleted the customer in QuickBooks
        if fault and fault["code"] in (3170, 3180):
            return self._refused_save(rs, fault["code"], label, _find(add, "RefNumber") or "")
        if customer and customer.lower() not in self.customers:
            return self._missing_ref(rs, "Customer", customer, label)
        for path in ("DepositToAccountRef/FullName", "AccountRef/FullName", "ARAccountRef/FullName"):
            account = _find(add, path)
            if account and account.lower() not in self.accounts:
                return self._missing_ref(rs, "Account", account, label)
        class_name = _find(add, "ClassRef/FullName")
        if class_name and class_name.lower() not in self.classes:
            return self._missing_ref(rs, "Class", class_name, label)
        method = _find(add, "PaymentMethodRef/FullName")
        if method and method.lower() not in self.payment_methods:
            return self._missing_ref(rs, "PaymentMethod", method, label)
        if _find(add, "ExchangeRate") is not None and not self.multicurrency:
            return self._multicurrency_off(rs)
        applied: list[dict[str, Any]] = []
        if kind == "ReceivePaymentAdd":
            refused = self._apply_payment(add, rs, customer, applied)
            if refused is not None:
                return refused
        if kind == "InventoryAdjustmentAdd":  # inventory: QuantityOnHand moves (see _adjust_stock)
            refused = self._adjust_stock(add, rs, label)
            if refused is not None:
                return refused
        lines = []
        total = Decimal(0)
        line_tag = _TXN_LINES.get(kind)
        for line in add.findall(line_tag) if line_tag else []:
            item = _find(line, "ItemRef/FullName")
            if item and item.lower() not in self.items:
                return self._missing_ref(rs, "Item", item, f"{label} line")
            qty, rate, amount = _find(line, "Quantity"), _find(line, "Rate"), _find(line, "Amount")
            value = Decimal(amount) if amount is not None else Decimal(qty or 1) * Decimal(rate or 0)
            total += value
            lines.append({"ItemRef": item, "Desc": _find(line, "Desc"), "Quantity": qty, "Amount": f"{value:.2f}"})
        if kind == "ReceivePaymentAdd":
            total = Decimal(_find(add, "TotalAmount") or "0")
        if kind == "JournalEntryAdd":
            debits = sum((Decimal(_find(x, "Amount") or "0") for x in add.findall("JournalDebitLine")), Decimal(0))
            credits = sum((Decimal(_find(x, "Amount") or "0") for x in add.findall("JournalCreditLine")), Decimal(0))
            if debits != credits:
                return self._status(rs, 3040, "Error", "There was an error when converting the amount: "
                                    "the transaction is not in balance.")
            total = debits
        now = _now()
        t = {"Kind": doc, "TxnID": f"{next(self._ids):X}-{int(time.time())}", "TimeCreated": now, "TimeModified": now,
             "EditSequence": str(int(time.time())), "TxnNumber": next(self._txn_numbers), "CustomerRef": customer,
             "TxnDate": _find(add, "TxnDate") or date.today().isoformat(), "RefNumber": _find(add, "RefNumber"),
             "Memo": _find(add, "Memo"), "DepositToAccountRef": _find(add, "DepositToAccountRef/FullName"),
             "AccountRef": _find(add, "AccountRef/FullName"), "Lines": lines, "TotalAmount": f"{total:.2f}",
             "ClassRef": class_name, "ExchangeRate": _find(add, "ExchangeRate"),
             "Currency": (self.customers.get((customer or "").lower()) or {}).get("Currency")}
        if doc == "Invoice":
            t["BalanceRemaining"], t["AppliedAmount"] = f"{total:.2f}", "0.00"
        if applied:
            t["Applied"] = self._settle_payment(t, applied)
        self.txns.setdefault(doc, []).append(t)
        self._txn_ret(rs, t)
        return self._ok(rs)

    def _adjust_stock(self, add: ET.Element, rs: ET.Element, label: str) -> ET.Element | None:
        """An inventory adjustment's lines set (`NewQuantity`) or move (`QuantityDifference`) each inventory item's
        QuantityOnHand; an unknown item, or one that is not an inventory item, refuses the whole adjustment."""
        moves: list[tuple[dict[str, Any], str, Decimal]] = []
        for line in add.findall("InventoryAdjustmentLineAdd"):
            name = _find(line, "ItemRef/FullName") or ""
            item = self.items.get(name.lower())
            if item is None:
                return self._missing_ref(rs, "Item", name, f"{label} line")
            if item["Ret"] != "ItemInventoryRet":
                return self._status(rs, 3070, "Error", f'The item "{name}" is not an inventory item: only inventory '
                                    "items' quantities can be adjusted.")
            new, diff = _find(line, "QuantityAdjustment/NewQuantity"), _find(line, "QuantityAdjustment/QuantityDifference")
            if new is not None:
                moves.append((item, "set", Decimal(new)))
            elif diff is not None:
                moves.append((item, "add", Decimal(diff)))
        for item, how, qty in moves:
            held = Decimal(str(item.get("QuantityOnHand") or 0))
            item["QuantityOnHand"] = str(qty if how == "set" else held + qty)
        return None

    def _txn_query(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        pool = self.txns.get(kind[:-5], [])
        ids = {e.text for e in rq.findall("TxnID")}
        refs = {e.text for e in rq.findall("RefNumber")}
        if ids or refs:
            found = [t for t in pool if t["TxnID"] in ids or t.get("RefNumber") in refs]
            if not found and ids:
                return self._status(rs, 500, "Warn", f'The query request has not been fully completed. There was a '
                                    f'required element ("{next(iter(ids))}") that could not be found in QuickBooks.')
            if not found:
                return self._status(rs, 1, "Info", "A query request did not find a matching object in QuickBooks")
            for t in found:
                self._txn_ret(rs, t)
            return self._ok(rs)
        lo, hi = _find(rq, "TxnDateRangeFilter/FromTxnDate"), _find(rq, "TxnDateRangeFilter/ToTxnDate")
        found = [t for t in pool if (not lo or t["TxnDate"] >= lo) and (not hi or t["TxnDate"] <= hi)]
        return self._iterate(rq, rs, found, self._txn_ret)

    # ------------------------------------------------------------------------------- payments, voids, classes

    def _apply_payment(self, add: ET.Element, rs: ET.Element, customer: str | None,
                       applied: list[dict[str, Any]]) -> ET.Element | None:
        """Check each AppliedToTxnAdd as QuickBooks does: an open invoice of this customer, never paid beyond
        what it still owes, and no more applied than the payment's TotalAmount. Collects (invoice, amount)."""
        invoices = {t["TxnID"]: t for t in self.txns.get("Invoice", [])}
        total = Decimal(0)
        for node in add.findall("AppliedToTxnAdd"):
            txn_id = _find(node, "TxnID") or ""
            invoice = invoices.get(txn_id)
            if invoice is None or (invoice.get("CustomerRef") or "").lower() != (customer or "").lower():
                return self._status(rs, 3120, "Error", f'Object "{txn_id}" specified in the request cannot be found.  '
                                    "QuickBooks error message: The transaction is not an open invoice of this "
                                    "customer.")
            amount = Decimal(_find(node, "PaymentAmount") or invoice["BalanceRemaining"])
            if amount > Decimal(invoice["BalanceRemaining"]) or amount < 0:
                return self._status(rs, 3210, "Error", f'The "AppliedToTxnAdd payment amount" field has an invalid '
                                    f'value "{amount}".  QuickBooks error message: You cannot pay more than the '
                                    "amount due.")
            total += amount
            applied.append({"invoice": invoice, "amount": amount})
        paid = _find(add, "TotalAmount")
        if paid is not None and total > Decimal(paid):
            return self._status(rs, 3210, "Error", f'The "TotalAmount" field has an invalid value "{paid}".  QuickBooks '
                                "error message: The amounts applied are more than the payment amount.")
        return None

    @staticmethod
    def _settle_payment(payment: dict[str, Any], applied: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Reduce each invoice's BalanceRemaining and link the two transactions both ways."""
        out = []
        for a in applied:
            invoice, amount = a["invoice"], a["amount"]
            invoice["BalanceRemaining"] = f"{Decimal(invoice['BalanceRemaining']) - amount:.2f}"
            invoice["AppliedAmount"] = f"{Decimal(invoice['AppliedAmount']) + amount:.2f}"
            invoice.setdefault("Links", []).append({
                "TxnID": payment["TxnID"], "TxnType": "ReceivePayment", "TxnDate": payment["TxnDate"],
                "RefNumber": payment.get("RefNumber"), "LinkType": "AMTTYPE", "Amount": f"{Decimal(0) - amount:.2f}"})
            out.append({"TxnID": invoice["TxnID"], "TxnType": "Invoice", "TxnDate": invoice["TxnDate"],
                        "RefNumber": invoice.get("RefNumber"), "BalanceRemaining": invoice["BalanceRemaining"],
                        "Amount": f"{Decimal(0) - amount:.2f}"})
        return out

    def _rq_TxnVoid(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        """Voiding keeps the transaction and its RefNumber, sets its amounts to zero and prefixes its Memo with
        "VOID:", as QuickBooks does; voiding a voided transaction changes nothing."""
        txn_type, txn_id = _find(rq, "TxnVoidType") or "", _find(rq, "TxnID") or ""
        t = next((t for t in self.txns.get(txn_type, []) if t["TxnID"] == txn_id), None)
        if t is None:
            return self._status(rs, 3120, "Error", f'Object "{txn_id}" specified in the request cannot be found.')
        if fault and fault["code"] in (3170, 3180):
            return self._refused_save(rs, fault["code"], _DOC_LABEL.get(txn_type, txn_type), t.get("RefNumber") or "")
        if t.get("Links") and any(link["TxnType"] == "ReceivePayment" for link in t["Links"]):
            return self._status(rs, 3210, "Error", f'The "TxnID" field has an invalid value "{txn_id}".  QuickBooks '
                                "error message: This transaction has payments applied to it; delete or unapply the "
                                "payments before voiding it.")
        if not t.get("Voided"):
            t["Voided"] = True
            t["Memo"] = "VOID: " + (t.get("Memo") or "")
            t["TotalAmount"] = "0.00"
            if "BalanceRemaining" in t:
                t["BalanceRemaining"] = "0.00"
            for line in t.get("Lines", []):
                line["Amount"] = "0.00"
            t["TimeModified"] = _now()
            t["EditSequence"] = str(int(t["EditSequence"]) + 1)
        _sub(rs, "TxnVoidType", txn_type)
        _sub(rs, "TxnID", t["TxnID"])
        _sub(rs, "TimeCreated", t["TimeCreated"])
        _sub(rs, "TimeModified", t["TimeModified"])
        if t.get("RefNumber"):
            _sub(rs, "RefNumber", t["RefNumber"])
        return self._ok(rs)

    def _class_ret(self, parent: ET.Element, c: dict[str, Any]) -> None:
        ret = ET.SubElement(parent, "ClassRet")
        for f in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name"):
            _sub(ret, f, c[f])
        _sub(ret, "FullName", c["Name"])
        _sub(ret, "IsActive", "true")
        _sub(ret, "Sublevel", 0)

    def _rq_ClassAdd(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        name = _find(rq.find("ClassAdd"), "Name") or ""
        if name.lower() in self.classes:
            return self._status(rs, 3100, "Error", f'The name "{name}" of the list element is already in use.')
        self.classes[name.lower()] = c = self._list_obj(Name=name)
        self._class_ret(rs, c)
        return self._ok(rs)

    def _rq_PaymentMethodAdd(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        add = rq.find("PaymentMethodAdd")
        name = _find(add, "Name") or ""
        if name.lower() in self.payment_methods:
            return self._status(rs, 3100, "Error", f'The name "{name}" of the list element is already in use.')
        m = self.payment_methods[name.lower()] = self._list_obj(Name=name,
                                                                PaymentMethodType=_find(add, "PaymentMethodType"))
        ret = ET.SubElement(rs, "PaymentMethodRet")
        for f in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name"):
            _sub(ret, f, m[f])
        _sub(ret, "IsActive", "true")
        if m.get("PaymentMethodType"):
            _sub(ret, "PaymentMethodType", m["PaymentMethodType"])
        return self._ok(rs)

    def _rq_ClassQuery(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        return self._list_query(rq, rs, self.classes, self._class_ret)


# ------------------------------------------------------------------------------------ the Web Connector


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
        ticket, answer = (self.call(url, "authenticate", {"strUserName": self.username,
                                                          "strPassword": self.password}) + ["", ""])[:2]
        if answer == "nvu":
            return {"result": "nvu", "error": self.call(url, "getLastError", {"ticket": ticket})}
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


# ------------------------------------------------------------------------------------------ the sandbox


class SimulatorOptions(SandboxOptions):
    #: the Web Connector service to poll, e.g. http://127.0.0.1:8700/qbwc/ (none: poll only when asked)
    service_url: str | None = None
    username: str = "ledgerlink"
    password: str = "sandbox-qbwc-password"
    company_file: str = r"C:\Users\Public\Documents\Intuit\QuickBooks\Company Files\ledgerlink sample.qbw"
    #: seconds between polls when `service_url` is set (QBWC's shortest schedule is a minute; 0 = no loop)
    poll_every_s: float = 5.0
    #: path of qbxmlops160.xsd to validate every request against (needs lxml; the XSD is never shipped)
    xsd: str | None = None
    qbxml_major: int = 16
    qbxml_minor: int = 0
    #: the company file's Multiple Currencies preference (off, as a new QuickBooks company file has it)
    multicurrency: bool = False


class QuickBooksDesktopSimulator(Sandbox):
    """A QuickBooks Desktop company file and the Web Connector that carries its qbXML, for tests and dry runs."""

    name: ClassVar[str] = "qb_desktop"
    default_port: ClassVar[int] = 8714
    description: ClassVar[str] = "QuickBooks Desktop company file + Web Connector client (polls a ledgerlink service)"
    options_model = SimulatorOptions

    def __init__(self, **options: Any):
        super().__init__(**options)
        o = self.options
        self.company = CompanyFile(xsd=o.xsd, multicurrency=o.multicurrency)
        self.client = WebConnectorClient(self.company, username=o.username, password=o.password,
                                         company_file=o.company_file, qbxml_version=(o.qbxml_major, o.qbxml_minor))
        self._loop: threading.Thread | None = None
        self._poll_lock = threading.Lock()

    def poll(self, url: str | None = None) -> dict[str, Any]:
        target = url or self.options.service_url
        if not target:
            raise ValueError("no service URL: pass one, or start the simulator with --set service_url=…")
        with self._poll_lock:
            return self.client.poll(target)

    def _run_loop(self) -> None:
        while True:
            try:
                outcome = self.poll()
                log.info("qb_desktop simulator: poll %s", outcome)
            except Exception as exc:  # the service may not be up yet
                log.warning("qb_desktop simulator: poll failed: %s", exc)
            time.sleep(max(self.options.poll_every_s, 0.5))

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        from ledgerlink import json_dumps
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import Response

        if self.options.service_url and self.options.poll_every_s > 0 and self._loop is None:
            self._loop = threading.Thread(target=self._run_loop, name="qbwc-simulator", daemon=True)
            self._loop.start()

        async def company(request: Request) -> Response:
            return Response(json_dumps(self.company.snapshot()), media_type="application/json")

        async def faults(request: Request) -> JSONResponse:
            fault = await request.json()
            if not isinstance(fault, dict) or not (fault.get("code") or fault.get("client")):
                return JSONResponse({"error": "give {code, request?, count?} or {client, count?}"}, status_code=400)
            (self.client if fault.get("client") else self.company).add_fault(fault)
            return JSONResponse({"queued": fault})

        async def poll(request: Request) -> JSONResponse:
            body = await request.json() if await request.body() else {}
            try:
                return JSONResponse(await run_in_threadpool(self.poll, body.get("url")))
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return Starlette(routes=[Route("/_sandbox/company", company), Route("/_sandbox/faults", faults, methods=["POST"]),
                                 Route("/_sandbox/poll", poll, methods=["POST"])])
