"""The sandbox's in-memory QuickBooks company: entities, QBO's validation rules, and its arithmetic.

It rejects what QBO rejects, with QBO's fault codes: 6240 duplicate names (DisplayName across customers,
vendors and employees; item Name), 2020 missing required fields, 2500 references to nothing, 2050 field
lengths, 6070 Amount ≠ Qty × UnitPrice, 6100 US tax codes, 5010 stale SyncToken, 610 unknown Id. Totals are
computed here, as QBO does: TotalAmt = item lines − discount + TotalTax.
"""

from __future__ import annotations

import copy
import threading
from datetime import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from . import seed
from .query import Query, matches, sort_rows
from .faults import FaultItem, SandboxFault, now_text, number, required, stale, too_long
from .order_to_cash import OrderToCashRules
from .transactions import TransactionRules

__all__ = ["SandboxFault", "FaultItem", "Company", "Features", "ENTITIES", "NAME_LISTS", "TRANSACTIONS", "now_text"]

#: URL segment → entity name
ENTITIES = {"customer": "Customer", "item": "Item", "salesreceipt": "SalesReceipt", "account": "Account",
            "vendor": "Vendor", "employee": "Employee", "invoice": "Invoice", "payment": "Payment",
            "creditmemo": "CreditMemo", "refundreceipt": "RefundReceipt", "journalentry": "JournalEntry",
            "deposit": "Deposit", "inventoryadjustment": "InventoryAdjustment", "class": "Class",
            "department": "Department", "taxcode": "TaxCode", "paymentmethod": "PaymentMethod"}
NAME_LISTS = ("Customer", "Item", "Account", "Vendor", "Employee", "Class", "Department", "TaxCode", "PaymentMethod")
TRANSACTIONS = ("SalesReceipt", "Invoice", "Payment", "CreditMemo", "RefundReceipt", "JournalEntry", "Deposit",
                "InventoryAdjustment")
_WRITABLE = ("Customer", "Item", "Account") + TRANSACTIONS
_REF_TARGETS = {"CustomerRef": "Customer", "ItemRef": "Item", "DepositToAccountRef": "Account",
                "IncomeAccountRef": "Account", "ExpenseAccountRef": "Account", "AssetAccountRef": "Account",
                "DiscountAccountRef": "Account", "AccountRef": "Account", "AdjustAccountRef": "Account",
                "ARAccountRef": "Account", "ClassRef": "Class", "DepartmentRef": "Department",
                "PaymentMethodRef": "PaymentMethod", "ParentRef": "Account"}
_NAME_FIELD = {"Customer": "DisplayName", "Vendor": "DisplayName", "Employee": "DisplayName", "Item": "Name",
               "Account": "Name", "Class": "Name", "Department": "Name", "TaxCode": "Name", "PaymentMethod": "Name"}
#: QBO answers a CDC request with at most this many objects
CDC_MAX_OBJECTS = 1000
_ITEM_TYPES = ("Inventory", "NonInventory", "Service", "Group", "Category")
@dataclass(frozen=True)
class Features:
    """The company settings that decide what may be posted (Preferences)."""

    inventory_tracking: bool = True
    class_tracking: bool = False
    track_departments: bool = False
    custom_txn_numbers: bool = True
    automated_sales_tax: bool = True


@dataclass
class Company(TransactionRules, OrderToCashRules):
    """One realm's books. Thread-safe: the sandbox serves requests concurrently."""

    realm_id: str
    home_currency: str = "USD"
    multicurrency: bool = False
    country: str = "US"
    features: Features = field(default_factory=Features)
    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: entity → Id → LastUpdatedTime of deleted objects (CDC reports them as `status: Deleted`)
    deleted: dict[str, dict[str, str]] = field(default_factory=dict)
    #: TaxCode Id → rate in percent (a non-US company's codes; see order_to_cash.py)
    tax_rates: dict[str, Decimal] = field(default_factory=dict)
    _next_id: int = 1
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        for name in ENTITIES.values():
            self.entities.setdefault(name, {})
            self.deleted.setdefault(name, {})
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
        for name, qty in seed.SEED_INVENTORY:
            self._put("Item", self._item_defaults({
                "Name": name, "Type": "Inventory", "QtyOnHand": Decimal(qty), "InvStartDate": "2024-01-01",
                "IncomeAccountRef": {"value": self.id_named("Account", "Sales of Product Income")},
                "AssetAccountRef": {"value": self.id_named("Account", "Inventory Asset")},
                "ExpenseAccountRef": {"value": self.id_named("Account", "Cost of Goods Sold")}}))
        for display, active in seed.SEED_CUSTOMERS:
            self._put("Customer", self._customer_defaults({"DisplayName": display, "Active": active}))
        for display in seed.SEED_VENDORS:
            self._put("Vendor", {"DisplayName": display, "PrintOnCheckName": display, "Active": True,
                                 "Balance": Decimal(0), "Vendor1099": False, "CurrencyRef": self._currency_ref()})
        for entity, names in (("Class", seed.SEED_CLASSES), ("Department", seed.SEED_DEPARTMENTS),
                              ("PaymentMethod", seed.SEED_PAYMENT_METHODS)):
            for name in names:
                obj = {"Name": name, "Active": True}
                if entity != "PaymentMethod":
                    obj.update({"SubClass" if entity == "Class" else "SubDepartment": False,
                                "FullyQualifiedName": name})
                else:
                    obj["Type"] = "CREDIT_CARD" if name in ("Visa", "MasterCard") else "NON_CREDIT_CARD"
                self._put(entity, obj)
        for code, description, taxable in [] if self._seed_tax_codes() else seed.SEED_TAX_CODES:
            obj = {"Name": code, "Description": description, "Active": True, "Taxable": taxable, "TaxGroup": False,
                   "Hidden": False}
            self.entities["TaxCode"][code] = self._stamp(obj, entity_id=code)  # US pseudo codes are their own Ids
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
        return seed.preferences(self.home_currency, self.multicurrency, self.id_named("Account", "Discounts given") or "",
                                self.features)

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
                                   "Object Not Found : Something you're trying to use has been made inactive. "
                                   "Check the fields with accounts, customers, items, vendors or employees.")
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
            obj = self._put(entity, obj)
            self._after_save(entity, obj, None)
            return copy.deepcopy(obj)

    def delete(self, entity: str, payload: dict[str, Any]) -> dict[str, Any]:
        """`?operation=delete` of a transaction (name lists are made inactive instead, as in QBO)."""
        if entity not in TRANSACTIONS:
            raise SandboxFault("500", "Unsupported Operation", f"Operation delete is not supported for {entity}")
        with self._lock:
            current = self.entities[entity].get(str(payload.get("Id") or ""))
            if current is None:
                raise SandboxFault("610", "Object Not Found", "Object Not Found : Another user has deleted this "
                                                              "transaction.")
            if str(payload.get("SyncToken")) != current["SyncToken"]:
                raise stale()
            self._before_delete(entity, current)
            del self.entities[entity][current["Id"]]
            self.deleted[entity][current["Id"]] = now_text()
            return {"domain": "QBO", "status": "Deleted", "Id": current["Id"]}

    def _update(self, entity: str, payload: dict[str, Any]) -> dict[str, Any]:
        current = self.entities[entity].get(str(payload["Id"]))
        if current is None:
            raise SandboxFault("610", "Object Not Found", "Object Not Found : Another user has deleted this "
                                                          "transaction.")
        if "SyncToken" not in payload:
            raise required("SyncToken")
        if str(payload["SyncToken"]) != current["SyncToken"]:
            raise stale()
        base = copy.deepcopy(current) if payload.get("sparse") else {}
        base.update(copy.deepcopy({k: v for k, v in payload.items() if k not in ("MetaData", "domain")}))
        self._before_delete(entity, current)  # an update re-applies the document's effects
        try:
            obj = self._validated(entity, base, own_id=current["Id"])
        except SandboxFault:
            self._after_save(entity, current, None)
            raise
        obj.update({"domain": "QBO", "sparse": False, "Id": current["Id"],
                    "SyncToken": str(int(current["SyncToken"]) + 1),
                    "MetaData": {"CreateTime": current["MetaData"]["CreateTime"], "LastUpdatedTime": now_text()}})
        self.entities[entity][current["Id"]] = obj
        self._after_save(entity, obj, current)
        return copy.deepcopy(obj)

    def _validated(self, entity: str, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        check: dict[str, Callable[[dict[str, Any], str | None], dict[str, Any]]] = {
            "Customer": self._customer, "Item": self._item, "Account": self._account,
            "SalesReceipt": self._sales_receipt, "Invoice": self._invoice, "CreditMemo": self._credit_memo,
            "RefundReceipt": self._refund_receipt, "Payment": self._payment, "JournalEntry": self._journal_entry,
            "Deposit": self._deposit, "InventoryAdjustment": self._inventory_adjustment}
        return check[entity](obj, own_id)

    def _ref(self, node: dict[str, Any], ref_field: str, element: str, target: str | None = None) -> None:
        """A reference must carry the Id of an existing object; its name is filled in from that object."""
        ref = node.get(ref_field)
        if ref is None:
            return
        target = target or _REF_TARGETS[ref_field]
        ref_id = str(ref.get("value") or "") if isinstance(ref, dict) else ""
        obj = self.entities[target].get(ref_id)
        if obj is None:
            label = {"Account": "Accounts"}.get(target, target)
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
            raise too_long("DisplayName", 500)
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
        if obj.get("Type") == "Inventory":
            obj["QtyOnHand"] = number(obj.get("QtyOnHand", 0), "QtyOnHand")
        for ref_field in ("IncomeAccountRef", "AssetAccountRef", "ExpenseAccountRef"):
            self._ref(obj, ref_field, ref_field)
        return obj

    def _item(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        name = str(obj.get("Name") or "")
        if not name:
            raise required("Name")
        if len(name) > 100:
            raise too_long("Name", 100)
        if ":" in name:
            raise SandboxFault("6000", "A business validation error has occurred while processing your request",
                               "Business Validation Error: The name can't contain a colon (:).", "Name")
        item_type = obj.get("Type", "Inventory")
        if item_type not in _ITEM_TYPES:
            raise SandboxFault("2170", "Invalid Enumeration", f"Invalid Enumeration : {item_type}", "Type")
        if item_type == "Inventory" and not self.features.inventory_tracking:
            raise SandboxFault("6000", "A business validation error has occurred while processing your request",
                               "Business Validation Error: Inventory items need quantity on hand tracking: turn on "
                               "Track quantity on hand in Account and settings.", "Type")
        if item_type == "Inventory" and not obj.get("InvStartDate"):
            raise required("InvStartDate")
        obj["Type"] = item_type
        self._unique(name, ("Item",), ("Item", own_id))
        needed = {"Inventory": ("IncomeAccountRef", "AssetAccountRef", "ExpenseAccountRef"),
                  "NonInventory": ("IncomeAccountRef",), "Service": ("IncomeAccountRef",)}.get(item_type, ())
        for ref_field in needed:
            if not obj.get(ref_field):
                raise required(ref_field)
        for ref_field in ("AssetAccountRef", "ExpenseAccountRef"):
            self._ref(obj, ref_field, ref_field)
        return self._item_defaults(obj)

    # ------------------------------------------------------------------------------------ change data capture

    def changes(self, entities: list[str], since: datetime, limit: int = CDC_MAX_OBJECTS
                ) -> list[tuple[str, list[dict[str, Any]]]]:
        """Per entity, objects changed at or after `since` (deleted ones as `status: Deleted` stubs), oldest
        first, at most `limit` objects in all (QBO's CDC answers 1000 at most)."""
        out: list[tuple[str, list[dict[str, Any]]]] = []
        left = limit
        with self._lock:
            for entity in entities:
                rows: list[tuple[datetime, dict[str, Any]]] = []
                for obj in self.entities[entity].values():
                    when = datetime.fromisoformat(obj["MetaData"]["LastUpdatedTime"])
                    if when >= since:
                        rows.append((when, copy.deepcopy(obj)))
                for entity_id, stamp in self.deleted[entity].items():
                    when = datetime.fromisoformat(stamp)
                    if when >= since:
                        rows.append((when, {"domain": "QBO", "status": "Deleted", "Id": entity_id,
                                            "MetaData": {"LastUpdatedTime": stamp}}))
                rows.sort(key=lambda r: r[0])
                out.append((entity, [obj for _, obj in rows[:max(left, 0)]]))
                left -= min(len(rows), max(left, 0))
        return out
