"""The sandbox company's transaction rules: what QBO checks on each document, and the arithmetic it does.

Sales forms (SalesReceipt, Invoice, CreditMemo, RefundReceipt) share one line reader: Amount = Qty × UnitPrice
(6070), item and tax code references, one discount line, a subtotal line added by QBO, TotalAmt computed.
Payments must apply to open invoices of the same customer; journal entries must balance; deposits need a
bank account; inventory adjustments only move inventory items. References must exist and be active (2500,
610), and a document that needs a feature the company has turned off is refused (6000).

A mixin of `company.Company`: it uses the company's `entities`, `features`, `_ref`, `_currency`
and `id_named`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from .faults import CENT, TZ, SandboxFault, business, number, required, too_long
from .ledger import DEBIT_NORMAL, postings

__all__ = ["TransactionRules"]

_ACCOUNT_TYPES = ("Bank", "Other Current Asset", "Fixed Asset", "Other Asset", "Accounts Receivable", "Equity",
                  "Expense", "Other Expense", "Cost of Goods Sold", "Accounts Payable", "Credit Card",
                  "Long Term Liability", "Other Current Liability", "Income", "Other Income")
_CLASSIFICATION = {"Bank": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset", "Other Asset": "Asset",
                   "Accounts Receivable": "Asset", "Equity": "Equity", "Expense": "Expense",
                   "Other Expense": "Expense", "Cost of Goods Sold": "Expense", "Accounts Payable": "Liability",
                   "Credit Card": "Liability", "Long Term Liability": "Liability",
                   "Other Current Liability": "Liability", "Income": "Revenue", "Other Income": "Revenue"}
_ENTITY_TYPES = ("Customer", "Vendor", "Employee")


def _parent_id(account: dict[str, Any]) -> str:
    parent = account.get("ParentRef")
    return str(parent.get("value") or "") if isinstance(parent, dict) else ""


def _positive(value: Any, element: str) -> Decimal:
    amount = number(value, element)
    if amount < 0:
        raise business(f"{element} can't be negative. Supplied value:{amount}", element)
    return amount


class TransactionRules:
    """Validation and effects of transactions (and accounts), for `Company`."""

    entities: dict[str, dict[str, dict[str, Any]]]
    features: Any
    home_currency: str
    country: str

    # provided by Company
    def _ref(self, node: dict[str, Any], ref_field: str, element: str, target: str | None = None) -> None: ...
    def _currency(self, obj: dict[str, Any]) -> None: ...
    def id_named(self, entity: str, name: str) -> str | None: ...
    def _exchange(self, obj: dict[str, Any]) -> None: ...
    def _codes_tax(self, lines: list[dict[str, Any]]) -> Decimal | None: ...
    def _unique(self, name: str, entities: tuple[str, ...], own: tuple[str, str | None]) -> None: ...

    # ------------------------------------------------------------------------------------------ accounts

    def _account(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        name = str(obj.get("Name") or "")
        if not name:
            raise required("Name")
        if len(name) > 100:
            raise too_long("Name", 100)
        if ":" in name or '"' in name:
            raise business("The account name can't contain a colon (:) or a double quote (\").", "Name")
        account_type = obj.get("AccountType")
        if not account_type:
            raise required("AccountType")
        if account_type not in _ACCOUNT_TYPES:
            raise SandboxFault("2170", "Invalid Enumeration", f"Invalid Enumeration : {account_type}", "AccountType")
        self._unique(name, ("Account",), ("Account", own_id))
        self._currency(obj)
        obj.setdefault("Active", True)
        obj.update({"FullyQualifiedName": name, "SubAccount": bool(obj.get("ParentRef")),
                    "Classification": _CLASSIFICATION[account_type]})
        # read-only, as in QBO: the balance is what the documents posted (ledger.py), never what a client sends
        kept = self.entities["Account"].get(own_id) if own_id is not None else None
        for balance in ("CurrentBalance", "CurrentBalanceWithSubAccounts"):
            obj[balance] = kept.get(balance, Decimal(0)) if kept is not None else Decimal(0)
        if obj.get("ParentRef"):
            self._ref(obj, "ParentRef", "ParentRef")
        return obj

    # ---------------------------------------------------------------------------------- shared checks

    def _header(self, obj: dict[str, Any]) -> None:
        """What every transaction shares: DocNumber, PrivateNote, currency, date, class and department."""
        if len(str(obj.get("DocNumber") or "")) > 21:
            raise too_long("DocNumber", 21)
        if len(str(obj.get("PrivateNote") or "")) > 4000:
            raise too_long("PrivateNote", 4000)
        self._currency(obj)
        self._exchange(obj)  # order_to_cash.py
        self._tracking(obj, "")
        obj.setdefault("TxnDate", datetime.now(TZ).date().isoformat())
        obj.setdefault("CustomField", [])

    def _tracking(self, node: dict[str, Any], where: str) -> None:
        if node.get("ClassRef") is not None:
            if not self.features.class_tracking:
                raise business("Class tracking is turned off for this company; turn on Track classes in Account "
                               "and settings > Advanced to use ClassRef.", where + "ClassRef")
            self._ref(node, "ClassRef", where + "ClassRef")
        if node.get("DepartmentRef") is not None:
            if not self.features.track_departments:
                raise business("Location tracking is turned off for this company; turn on Track locations in "
                               "Account and settings > Advanced to use DepartmentRef.", where + "DepartmentRef")
            self._ref(node, "DepartmentRef", where + "DepartmentRef")

    def _lines(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        lines = obj.get("Line")
        if not lines or not isinstance(lines, list):
            raise required("Line")
        return [ln for ln in lines if isinstance(ln, dict) and ln.get("DetailType") != "SubTotalLineDetail"]

    def _linked(self, txn_id: str, txn_type: str, element: str) -> dict[str, Any]:
        target = self.entities.get(txn_type, {}).get(str(txn_id))
        if target is None:
            raise SandboxFault("2500", "Invalid Reference Id",
                               f"Invalid Reference Id : {txn_type} element id {txn_id or '(none)'} not found", element)
        return target

    # ----------------------------------------------------------------------------------- sales forms

    def _sales_form(self, obj: dict[str, Any], entity: str) -> dict[str, Any]:
        lines = self._lines(obj)
        if entity in ("Invoice", "CreditMemo") and not obj.get("CustomerRef"):
            raise required("CustomerRef")
        if entity == "RefundReceipt" and not obj.get("DepositToAccountRef"):
            raise required("DepositToAccountRef")
        self._header(obj)
        self._ref(obj, "CustomerRef", "CustomerRef")
        if entity in ("SalesReceipt", "RefundReceipt"):
            self._ref(obj, "DepositToAccountRef", "DepositToAccountRef")
            obj.setdefault("DepositToAccountRef", {"value": self.id_named("Account", "Undeposited Funds"),
                                                   "name": "Undeposited Funds"})
        if obj.get("PaymentMethodRef") is not None:
            self._ref(obj, "PaymentMethodRef", "PaymentMethodRef")
        subtotal, discount, out_lines = Decimal(0), Decimal(0), []
        for n, line in enumerate(lines, start=1):
            detail_type = line.get("DetailType")
            if not detail_type:
                raise required("Line.DetailType")
            if detail_type == "SalesItemLineDetail":
                if line.get("Amount") is None:
                    raise required("Line.Amount")
                amount = number(line["Amount"], "Line.Amount")
                self._sales_item_line(line.setdefault("SalesItemLineDetail", {}), amount)
                subtotal += amount
                line.update({"Id": str(n), "LineNum": n, "Amount": amount})
            elif detail_type == "DiscountLineDetail":
                detail = line.setdefault("DiscountLineDetail", {})
                self._ref(detail, "DiscountAccountRef", "Line.DiscountLineDetail.DiscountAccountRef")
                if detail.get("PercentBased") and detail.get("DiscountPercent") is not None:
                    line["Amount"] = (subtotal * number(detail["DiscountPercent"], "DiscountPercent") / 100
                                      ).quantize(CENT)
                elif line.get("Amount") is None:
                    raise SandboxFault("6090", "Discount Line missing required info.",
                                       "Discount amount or percent should be provided.", "Line.DiscountLineDetail")
                line["Amount"] = number(line["Amount"], "Line.Amount")
                discount += line["Amount"]
            elif detail_type == "DescriptionOnly":
                line.update({"Id": str(n), "LineNum": n})
            else:
                raise SandboxFault("2170", "Invalid Enumeration", f"Invalid Enumeration : {detail_type}",
                                   "Line.DetailType")
            out_lines.append(line)
        sales_lines = [ln for ln in out_lines if ln["DetailType"] != "DiscountLineDetail"]
        others = [ln for ln in out_lines if ln["DetailType"] == "DiscountLineDetail"]
        obj["Line"] = sales_lines + [{"Amount": subtotal, "DetailType": "SubTotalLineDetail",
                                      "SubTotalLineDetail": {}}] + others
        tax = number((obj.get("TxnTaxDetail") or {}).get("TotalTax") or 0, "TxnTaxDetail.TotalTax")
        computed = self._codes_tax(sales_lines)  # a non-US company computes tax from its codes (order_to_cash.py)
        tax = tax if computed is None else computed
        obj["TxnTaxDetail"] = {**(obj.get("TxnTaxDetail") or {}), "TotalTax": tax}
        total = subtotal - discount + tax
        if total < 0:
            raise business(f"The {entity} total can't be negative.", "TotalAmt")
        obj["TotalAmt"] = total
        obj["Balance"] = total if entity in ("Invoice", "CreditMemo") else Decimal(0)
        if entity == "CreditMemo":
            obj["RemainingCredit"] = total
        if entity == "Invoice":
            obj.setdefault("DueDate", obj["TxnDate"])
            obj["Deposit"] = Decimal(0)
        obj.setdefault("ApplyTaxAfterDiscount", False)
        obj.setdefault("PrintStatus", "NotSet")
        obj.setdefault("EmailStatus", "NotSet")
        return obj

    def _sales_item_line(self, detail: dict[str, Any], amount: Decimal) -> None:
        if not detail.get("ItemRef"):
            raise required("Line.SalesItemLineDetail.ItemRef")
        self._ref(detail, "ItemRef", "Line.SalesItemLineDetail.ItemRef")
        self._tracking(detail, "Line.SalesItemLineDetail.")
        qty, price = detail.get("Qty"), detail.get("UnitPrice")
        # QBO reads numbers sent as strings ("10.00") and answers with numbers
        if qty is not None:
            detail["Qty"] = qty = number(qty, "Qty")
        if price is not None:
            detail["UnitPrice"] = price = number(price, "UnitPrice")
        if qty is not None and price is not None:
            product = (number(qty, "Qty") * number(price, "UnitPrice")).quantize(CENT)
            if product != amount.quantize(CENT):
                raise SandboxFault("6070", "Amount calculation incorrect in the request",
                                   f"Amount is not equal to Qty * UnitPrice. Supplied value:{amount}",
                                   "Line.Amount")
        code = (detail.get("TaxCodeRef") or {}).get("value")
        if self.country == "US" and code is not None and code not in ("TAX", "NON"):
            raise SandboxFault("6100", "Invalid Line TaxCode in the request",
                               f"Valid Line TaxCodes for US should be TAX or NON. Supplied value:{code}",
                               "Line.SalesItemLineDetail.TaxCodeRef")

    def _sales_receipt(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        return self._sales_form(obj, "SalesReceipt")

    def _invoice(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        return self._sales_form(obj, "Invoice")

    def _credit_memo(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        return self._sales_form(obj, "CreditMemo")

    def _refund_receipt(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        return self._sales_form(obj, "RefundReceipt")

    # ------------------------------------------------------------------------------------- payments

    def _payment(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        if not obj.get("CustomerRef"):
            raise required("CustomerRef")
        if obj.get("TotalAmt") is None:
            raise required("TotalAmt")
        self._header(obj)
        self._ref(obj, "CustomerRef", "CustomerRef")
        total = _positive(obj["TotalAmt"], "TotalAmt")
        for ref_field in ("DepositToAccountRef", "PaymentMethodRef", "ARAccountRef"):
            self._ref(obj, ref_field, ref_field)
        obj.setdefault("DepositToAccountRef", {"value": self.id_named("Account", "Undeposited Funds")})
        applied = Decimal(0)
        for line in obj.get("Line") or []:
            amount = _positive(line.get("Amount", 0), "Line.Amount")
            links = line.get("LinkedTxn") or []
            if not links:
                raise required("Line.LinkedTxn")
            for link in links:
                txn_type = link.get("TxnType")
                if txn_type not in ("Invoice", "CreditMemo", "JournalEntry"):
                    raise SandboxFault("2170", "Invalid Enumeration", f"Invalid Enumeration : {txn_type}",
                                       "Line.LinkedTxn.TxnType")
                target = self._linked(str(link.get("TxnId") or ""), txn_type, "Line.LinkedTxn.TxnId")
                if txn_type == "Invoice":
                    if (target.get("CustomerRef") or {}).get("value") != obj["CustomerRef"]["value"]:
                        raise business(f"Invoice {target['Id']} belongs to another customer.", "Line.LinkedTxn")
                    if amount > number(target.get("Balance", 0), "Balance"):
                        raise business(f"The payment applies {amount} to invoice {target['Id']}, whose open "
                                       f"balance is {target.get('Balance')}.", "Line.Amount")
            line["Amount"] = amount
            applied += amount
        if applied > total:
            raise business("The amount received must be at least the amounts applied to invoices.", "TotalAmt")
        obj["TotalAmt"] = total
        obj["UnappliedAmt"] = total - applied
        obj.setdefault("ProcessPayment", False)
        return obj

    # --------------------------------------------------------------------------------- journal entries

    def _journal_entry(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        lines = self._lines(obj)
        self._header(obj)
        debits = credits = Decimal(0)
        for n, line in enumerate(lines):
            if line.get("DetailType") != "JournalEntryLineDetail":
                raise SandboxFault("2170", "Invalid Enumeration",
                                   f"Invalid Enumeration : {line.get('DetailType')}", "Line.DetailType")
            if line.get("Amount") is None:
                raise required("Line.Amount")
            amount = _positive(line["Amount"], "Line.Amount")
            detail = line.get("JournalEntryLineDetail") or {}
            posting = detail.get("PostingType")
            if posting not in ("Debit", "Credit"):
                raise required("Line.JournalEntryLineDetail.PostingType")
            if not detail.get("AccountRef"):
                raise required("Line.JournalEntryLineDetail.AccountRef")
            self._ref(detail, "AccountRef", "Line.JournalEntryLineDetail.AccountRef")
            self._tracking(detail, "Line.JournalEntryLineDetail.")
            entity = detail.get("Entity")
            if entity is not None:
                kind = entity.get("Type")
                if kind not in _ENTITY_TYPES:
                    raise SandboxFault("2170", "Invalid Enumeration", f"Invalid Enumeration : {kind}",
                                       "Line.JournalEntryLineDetail.Entity.Type")
                self._ref(entity, "EntityRef", "Line.JournalEntryLineDetail.Entity.EntityRef", target=kind)
            account = self.entities["Account"][detail["AccountRef"]["value"]]
            if account.get("AccountType") == "Accounts Receivable" and (entity or {}).get("Type") != "Customer":
                raise business("When you use Accounts Receivable, you must choose a customer in the Name field.",
                               "Line.JournalEntryLineDetail.Entity")
            line.update({"Id": str(n), "Amount": amount})
            if posting == "Debit":
                debits += amount
            else:
                credits += amount
        if debits != credits:
            raise business(f"Your transaction isn't balanced: debits total {debits} and credits total {credits}. "
                           "They must be equal.", "Line")
        obj["Line"] = lines
        obj.setdefault("Adjustment", False)
        obj["TotalAmt"] = debits
        return obj

    # ----------------------------------------------------------------------------------------- deposits

    def _deposit(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        lines = self._lines(obj)
        if not obj.get("DepositToAccountRef"):
            raise required("DepositToAccountRef")
        self._header(obj)
        self._ref(obj, "DepositToAccountRef", "DepositToAccountRef")
        bank = self.entities["Account"][obj["DepositToAccountRef"]["value"]]
        if bank.get("AccountType") not in ("Bank", "Other Current Asset"):
            raise business("Deposits go to a bank or other current asset account.", "DepositToAccountRef")
        total = Decimal(0)
        for n, line in enumerate(lines, start=1):
            if line.get("Amount") is None:
                raise required("Line.Amount")
            amount = number(line["Amount"], "Line.Amount")
            links = line.get("LinkedTxn") or []
            if links:
                for link in links:
                    txn_type = link.get("TxnType")
                    if txn_type not in ("SalesReceipt", "Payment", "RefundReceipt", "JournalEntry"):
                        raise SandboxFault("2170", "Invalid Enumeration", f"Invalid Enumeration : {txn_type}",
                                           "Line.LinkedTxn.TxnType")
                    self._linked(str(link.get("TxnId") or ""), txn_type, "Line.LinkedTxn.TxnId")
                    link.setdefault("TxnLineId", "0")
                # QBO answers a line that deposits another transaction with Amount and LinkedTxn only
                line["Amount"] = amount
                total += amount
                continue
            if line.get("DetailType") != "DepositLineDetail":
                raise required("Line.DepositLineDetail")
            detail = line.get("DepositLineDetail") or {}
            if not detail.get("AccountRef"):
                raise required("Line.DepositLineDetail.AccountRef")
            self._ref(detail, "AccountRef", "Line.DepositLineDetail.AccountRef")
            self._tracking(detail, "Line.DepositLineDetail.")
            if detail.get("Entity") is not None:  # a ReferenceType whose `type` says which name list
                kind = str((detail["Entity"] or {}).get("type") or "CUSTOMER").capitalize()
                if kind not in _ENTITY_TYPES:
                    raise SandboxFault("2170", "Invalid Enumeration", f"Invalid Enumeration : {kind}",
                                       "Line.DepositLineDetail.Entity.type")
                self._ref(detail, "Entity", "Line.DepositLineDetail.Entity", target=kind)
                detail["Entity"]["type"] = kind.upper()
            if detail.get("PaymentMethodRef") is not None:
                self._ref(detail, "PaymentMethodRef", "Line.DepositLineDetail.PaymentMethodRef")
            line.update({"Id": str(n), "LineNum": n, "Amount": amount})
            total += amount
        obj["Line"] = lines
        obj["TotalAmt"] = total
        return obj

    # ------------------------------------------------------------------------------------------ inventory

    def _inventory_adjustment(self, obj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        if not self.features.inventory_tracking:
            raise business("Inventory tracking is turned off for this company; turn on Track quantity on hand "
                           "in Account and settings > Sales to adjust inventory.", "")
        lines = self._lines(obj)
        if not obj.get("AdjustAccountRef"):
            raise required("AdjustAccountRef")
        self._header(obj)
        self._ref(obj, "AdjustAccountRef", "AdjustAccountRef")
        for n, line in enumerate(lines, start=1):
            detail = line.get("ItemAdjustmentLineDetail")
            if line.get("DetailType") != "ItemAdjustmentLineDetail" or not isinstance(detail, dict):
                raise required("Line.ItemAdjustmentLineDetail")
            if not detail.get("ItemRef"):
                raise required("Line.ItemAdjustmentLineDetail.ItemRef")
            self._ref(detail, "ItemRef", "Line.ItemAdjustmentLineDetail.ItemRef")
            item = self.entities["Item"][detail["ItemRef"]["value"]]
            if item.get("Type") != "Inventory" or not item.get("TrackQtyOnHand"):
                raise business(f"Item {item['Name']} is not an inventory item: only inventory items' quantities "
                               "can be adjusted.", "Line.ItemAdjustmentLineDetail.ItemRef")
            if detail.get("QtyDiff") is None:
                raise required("Line.ItemAdjustmentLineDetail.QtyDiff")
            detail["QtyDiff"] = number(detail["QtyDiff"], "Line.ItemAdjustmentLineDetail.QtyDiff")
            self._tracking(detail, "Line.ItemAdjustmentLineDetail.")
            line.update({"Id": str(n), "LineNum": n})
        obj["Line"] = lines
        return obj

    # ------------------------------------------------------------------------------------------ effects

    def _after_save(self, entity: str, obj: dict[str, Any], previous: dict[str, Any] | None) -> None:
        """What a saved document does to other objects: payments reduce invoice balances, credit memos
        nothing yet, sales of inventory items and adjustments move QtyOnHand."""
        self._effects(entity, obj, sign=1)

    def _before_delete(self, entity: str, obj: dict[str, Any]) -> None:
        """Undo a document's effects (on delete, or before an update re-applies them)."""
        self._effects(entity, obj, sign=-1)

    def _effects(self, entity: str, obj: dict[str, Any], sign: int) -> None:
        self._post_to_ledger(entity, obj, sign)
        if entity == "Payment":
            for line in obj.get("Line") or []:
                for link in line.get("LinkedTxn") or []:
                    if link.get("TxnType") == "Invoice":
                        invoice = self.entities["Invoice"].get(str(link.get("TxnId")))
                        if invoice is not None:
                            invoice["Balance"] = number(invoice["Balance"], "Balance") - sign * number(
                                line["Amount"], "Amount")
        elif entity == "InventoryAdjustment":
            for line in obj.get("Line") or []:
                detail = line.get("ItemAdjustmentLineDetail") or {}
                self._move_stock(detail.get("ItemRef"), sign * number(detail.get("QtyDiff", 0), "QtyDiff"))
        elif entity in ("SalesReceipt", "Invoice", "CreditMemo", "RefundReceipt"):
            direction = -1 if entity in ("SalesReceipt", "Invoice") else 1
            for line in obj.get("Line") or []:
                detail = line.get("SalesItemLineDetail") or {}
                if detail.get("Qty") is not None:
                    self._move_stock(detail.get("ItemRef"), sign * direction * number(detail["Qty"], "Qty"))

    def _post_to_ledger(self, entity: str, obj: dict[str, Any], sign: int) -> None:
        """Account balances follow every document, as in QBO (ledger.py says what each one posts)."""
        for account_id, debit in postings(entity, obj, self.entities):
            account = self.entities["Account"].get(account_id)
            while account is not None:  # a sub-account's balance also counts in its parents'
                normal = 1 if account.get("Classification") in DEBIT_NORMAL else -1
                change = sign * normal * debit
                if account["Id"] == account_id:
                    account["CurrentBalance"] = number(account.get("CurrentBalance", 0), "CurrentBalance") + change
                account["CurrentBalanceWithSubAccounts"] = number(
                    account.get("CurrentBalanceWithSubAccounts", 0), "CurrentBalanceWithSubAccounts") + change
                account = self.entities["Account"].get(_parent_id(account))

    def _move_stock(self, ref: Any, qty: Decimal) -> None:
        item = self.entities["Item"].get(str((ref or {}).get("value") or ""))
        if item is not None and item.get("TrackQtyOnHand"):
            item["QtyOnHand"] = number(item.get("QtyOnHand", 0), "QtyOnHand") + qty
