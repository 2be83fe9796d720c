"""Customers: CustomerAdd, CustomerMod and CustomerQuery, as QuickBooks answers them."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from .elements import add_ref, find, sub, timestamp
from .records import CompanyRecords

__all__ = ["CustomerRequests"]


class CustomerRequests(CompanyRecords):
    """Customers: CustomerAdd, CustomerMod and CustomerQuery, as QuickBooks answers them."""

    def _customer_ret(self, parent: ET.Element, c: dict[str, Any]) -> None:
        ret = ET.SubElement(parent, "CustomerRet")
        for f in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name"):
            sub(ret, f, c[f])
        sub(ret, "FullName", c["Name"])
        sub(ret, "IsActive", "true")
        sub(ret, "Sublevel", 0)
        for f in ("CompanyName", "Phone", "Email"):
            if c.get(f):
                sub(ret, f, c[f])
        sub(ret, "Balance", "0.00")
        sub(ret, "TotalBalance", "0.00")
        if c.get("Notes"):
            sub(ret, "Notes", c["Notes"])
        if self.multicurrency:
            add_ref(ret, "CurrencyRef", None, c.get("Currency") or self.home_currency)

    def _rq_CustomerAdd(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        add = rq.find("CustomerAdd")
        name = find(add, "Name") or ""
        if fault and fault["code"] == 3100 and not self._name_taken(name):
            self.customers[name.lower()] = self._list_obj(Name=name, Notes="created by hand in QuickBooks")
        if fault and fault["code"] in (3170, 3180):
            return self._refused_save(rs, fault["code"], "Customer", name)
        if self._name_taken(name):
            return self._status(rs, 3100, "Error", f'The name "{name}" of the list element is already in use.')
        currency = find(add, "CurrencyRef/FullName")
        if currency and not self.multicurrency:
            return self._multicurrency_off(rs)
        c = self._list_obj(Name=name, **{f: find(add, f) for f in ("CompanyName", "Phone", "Email", "Notes")},
                           Currency=currency or self.home_currency)
        self.customers[name.lower()] = c
        self._customer_ret(rs, c)
        return self._ok(rs)

    def _rq_CustomerMod(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        mod = rq.find("CustomerMod")
        list_id, seq = find(mod, "ListID"), find(mod, "EditSequence")
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
            if find(mod, f) is not None:
                c[f] = find(mod, f)
        new_name = find(mod, "Name")
        if new_name and new_name.lower() != c["Name"].lower():
            if self._name_taken(new_name):
                return self._status(rs, 3100, "Error", f'The name "{new_name}" of the list element is already in use.')
            del self.customers[c["Name"].lower()]
            c["Name"] = new_name
            self.customers[new_name.lower()] = c
        c["EditSequence"] = str(int(c["EditSequence"]) + 1)
        c["TimeModified"] = timestamp()
        self._customer_ret(rs, c)
        return self._ok(rs)

    def _rq_CustomerQuery(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        return self._list_query(rq, rs, self.customers, self._customer_ret)
