"""Accounts and items: AccountQuery (with each account's Balance), Item…Add (non-inventory, service, inventory),
ItemQuery and ItemInventoryQuery."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from .elements import add_ref, find, sub
from .records import CompanyRecords

__all__ = ["ItemRequests", "ITEM_RET"]


ITEM_RET = {"ItemNonInventoryAdd": "ItemNonInventoryRet", "ItemServiceAdd": "ItemServiceRet",
             "ItemInventoryAdd": "ItemInventoryRet"}
#: account types whose balance QuickBooks shows debit-positive (the others are credit-positive)
DEBIT_NATURAL = frozenset({"Bank", "AccountsReceivable", "OtherCurrentAsset", "FixedAsset", "OtherAsset", "Expense",
                           "OtherExpense", "CostOfGoodsSold"})


class ItemRequests(CompanyRecords):
    """Accounts and items: AccountQuery, Item…Add (non-inventory, service, inventory), ItemQuery and"""

    def _account_ret(self, parent: ET.Element, a: dict[str, Any]) -> None:
        ret = ET.SubElement(parent, "AccountRet")
        for f in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name"):
            sub(ret, f, a[f])
        sub(ret, "FullName", a["Name"])
        sub(ret, "IsActive", "true")
        sub(ret, "Sublevel", 0)
        sub(ret, "AccountType", a["AccountType"])
        # as the chart of accounts shows it: an asset or expense debit-positive, the rest credit-positive
        balance = self.account_balance(a["Name"])  # type: ignore[attr-defined]
        balance = balance if a["AccountType"] in DEBIT_NATURAL else -balance
        sub(ret, "Balance", f"{balance:.2f}")
        sub(ret, "TotalBalance", f"{balance:.2f}")

    def _rq_AccountQuery(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        types = {e.text for e in rq.findall("AccountType")}
        pool = {k: v for k, v in self.accounts.items() if not types or v["AccountType"] in types}
        return self._list_query(rq, rs, pool, self._account_ret)

    def _item_ret(self, parent: ET.Element, i: dict[str, Any]) -> None:
        ret = ET.SubElement(parent, i["Ret"])
        for f in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name"):
            sub(ret, f, i[f])
        sub(ret, "FullName", i["Name"])
        sub(ret, "IsActive", "true")
        sub(ret, "Sublevel", 0)
        if i["Ret"] == "ItemInventoryRet":
            if i.get("Desc"):
                sub(ret, "SalesDesc", i["Desc"])
            add_ref(ret, "IncomeAccountRef", None, i["Account"])
            add_ref(ret, "COGSAccountRef", None, i.get("COGS"))
            add_ref(ret, "AssetAccountRef", None, i.get("Asset"))
            sub(ret, "QuantityOnHand", i.get("QuantityOnHand", 0))
        else:
            sop = ET.SubElement(ret, "SalesOrPurchase")
            if i.get("Desc"):
                sub(sop, "Desc", i["Desc"])
            add_ref(sop, "AccountRef", None, i["Account"])

    def _item_add(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        add = rq.find(kind)
        name = find(add, "Name") or ""
        if fault and fault["code"] == 3100 and name.lower() not in self.items:
            self.items[name.lower()] = {**self._list_obj(Name=name), "Ret": ITEM_RET[kind], "Account": "Sales"}
        if fault and fault["code"] in (3170, 3180):
            return self._refused_save(rs, fault["code"], "Item", name)
        if name.lower() in self.items:
            return self._status(rs, 3100, "Error", f'The name "{name}" of the list element is already in use.')
        if kind == "ItemInventoryAdd":
            account, desc = find(add, "IncomeAccountRef/FullName"), find(add, "SalesDesc")
            extra = {"COGS": find(add, "COGSAccountRef/FullName"), "Asset": find(add, "AssetAccountRef/FullName"),
                     "QuantityOnHand": find(add, "QuantityOnHand") or "0"}
            refs = [account, extra["COGS"], extra["Asset"]]
        else:
            base = "SalesOrPurchase" if add.find("SalesOrPurchase") is not None else "SalesAndPurchase"
            account = find(add, f"{base}/AccountRef/FullName") or find(add, f"{base}/IncomeAccountRef/FullName")
            desc = find(add, f"{base}/Desc") or find(add, f"{base}/SalesDesc")
            extra, refs = {}, [account]
        for ref in refs:
            if not ref or ref.lower() not in self.accounts:
                return self._missingref(rs, "Account", ref or "", "Item")
        item = {**self._list_obj(Name=name), "Ret": ITEM_RET[kind], "Account": account, "Desc": desc, **extra}
        self.items[name.lower()] = item
        self._item_ret(rs, item)
        return self._ok(rs)

    def _rq_ItemQuery(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        return self._list_query(rq, rs, self.items, self._item_ret)

    def _rq_ItemInventoryQuery(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        pool = {k: v for k, v in self.items.items() if v["Ret"] == "ItemInventoryRet"}
        return self._iterate(rq, rs, list(pool.values()), self._item_ret)
