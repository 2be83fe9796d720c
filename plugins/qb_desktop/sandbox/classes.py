"""Classes and payment methods: ClassAdd, ClassQuery and PaymentMethodAdd."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from .elements import find, sub
from .records import CompanyRecords

__all__ = ["ClassRequests"]


class ClassRequests(CompanyRecords):
    """Classes and payment methods: ClassAdd, ClassQuery and PaymentMethodAdd."""

    def _class_ret(self, parent: ET.Element, c: dict[str, Any]) -> None:
        ret = ET.SubElement(parent, "ClassRet")
        for f in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name"):
            sub(ret, f, c[f])
        sub(ret, "FullName", c["Name"])
        sub(ret, "IsActive", "true")
        sub(ret, "Sublevel", 0)

    def _rq_ClassAdd(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        name = find(rq.find("ClassAdd"), "Name") or ""
        if name.lower() in self.classes:
            return self._status(rs, 3100, "Error", f'The name "{name}" of the list element is already in use.')
        self.classes[name.lower()] = c = self._list_obj(Name=name)
        self._class_ret(rs, c)
        return self._ok(rs)

    def _rq_PaymentMethodAdd(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        add = rq.find("PaymentMethodAdd")
        name = find(add, "Name") or ""
        if name.lower() in self.payment_methods:
            return self._status(rs, 3100, "Error", f'The name "{name}" of the list element is already in use.')
        m = self.payment_methods[name.lower()] = self._list_obj(Name=name,
                                                                PaymentMethodType=find(add, "PaymentMethodType"))
        ret = ET.SubElement(rs, "PaymentMethodRet")
        for f in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name"):
            sub(ret, f, m[f])
        sub(ret, "IsActive", "true")
        if m.get("PaymentMethodType"):
            sub(ret, "PaymentMethodType", m["PaymentMethodType"])
        return self._ok(rs)

    def _rq_ClassQuery(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        return self._list_query(rq, rs, self.classes, self._class_ret)
