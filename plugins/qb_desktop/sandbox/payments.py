"""Payments applied to invoices, and voids (TxnVoid), as QuickBooks settles and voids them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

from .elements import find, sub, timestamp
from .records import CompanyRecords
from .transactions import DOC_LABEL

__all__ = ["PaymentRequests"]


class PaymentRequests(CompanyRecords):
    """Payments applied to invoices, and voids (TxnVoid), as QuickBooks settles and voids them."""

    def _apply_payment(self, add: ET.Element, rs: ET.Element, customer: str | None,
                       applied: list[dict[str, Any]]) -> ET.Element | None:
        """Check each AppliedToTxnAdd as QuickBooks does: an open invoice of this customer, never paid beyond
        what it still owes, and no more applied than the payment's TotalAmount. Collects (invoice, amount)."""
        invoices = {t["TxnID"]: t for t in self.txns.get("Invoice", [])}
        total = Decimal(0)
        for node in add.findall("AppliedToTxnAdd"):
            txn_id = find(node, "TxnID") or ""
            invoice = invoices.get(txn_id)
            if invoice is None or (invoice.get("CustomerRef") or "").lower() != (customer or "").lower():
                return self._status(rs, 3120, "Error", f'Object "{txn_id}" specified in the request cannot be found.  '
                                    "QuickBooks error message: The transaction is not an open invoice of this "
                                    "customer.")
            amount = Decimal(find(node, "PaymentAmount") or invoice["BalanceRemaining"])
            if amount > Decimal(invoice["BalanceRemaining"]) or amount < 0:
                return self._status(rs, 3210, "Error", f'The "AppliedToTxnAdd payment amount" field has an invalid '
                                    f'value "{amount}".  QuickBooks error message: You cannot pay more than the '
                                    "amount due.")
            total += amount
            applied.append({"invoice": invoice, "amount": amount})
        paid = find(add, "TotalAmount")
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
        txn_type, txn_id = find(rq, "TxnVoidType") or "", find(rq, "TxnID") or ""
        t = next((t for t in self.txns.get(txn_type, []) if t["TxnID"] == txn_id), None)
        if t is None:
            return self._status(rs, 3120, "Error", f'Object "{txn_id}" specified in the request cannot be found.')
        if fault and fault["code"] in (3170, 3180):
            return self._refused_save(rs, fault["code"], DOC_LABEL.get(txn_type, txn_type), t.get("RefNumber") or "")
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
            t["TimeModified"] = timestamp()
            t["EditSequence"] = str(int(t["EditSequence"]) + 1)
        sub(rs, "TxnVoidType", txn_type)
        sub(rs, "TxnID", t["TxnID"])
        sub(rs, "TimeCreated", t["TimeCreated"])
        sub(rs, "TimeModified", t["TimeModified"])
        if t.get("RefNumber"):
            sub(rs, "RefNumber", t["RefNumber"])
        return self._ok(rs)
