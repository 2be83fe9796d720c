"""Transactions: sales receipts, invoices, credit memos, payments, journal entries, deposits and inventory
adjustments added and queried, with the stock they move and the account balances they change (each transaction
keeps its postings, (account, debit) pairs; a voided one no longer counts)."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

from .elements import add_ref, find, sub, timestamp
from .records import CompanyRecords

__all__ = ["TransactionRequests", "DOC_LABEL"]


TXN_LINES = {"SalesReceiptAdd": "SalesReceiptLineAdd", "InvoiceAdd": "InvoiceLineAdd",
              "CreditMemoAdd": "CreditMemoLineAdd"}
DOC_LABEL = {"SalesReceipt": "Sales Receipt", "Invoice": "Invoice", "CreditMemo": "Credit Memo",
              "ReceivePayment": "Receive Payment", "JournalEntry": "Journal Entry",
              "InventoryAdjustment": "Inventory Adjustment", "Deposit": "Deposit", "Check": "Check"}


class TransactionRequests(CompanyRecords):
    """Transactions: sales receipts, invoices, credit memos, payments, journal entries and inventory adjustments"""

    def _txn_ret(self, parent: ET.Element, t: dict[str, Any]) -> None:
        kind = t["Kind"]
        ret = ET.SubElement(parent, f"{kind}Ret")
        for f in ("TxnID", "TimeCreated", "TimeModified", "EditSequence", "TxnNumber"):
            sub(ret, f, t[f])
        if kind == "Deposit":
            sub(ret, "TxnDate", t["TxnDate"])
            add_ref(ret, "DepositToAccountRef", None, t.get("DepositToAccountRef"))
            if t.get("Memo"):
                sub(ret, "Memo", t["Memo"])
            sub(ret, "DepositTotal", t["TotalAmount"])
            return
        if kind == "Check":
            add_ref(ret, "AccountRef", None, t.get("AccountRef"))
            for f in ("RefNumber", "TxnDate"):
                if t.get(f):
                    sub(ret, f, t[f])
            sub(ret, "Amount", t["TotalAmount"])
            if t.get("Memo"):
                sub(ret, "Memo", t["Memo"])
            return
        if kind == "JournalEntry":
            for f in ("TxnDate", "RefNumber"):
                if t.get(f):
                    sub(ret, f, t[f])
            if t.get("Memo"):
                sub(ret, "Memo", t["Memo"])
            return
        if kind == "InventoryAdjustment":
            add_ref(ret, "AccountRef", None, t.get("AccountRef"))
        if t.get("CustomerRef") and kind != "InventoryAdjustment":
            c = self.customers.get(t["CustomerRef"].lower())
            add_ref(ret, "CustomerRef", c["ListID"] if c else None, t["CustomerRef"])
        if t.get("ClassRef") and kind in ("SalesReceipt", "Invoice", "CreditMemo"):
            add_ref(ret, "ClassRef", None, t["ClassRef"])
        for f in ("TxnDate", "RefNumber"):
            if t.get(f):
                sub(ret, f, t[f])
        currency = ([("CurrencyRef", t.get("Currency") or self.home_currency), ("ExchangeRate", t.get("ExchangeRate"))]
                    if self.multicurrency else [])
        if kind in ("SalesReceipt", "Invoice", "CreditMemo"):
            sub(ret, "Subtotal", t["TotalAmount"])
            if kind == "Invoice":
                sub(ret, "AppliedAmount", f"{Decimal(0) - Decimal(t.get('AppliedAmount', '0')):.2f}")
            sub(ret, "BalanceRemaining" if kind == "Invoice" else "TotalAmount", t.get("BalanceRemaining",
                                                                                       t["TotalAmount"]))
        if kind == "ReceivePayment":
            sub(ret, "TotalAmount", t["TotalAmount"])
        if kind in ("SalesReceipt", "Invoice", "ReceivePayment"):
            for name, value in currency:
                if value is not None:
                    (add_ref(ret, name, None, value) if name == "CurrencyRef" else sub(ret, name, value))
        if t.get("Memo"):
            sub(ret, "Memo", t["Memo"])
        if kind == "Invoice":
            sub(ret, "IsPaid", "true" if Decimal(t.get("BalanceRemaining", t["TotalAmount"])) == 0 else "false")
            for link in t.get("Links", []):
                lt = ET.SubElement(ret, "LinkedTxn")
                for f in ("TxnID", "TxnType", "TxnDate", "RefNumber", "LinkType", "Amount"):
                    if link.get(f) is not None:
                        sub(lt, f, link[f])
        if kind == "ReceivePayment":
            for applied in t.get("Applied", []):
                ar = ET.SubElement(ret, "AppliedToTxnRet")
                for f in ("TxnID", "TxnType", "TxnDate", "RefNumber", "BalanceRemaining", "Amount"):
                    if applied.get(f) is not None:
                        sub(ar, f, applied[f])
        if kind == "SalesReceipt":
            if t.get("DepositToAccountRef"):
                add_ref(ret, "DepositToAccountRef", None, t["DepositToAccountRef"])
            for n, line in enumerate(t["Lines"]):
                lr = ET.SubElement(ret, "SalesReceiptLineRet")
                sub(lr, "TxnLineID", f"{t['TxnID'].split('-')[0]}-{n + 1}")
                add_ref(lr, "ItemRef", None, line["ItemRef"])
                if line.get("Desc"):
                    sub(lr, "Desc", line["Desc"])
                if line.get("Quantity"):
                    sub(lr, "Quantity", line["Quantity"])
                sub(lr, "Amount", line["Amount"])

    def _txn_add(self, rq: ET.Element, rs: ET.Element, kind: str, fault: dict | None) -> ET.Element:
        add = rq.find(kind)
        doc = kind[:-3]
        label = DOC_LABEL.get(doc, doc)
        customer = find(add, "CustomerRef/FullName")
        if fault and fault["code"] == 3140 and customer:
            self.customers.pop(customer.lower(), None)  # someone deleted the customer in QuickBooks
        if fault and fault["code"] in (3170, 3180):
            return self._refused_save(rs, fault["code"], label, find(add, "RefNumber") or "")
        if customer and customer.lower() not in self.customers:
            return self._missingref(rs, "Customer", customer, label)
        for path in ("DepositToAccountRef/FullName", "AccountRef/FullName", "ARAccountRef/FullName"):
            account = find(add, path)
            if account and account.lower() not in self.accounts:
                return self._missingref(rs, "Account", account, label)
        class_name = find(add, "ClassRef/FullName")
        if class_name and class_name.lower() not in self.classes:
            return self._missingref(rs, "Class", class_name, label)
        method = find(add, "PaymentMethodRef/FullName")
        if method and method.lower() not in self.payment_methods:
            return self._missingref(rs, "PaymentMethod", method, label)
        if find(add, "ExchangeRate") is not None and not self.multicurrency:
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
        line_tag = TXN_LINES.get(kind)
        for line in add.findall(line_tag) if line_tag else []:
            item = find(line, "ItemRef/FullName")
            if item and item.lower() not in self.items:
                return self._missingref(rs, "Item", item, f"{label} line")
            qty, rate, amount = find(line, "Quantity"), find(line, "Rate"), find(line, "Amount")
            value = Decimal(amount) if amount is not None else Decimal(qty or 1) * Decimal(rate or 0)
            total += value
            lines.append({"ItemRef": item, "Desc": find(line, "Desc"), "Quantity": qty, "Amount": f"{value:.2f}"})
        if kind == "ReceivePaymentAdd":
            total = Decimal(find(add, "TotalAmount") or "0")
        if kind == "JournalEntryAdd":
            debits = sum((Decimal(find(x, "Amount") or "0") for x in add.findall("JournalDebitLine")), Decimal(0))
            credits = sum((Decimal(find(x, "Amount") or "0") for x in add.findall("JournalCreditLine")), Decimal(0))
            if debits != credits:
                return self._status(rs, 3040, "Error", "There was an error when converting the amount: "
                                    "the transaction is not in balance.")
            total = debits
        if kind == "DepositAdd":
            total = sum((Decimal(find(x, "Amount") or "0") for x in add.findall("DepositLineAdd")), Decimal(0))
        if kind == "CheckAdd":  # a cheque: its expense lines; one applied to a credit memo uses up its credit
            total = sum((Decimal(find(x, "Amount") or "0") for x in add.findall("ExpenseLineAdd")), Decimal(0))
            refused = self._apply_check(add, rs)
            if refused is not None:
                return refused
        now = timestamp()
        t = {"Kind": doc, "TxnID": f"{next(self._ids):X}-{int(time.time())}", "TimeCreated": now, "TimeModified": now,
             "EditSequence": str(int(time.time())), "TxnNumber": next(self._txn_numbers), "CustomerRef": customer,
             "TxnDate": find(add, "TxnDate") or date.today().isoformat(), "RefNumber": find(add, "RefNumber"),
             "Memo": find(add, "Memo"), "DepositToAccountRef": find(add, "DepositToAccountRef/FullName"),
             "AccountRef": find(add, "AccountRef/FullName"), "Lines": lines, "TotalAmount": f"{total:.2f}",
             "ClassRef": class_name, "ExchangeRate": find(add, "ExchangeRate"),
             "Currency": (self.customers.get((customer or "").lower()) or {}).get("Currency")}
        t["Postings"] = self._postings(kind, add, lines, total)
        if doc == "Invoice":
            t["BalanceRemaining"], t["AppliedAmount"] = f"{total:.2f}", "0.00"
        if applied:
            t["Applied"] = self._settle_payment(t, applied)
        self.txns.setdefault(doc, []).append(t)
        self._txn_ret(rs, t)
        return self._ok(rs)

    def _postings(self, kind: str, add: ET.Element, lines: list[dict[str, Any]], total: Decimal
                  ) -> list[tuple[str, Decimal]]:
        """(account, debit) pairs the transaction posts, as QuickBooks' registers show them: the money side (the
        deposit account, A/R, the bank) against each line's item or account."""
        def item_account(name: str | None) -> str:
            return str((self.items.get((name or "").lower()) or {}).get("Account") or "Sales")

        ar = find(add, "ARAccountRef/FullName") or "Accounts Receivable"
        money = find(add, "DepositToAccountRef/FullName") or "Undeposited Funds"
        out: list[tuple[str, Decimal]] = []
        if kind in ("SalesReceiptAdd", "InvoiceAdd", "CreditMemoAdd"):
            sign = Decimal(-1) if kind == "CreditMemoAdd" else Decimal(1)
            out.append((money if kind == "SalesReceiptAdd" else ar, sign * total))
            out.extend((item_account(line["ItemRef"]), -sign * Decimal(line["Amount"])) for line in lines)
        elif kind == "ReceivePaymentAdd":
            out += [(money, total), (ar, -total)]
        elif kind == "JournalEntryAdd":
            for side, sign in (("JournalDebitLine", Decimal(1)), ("JournalCreditLine", Decimal(-1))):
                out.extend((find(x, "AccountRef/FullName") or "", sign * Decimal(find(x, "Amount") or "0"))
                           for x in add.findall(side))
        elif kind == "CheckAdd":
            out.append((find(add, "AccountRef/FullName") or "", -total))
            out.extend((find(x, "AccountRef/FullName") or "", Decimal(find(x, "Amount") or "0"))
                       for x in add.findall("ExpenseLineAdd"))
        elif kind == "DepositAdd":
            out.append((find(add, "DepositToAccountRef/FullName") or "", total))
            out.extend((find(x, "AccountRef/FullName") or "", -Decimal(find(x, "Amount") or "0"))
                       for x in add.findall("DepositLineAdd"))
        return out

    def _apply_check(self, add: ET.Element, rs: ET.Element) -> ET.Element | None:
        """ApplyCheckToTxnAdd: the credit memo a refund cheque pays out must exist, with that much credit left."""
        for applied in add.findall("ApplyCheckToTxnAdd"):
            txn_id, amount = find(applied, "TxnID") or "", Decimal(find(applied, "Amount") or "0")
            memo = next((t for t in self.txns.get("CreditMemo", []) if t["TxnID"] == txn_id), None)
            if memo is None:
                return self._status(rs, 3120, "Error", f'Object "{txn_id}" specified in the request cannot be found.')
            left = Decimal(memo.get("CreditRemaining", memo["TotalAmount"]))
            if amount > left:
                return self._status(rs, 3250, "Error", f"The amount {amount} is more than the credit remaining "
                                    f"({left}) on the credit memo {memo.get('RefNumber') or txn_id}.")
            memo["CreditRemaining"] = f"{left - amount:.2f}"
        return None

    def account_balance(self, name: str) -> Decimal:
        """An account's balance, debits positive, from every transaction that is not voided."""
        wanted = name.lower()
        with self.lock:
            return sum((amount for txns in self.txns.values() for t in txns if not t.get("Voided")
                        for account, amount in t.get("Postings", []) if account.lower() == wanted), Decimal(0))

    def _adjust_stock(self, add: ET.Element, rs: ET.Element, label: str) -> ET.Element | None:
        """An inventory adjustment's lines set (`NewQuantity`) or move (`QuantityDifference`) each inventory item's
        QuantityOnHand; an unknown item, or one that is not an inventory item, refuses the whole adjustment."""
        moves: list[tuple[dict[str, Any], str, Decimal]] = []
        for line in add.findall("InventoryAdjustmentLineAdd"):
            name = find(line, "ItemRef/FullName") or ""
            item = self.items.get(name.lower())
            if item is None:
                return self._missingref(rs, "Item", name, f"{label} line")
            if item["Ret"] != "ItemInventoryRet":
                return self._status(rs, 3070, "Error", f'The item "{name}" is not an inventory item: only inventory '
                                    "items' quantities can be adjusted.")
            new, diff = find(line, "QuantityAdjustment/NewQuantity"), find(line, "QuantityAdjustment/QuantityDifference")
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
        lo, hi = find(rq, "TxnDateRangeFilter/FromTxnDate"), find(rq, "TxnDateRangeFilter/ToTxnDate")
        found = [t for t in pool if (not lo or t["TxnDate"] >= lo) and (not hi or t["TxnDate"] <= hi)]
        return self._iterate(rq, rs, found, self._txn_ret)
