"""The name lists the designer picks from that no other request reads: SalesTaxCodeQuery (a new US company file's
codes, Tax and Non) and PaymentMethodQuery, answered as QuickBooks does (ActiveStatus honoured)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from .elements import find, sub
from .records import CompanyRecords

__all__ = ["NameListRequests", "DEFAULT_SALES_TAX_CODES"]

#: a new US company file's sales tax codes: Name → (IsTaxable, Desc)
DEFAULT_SALES_TAX_CODES = {"Tax": (True, "Taxable Sales"), "Non": (False, "Non-Taxable Sales")}


class NameListRequests(CompanyRecords):
    """SalesTaxCodeQuery and PaymentMethodQuery."""

    @property
    def sales_tax_codes(self) -> dict[str, dict[str, Any]]:
        codes = getattr(self, "_sales_tax_codes", None)
        if codes is None:
            codes = self._sales_tax_codes = {
                name.lower(): self._list_obj(Name=name, IsTaxable=taxable, Desc=desc)
                for name, (taxable, desc) in DEFAULT_SALES_TAX_CODES.items()}
        return codes

    @staticmethod
    def _active(rq: ET.Element, pool: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        status = find(rq, "ActiveStatus") or "ActiveOnly"
        if status == "All":
            return pool
        wanted = status == "ActiveOnly"
        return {k: v for k, v in pool.items() if bool(v.get("IsActive", True)) == wanted}

    def _sales_tax_code_ret(self, parent: ET.Element, c: dict[str, Any]) -> None:
        ret = ET.SubElement(parent, "SalesTaxCodeRet")
        for f in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name"):
            sub(ret, f, c[f])
        sub(ret, "IsActive", "true" if c.get("IsActive", True) else "false")
        sub(ret, "IsTaxable", "true" if c["IsTaxable"] else "false")
        sub(ret, "Desc", c["Desc"])

    def _payment_method_ret(self, parent: ET.Element, m: dict[str, Any]) -> None:
        ret = ET.SubElement(parent, "PaymentMethodRet")
        for f in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name"):
            sub(ret, f, m[f])
        sub(ret, "IsActive", "true" if m.get("IsActive", True) else "false")
        if m.get("PaymentMethodType"):
            sub(ret, "PaymentMethodType", m["PaymentMethodType"])

    def _rq_SalesTaxCodeQuery(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        return self._list_query(rq, rs, self._active(rq, self.sales_tax_codes), self._sales_tax_code_ret)

    def _rq_PaymentMethodQuery(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        return self._list_query(rq, rs, self._active(rq, self.payment_methods), self._payment_method_ret)
