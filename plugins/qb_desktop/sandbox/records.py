"""The company file's records and the answer shapes its request handlers share."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any
from xml.etree import ElementTree as ET

from .elements import find, timestamp

__all__ = ["CompanyRecords", "DEFAULT_ACCOUNTS", "DEFAULT_PAYMENT_METHODS"]


DEFAULT_ACCOUNTS = {
    "Sales": "Income", "Undeposited Funds": "OtherCurrentAsset", "Discounts Given": "Income",
    "Sales Tax Payable": "OtherCurrentLiability", "Cost of Goods Sold": "CostOfGoodsSold",
    "Inventory Asset": "OtherCurrentAsset", "Inventory Adjustments": "Expense", "Accounts Receivable": "AccountsReceivable",
    "Checking": "Bank",
}
DEFAULT_PAYMENT_METHODS = {"Cash": "Cash", "Check": "Check", "American Express": "AmericanExpress",
                           "Discover": "Discover", "MasterCard": "MasterCard", "Visa": "Visa", "Debit Card": "DebitCard",
                           "Gift Card": "GiftCard", "E-Check": "ECheck"}


class CompanyRecords:
    """What one company file holds (lists, transactions, queued faults), and the answers every request handler
    shares: status codes in QuickBooks' wording, list queries and iterators."""

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
        now = timestamp()
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
        return CompanyRecords._status(rs, code, "Error", message)

    @staticmethod
    def _multicurrency_off(rs: ET.Element) -> ET.Element:
        """What QuickBooks answers to a currency (CurrencyRef, ExchangeRate) while multicurrency is off."""
        return CompanyRecords._status(rs, 3250, "Error", "This feature is not enabled or not available in this version "
                                   "of QuickBooks.  QuickBooks error message: Multicurrency is turned off in this "
                                   "company file.")

    def _name_taken(self, name: str) -> bool:
        return name.lower() in self.customers

    def _missingref(self, rs: ET.Element, kind: str, name: str, where: str) -> ET.Element:
        return self._status(rs, 3140, "Error", f'There is an invalid reference to QuickBooks {kind} "{name}" in the '
                            f"{where}.  QuickBooks error message: Invalid argument.  The specified record does not "
                            "exist in the list.")

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
            limit = find(rq, "MaxReturned")
            found = found[:int(limit)] if limit else found
        if not found:
            return self._status(rs, 1, "Info", "A query request did not find a matching object in QuickBooks")
        for o in found:
            write(rs, o)
        return self._ok(rs)

    def _iterate(self, rq: ET.Element, rs: ET.Element, found: list[dict[str, Any]], write) -> ET.Element:
        """Iterator queries: Start returns MaxReturned objects and an iteratorID; Continue returns the next page."""
        iterator = rq.get("iterator")
        if iterator == "Continue":
            state = getattr(self, "_iterators", {}).get(rq.get("iteratorID"))
            if state is None:
                return self._status(rs, 3020, "Error", "The iteratorID is not valid or has expired.")
            found, limit = state
        else:
            limit_text = find(rq, "MaxReturned")
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
