"""The sandbox's in-memory QuickBooks company: entities, QBO's validation rules, and its arithmetic.

It rejects what QBO rejects, with QBO's fault codes: 6240 duplicate names (DisplayName across customers,
vendors and employees; item Name), 2020 missing required fields, 2500 references to nothing, 2050 field
lengths, 6070 Amount ≠ Qty × UnitPrice, 6100 US tax codes, 5010 stale SyncToken, 610 unknown Id. Totals are
computed here, as QBO does: TotalAmt = item lines − discount + TotalTax.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

from . import seed
from .query import Query, matches, sort_rows

__all__ = ["SandboxFault", "FaultItem", "Company", "ENTITIES", "NAME_LISTS", "now_text"]

#: URL segment → entity name
ENTITIES = {"customer": "Customer", "item": "Item", "salesreceipt": "SalesReceipt", "account": "Account",
            "vendor": "Vendor", "employee": "Employee"}
NAME_LISTS = ("Customer", "Item", "Account", "Vendor", "Employee")
_WRITABLE = ("Customer", "Item", "SalesReceipt")
_REF_TARGETS = {"CustomerRef": "Customer", "ItemRef": "Item", "DepositToAccountRef": "Account",
                "IncomeAccountRef": "Account", "ExpenseAccountRef": "Account", "AssetAccountRef": "Account",
                "DiscountAccountRef": "Account"}
_NAME_FIELD = {"Customer": "DisplayName", "Vendor": "DisplayName", "Employee": "DisplayName", "Item": "Name",
               "Account": "Name"}
_ITEM_TYPES = ("Inventory", "NonInventory", "Service", "Group", "Category")
_CENT = Decimal("0.01")
_TZ = ZoneInfo("America/Los_Angeles")  # QBO stamps times in the company's zone; Intuit's samples are Pacific


def now_text(ms: bool = False) -> str:
    now = datetime.now(_TZ)
    return now.isoformat(timespec="milliseconds" if ms else "seconds")


@dataclass(frozen=True)
class FaultItem:
    code: str
    message: str
    detail: str
    element: str = ""


class SandboxFault(Exception):
    """A QBO fault to answer with: HTTP status, fault type and its errors."""

    def __init__(self, code: str, message: str, detail: str, element: str = "", *, status: int = 400,
                 fault_type: str = "ValidationFault"):
        super().__init__(f"{code} {message}")
        self.status, self.fault_type = status, fault_type
        self.errors = [FaultItem(code, message, detail, element)]

    def body(self) -> dict[str, Any]:
        return {"Fault": {"Error": [{"Message": e.message, "Detail": e.detail, "code": e.code, "element": e.element}
                                    for e in self.errors], "type": self.fault_type}, "time": now_text(ms=True)}


def _required(element: str) -> SandboxFault:
    return SandboxFault("2020", "Required param missing, need to supply the required value for the API",
                        f"Required parameter {element} is missing in the request", element)


def _too_long(element: str, limit: int) -> SandboxFault:
    return SandboxFault("2050", "Length exceeds limit", f"Length of the field exceeds {limit} chars", element)


def _dec(value: Any, element: str) -> Decimal:
    try:
        return Decimal(str(value))
    except Exception:  # noqa: BLE001 - any unreadable number is the same fault
        raise SandboxFault("2030", "Invalid ID", f"Invalid number for {element}: {value}", element) from None


@dataclass
class Company:
    """One realm's books. Thread-safe: the sandbox serves requests concurrently."""

    realm_id: str
    home_currency: str = "USD"
    multicurrency: bool = False
    country: str = "US"
    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    _next_id: int = 1
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        for name in ENTITIES.values():
            self.entities.setdefault(name, {})
        self._seed()

    # -------------------------------------------------------------------------------------------- seed

    def _stamp(self, obj: dict[str, Any], entity_id: str | None = None) -> dict[str, Any]:
        when = now_text()
        if entity_id is None:
            entity_id = str(self._next_id)
            self._next_id += 1
        obj.update({"domain": "QBO", "sparse": False, "Id": entity_id, "SyncToken": "0",
                    "MetaData": {"CreateTime": when, "LastUpdatedTime": when}})
        return obj

    def _currency_ref(self, code: str | None = None) -> dict[str, str]:
        code = code or self.home_currency
        return {"value": code, "name": seed.CURRENCY_NAMES.get(code, code)}

    def _seed(self) -> None:
        for name, acct_type, sub_type, classification in seed.SEED_ACCOUNTS:
            self._put("Account", {"Name": name, "SubAccount": False, "FullyQualifiedName": name, "Active": True,
                                  "Classification": classification, "AccountType": acct_type,
                                  "AccountSubType": sub_type, "CurrentBalance": Decimal(0),
                                  "CurrentBalanceWithSubAccounts": Decimal(0), "CurrencyRef": self._currency_ref()})
        for name, item_type, income in seed.SEED_ITEMS:
            self._put("Item", self._item_defaults({"Name": name, "Type": item_type,
                                                   "IncomeAccountRef": {"value": self.id_named("Account", income)}}))
        for display, active in seed.SEED_CUSTOMERS:
            self._put("Customer", self._customer_defaults({"DisplayName": display, "Active": active}))
        for display in seed.SEED_VENDORS:
            self._put("Vendor", {"DisplayName": display, "PrintOnCheckName": display, "Active": True,
                                 "Balance": Decimal(0), "Vendor1099": False, "CurrencyRef": self._currency_ref()})
        for display in seed.SEED_EMPLOYEES:
            given, _, family = display.partition(" ")
            self._put("Employee", {"DisplayName": display, "GivenName": given, "FamilyName": family,
                                   "PrintOnCheckName": display, "Active": True, "BillableTime": False})

    def _put(self, entity: str, obj: dict[str, Any]) -> dict[str, Any]:
        self._stamp(obj)
        self.entities[entity][obj["Id"]] = obj
        return obj

    def company_info(self) -> dict[str, Any]:
        return seed.company_info(self.country)

    def preferences(self) -> dict[str, Any]:
        return seed.preferences(self.home_currency, self.multicurrency, self.id_named("Account", "Discounts given") or "")

    # ------------------------------------------------------------------------------------------ reading

    def id_named(self, entity: str, name: str) -> str | None:
        key = _NAME_FIELD[entity]
        for obj in self.entities[entity].values():
            if str(obj.get(key, "")).casefold() == name.casefold():
                return obj["Id"]
        return None

    def get(self, entity: str, entity_id: str) -> dict[str, Any]:
        with self._lock:
            obj = self.entities[entity].get(str(entity_id))
            if obj is None:
                raise SandboxFault("610", "Object Not Found",
                                   f"Object Not Found : Something you're trying to use has been made inactive. "
                                   f"Check the fields with accounts, customers, items, vendors or employees.")
            return copy.deepcopy(obj)

    def query(self, q: Query) -> tuple[list[dict[str, Any]], int]:
        """(page of rows, total count). Name lists hide inactive objects unless the query names Active."""
        with self._lock:
            rows = list(self.entities[q.entity].values())
            if q.entity in NAME_LISTS and not any(c.field.lower() == "active" for c in q.conditions):
                rows = [r for r in rows if r.get("Active", True)]
            rows = [r for r in rows if matches(r, q.conditions)]
            rows = sort_rows(rows, q.order_by or [("Id", False)])
            page = rows[q.start_position - 1: q.start_position - 1 + q.max_results]
            return copy.deepcopy(page), len(rows)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {name: len(objs) for name, objs in self.entities.items()}

    # ------------------------------------------------------------------------------------------ writing

    def save(self, entity: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Create, or update when the payload carries an Id (full, or sparse with `"sparse": true`)."""
        if entity not in _WRITABLE:
            raise SandboxFault("500", "Unsupported Operation", f"Operation create is not supported for {entity}",
                               status=400)
        if not isinstance(payload, dict):
            raise SandboxFault("2310", "Invalid Request Body", "Request body is not a JSON object")
        with self._lock:
            if payload.get("Id"):
                return self._update(entity, payload)
            obj = self._validated(entity, copy.deepcopy(payload), own_id=None)
            return copy.deepcopy(self._put(entity, obj))

    def _update(self, entity: str, payload: dict[str, Any]) -> dict[str, Any]:
        current = self.entities[entity].get(str(payload["Id"]))
        if current is None:
            raise SandboxFault("610", "Object Not Found", f"Object Not Found : Another user has deleted this "
                                                          f"transaction.")
        if "SyncToken" not in payload:
            raise _required("SyncToken")
        if str(payload["SyncToken"]) != current["SyncToken"]:
            raise SandboxFault("5010", "Stale Object Error",
                               "Stale Object Error : You and ledgerlink sandbox were working on this at the same "
                               "time. ledgerlink sandbox finished before you did, so your work was not saved.")
        base = copy.deepcopy(current) if payload.get("sparse") else {}
        base.update(copy.deepcopy({k: v for k, v in payload.items() if k not in ("MetaData", "domain")}))
        obj = self._validated(entity, base, own_id=current["Id"])
        obj.update({"domain": "QBO", "sparse": False, "Id": current["Id"],
                    "SyncToken": str(int(current["SyncToken"]) + 1),
                    "MetaData": {"CreateTime": current["MetaData"]["CreateTime"], "LastUpdatedTime": now_text()}})
        self.entities[entity][current["Id"]] = obj
        return copy.deepcopy(obj)

    def _validated(self, entity: str, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        check: dict[str, Callable[[dict[str, Any], str | None], dict[str, Any]]] = {
            "Customer": self._customer, "Item": self._item, "SalesReceipt": self._sales_receipt}
        return check[entity](obj, own_id)

    def _ref(self, node: dict[str, Any], ref_field: str, element: str) -> None:
        """A reference must carry the Id of an existing object; its name is filled in from that object."""
        ref = node.get(ref_field)
        if ref is None:
            return
        target = _REF_TARGETS[ref_field]
        ref_id = str(ref.get("value") or "") if isinstance(ref, dict) else ""
        obj = self.entities[target].get(ref_id)
        if obj is None:
            label = {"Account": "Accounts", "Item": "Item", "Customer": "Customer"}[target]
            raise SandboxFault("2500", "Invalid Reference Id",
                               f"Invalid Reference Id : {label} element id {ref_id or '(none)'} not found", element)
        if obj.get("Active") is False:
            raise SandboxFault("610", "Object Not Found",
                               "Object Not Found : Something you're trying to use has been made inactive. Check the "
                               "fields with accounts, customers, items, vendors or employees.", element)
        node[ref_field] = {"value": ref_id, "name": obj.get("FullyQualifiedName") or obj.get(_NAME_FIELD[target])}

    def _currency(self, obj: dict[str, Any]) -> None:
        code = str((obj.get("CurrencyRef") or {}).get("value") or self.home_currency).upper()
        if code != self.home_currency and not self.multicurrency:
            raise SandboxFault("6000", "A business validation error has occurred while processing your request",
                               f"Business Validation Error: You can only use {self.home_currency}: multicurrency "
                               f"is not turned on for this company (supplied {code}).", "CurrencyRef")
        obj["CurrencyRef"] = self._currency_ref(code)

    def _unique(self, name: str, entities: tuple[str, ...], own: tuple[str, str | None]) -> None:
        """QBO compares names case-insensitively, ignoring surrounding spaces, inactive objects included."""
        for entity in entities:
            for obj in self.entities[entity].values():
                if (entity, obj["Id"]) == own:
                    continue
                if str(obj.get(_NAME_FIELD[entity], "")).strip().casefold() == name.strip().casefold():
                    other = "product or service" if entity == "Item" else entity.lower()
                    raise SandboxFault("6240", "Duplicate Name Exists Error",
                                       f"The name supplied already exists. : Another {other} is already using this "
                                       f"name. Please use a different name.", "")

    # --------------------------------------------------------------------------------- entity rules

    def _customer_defaults(self, obj: dict[str, Any]) -> dict[str, Any]:
        name = obj["DisplayName"]
        obj.setdefault("FullyQualifiedName", name)
        obj.setdefault("PrintOnCheckName", obj.get("CompanyName") or name)
        obj.setdefault("Active", True)
        obj.update({"Taxable": obj.get("Taxable", True), "Job": False, "BillWithParent": False,
                    "Balance": Decimal(0), "BalanceWithJobs": Decimal(0), "PreferredDeliveryMethod": "Print",
                    "IsProject": False, "CurrencyRef": self._currency_ref()})
        return obj

    def _customer(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        if not obj.get("DisplayName"):
            names = [obj.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix") if obj.get(k)]
            if not names:
                raise SandboxFault("6080", "No Name Provided", "Title, GivenName, MiddleName, FamilyName, "
                                   "DisplayName, Suffix - one of these must be non-empty", "DisplayName")
            obj["DisplayName"] = " ".join(str(n) for n in names)
        name = str(obj["DisplayName"])
        if len(name) > 500:
            raise _too_long("DisplayName", 500)
        if ":" in name:
            raise SandboxFault("6000", "A business validation error has occurred while processing your request",
                               "Business Validation Error: The name can't contain a colon (:).", "DisplayName")
        self._unique(name, ("Customer", "Vendor", "Employee"), ("Customer", own_id))
        self._currency(obj)
        code = obj["CurrencyRef"]
        obj = self._customer_defaults(obj)
        obj["CurrencyRef"] = code
        obj["FullyQualifiedName"] = name
        return obj

    def _item_defaults(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("Active", True)
        obj["FullyQualifiedName"] = obj["Name"]
        obj.setdefault("Taxable", False)
        obj.setdefault("UnitPrice", Decimal(0))
        obj.setdefault("PurchaseCost", Decimal(0))
        obj.setdefault("TrackQtyOnHand", obj.get("Type") == "Inventory")
        if "IncomeAccountRef" in obj:
            self._ref(obj, "IncomeAccountRef", "IncomeAccountRef")
        return obj

    def _item(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        name = str(obj.get("Name") or "")
        if not name:
            raise _required("Name")
        if len(name) > 100:
            raise _too_long("Name", 100)
        if ":" in name:
            raise SandboxFault("6000", "A business validation error has occurred while processing your request",
                               "Business Validation Error: The name can't contain a colon (:).", "Name")
        item_type = obj.get("Type", "Inventory")
        if item_type not in _ITEM_TYPES:
            raise SandboxFault("2170", "Invalid Enumeration", f"Invalid Enumeration : {item_type}", "Type")
        obj["Type"] = item_type
        self._unique(name, ("Item",), ("Item", own_id))
        required = {"Inventory": ("IncomeAccountRef", "AssetAccountRef", "ExpenseAccountRef"),
                    "NonInventory": ("IncomeAccountRef",), "Service": ("IncomeAccountRef",)}.get(item_type, ())
        for ref_field in required:
            if not obj.get(ref_field):
                raise _required(ref_field)
        for ref_field in ("AssetAccountRef", "ExpenseAccountRef"):
            self._ref(obj, ref_field, ref_field)
        return self._item_defaults(obj)

    def _sales_receipt(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        lines = obj.get("Line")
        if not lines:
            raise _required("Line")
        if len(str(obj.get("DocNumber") or "")) > 21:
            raise _too_long("DocNumber", 21)
        if len(str(obj.get("PrivateNote") or "")) > 4000:
            raise _too_long("PrivateNote", 4000)
        self._currency(obj)
        for ref_field in ("CustomerRef", "DepositToAccountRef"):
            self._ref(obj, ref_field, ref_field)
        if "DepositToAccountRef" not in obj:
            obj["DepositToAccountRef"] = {"value": self.id_named("Account", "Undeposited Funds"),
                                          "name": "Undeposited Funds"}
        subtotal, discount, out_lines = Decimal(0), Decimal(0), []
        item_lines = [ln for ln in lines if ln.get("DetailType") != "SubTotalLineDetail"]
        for n, line in enumerate(item_lines, start=1):
            detail_type = line.get("DetailType")
            if not detail_type:
                raise _required("Line.DetailType")
            if line.get("Amount") is None and detail_type == "SalesItemLineDetail":
                raise _required("Line.Amount")
            if detail_type == "SalesItemLineDetail":
                amount = _dec(line["Amount"], "Line.Amount")
                self._sales_item_line(line.setdefault("SalesItemLineDetail", {}), amount)
                subtotal += amount
                line.update({"Id": str(n), "LineNum": n, "Amount": amount})
            elif detail_type == "DiscountLineDetail":
                detail = line.setdefault("DiscountLineDetail", {})
                self._ref(detail, "DiscountAccountRef", "Line.DiscountLineDetail.DiscountAccountRef")
                if detail.get("PercentBased") and detail.get("DiscountPercent") is not None:
                    line["Amount"] = (subtotal * _dec(detail["DiscountPercent"], "DiscountPercent") / 100).quantize(_CENT)
                elif line.get("Amount") is None:
                    raise SandboxFault("6090", "Discount Line missing required info.",
                                       "Discount amount or percent should be provided.", "Line.DiscountLineDetail")
                discount += _dec(line["Amount"], "Line.Amount")
                line["Amount"] = _dec(line["Amount"], "Line.Amount")
            else:
                raise SandboxFault("2170", "Invalid Enumeration", f"Invalid Enumeration : {detail_type}",
                                   "Line.DetailType")
            out_lines.append(line)
        sales_lines = [ln for ln in out_lines if ln["DetailType"] == "SalesItemLineDetail"]
        others = [ln for ln in out_lines if ln["DetailType"] != "SalesItemLineDetail"]
        obj["Line"] = sales_lines + [{"Amount": subtotal, "DetailType": "SubTotalLineDetail",
                                      "SubTotalLineDetail": {}}] + others
        tax = _dec((obj.get("TxnTaxDetail") or {}).get("TotalTax") or 0, "TxnTaxDetail.TotalTax")
        obj["TxnTaxDetail"] = {**(obj.get("TxnTaxDetail") or {}), "TotalTax": tax}
        obj["TotalAmt"] = subtotal - discount + tax
        obj["Balance"] = Decimal(0)
        obj.setdefault("TxnDate", datetime.now(_TZ).date().isoformat())
        obj.setdefault("ApplyTaxAfterDiscount", False)
        obj.setdefault("PrintStatus", "NotSet")
        obj.setdefault("EmailStatus", "NotSet")
        obj.setdefault("CustomField", [])
        return obj

    def _sales_item_line(self, detail: dict[str, Any], amount: Decimal) -> None:
        if not detail.get("ItemRef"):
            raise _required("Line.SalesItemLineDetail.ItemRef")
        self._ref(detail, "ItemRef", "Line.SalesItemLineDetail.ItemRef")
        qty, price = detail.get("Qty"), detail.get("UnitPrice")
        if qty is not None and price is not None:
            product = (_dec(qty, "Qty") * _dec(price, "UnitPrice")).quantize(_CENT)
            if product != amount.quantize(_CENT):
                raise SandboxFault("6070", "Amount calculation incorrect in the request",
                                   f"Amount is not equal to Qty * UnitPrice. Supplied value:{amount}",
                                   "Line.Amount")
        code = (detail.get("TaxCodeRef") or {}).get("value")
        if self.country == "US" and code is not None and code not in ("TAX", "NON"):
            raise SandboxFault("6100", "Invalid Line TaxCode in the request",
                               f"Valid Line TaxCodes for US should be TAX or NON. Supplied value:{code}",
                               "Line.SalesItemLineDetail.TaxCodeRef")
