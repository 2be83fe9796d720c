"""What an order's documents decide only when written: whether an earlier document of the order was posted.

A plan cannot see what an earlier sync posted, so the order-to-cash plan (orders.py) leaves instructions under a
payload's `_ledgerlink` key, which this module carries out and removes before QuickBooks sees the payload:

- `unless_posted: [target]`: skip this document if one of the targets was posted (a receipt after an invoice);
- `only_if_posted: [target]`: skip it unless one was (the payment of an invoice that may never have been);
- a LinkedTxn `{"TxnType", "ledgerlink_key", ...}`: the Id of the document posted under that key;
- a `Void` record: void (or reverse) whichever of its targets was posted.

A target is `{"TxnType", "key", "DocNumber", "TxnDate"}`: found through the reference cache (Ids of documents
written by this destination, by key) or by the same query that keeps documents from posting twice (DocNumber
or TxnDate, then the key on PrivateNote's first line). A skipped record is done without a document: its
result has no destination id and counts as already there.
"""

from __future__ import annotations

import copy
import logging
from decimal import Decimal
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ledgerlink import OutboundRecord, RecordError, RemoteError, WriteResult, request_id

from .orders import CONTROL, NOTE_PREFIX
from .revisions import suffixed

if TYPE_CHECKING:
    from ..destination import QuickBooksOnlineDestination

__all__ = ["DocumentLinks", "VOID_STREAM"]

log = logging.getLogger("ledgerlink.qbo")

#: the outbox stream of a cancelled order's void (not a QuickBooks entity: it voids or reverses one)
VOID_STREAM = "Void"
_REVERSAL = {"SalesReceipt": "RefundReceipt", "Invoice": "CreditMemo"}
_COPIED = ("CustomerRef", "CurrencyRef", "ExchangeRate", "ClassRef", "DepartmentRef", "ApplyTaxAfterDiscount")
_US_PSEUDO_CODES = ("TAX", "NON")


def _mark(key: str) -> str:
    return NOTE_PREFIX + key


def payload_copy(node: Any) -> Any:
    """A deep copy of a JSON payload (dicts, lists and immutable scalars), several times faster than
    `copy.deepcopy` (issue 18: it was a fifth of posting's CPU); anything else is deep-copied as before."""
    kind = type(node)
    if kind is dict:
        return {k: payload_copy(v) for k, v in node.items()}
    if kind is list:
        return [payload_copy(v) for v in node]
    if node is None or kind in (str, int, float, bool, Decimal):
        return node
    return copy.deepcopy(node)


class DocumentLinks:
    """Finds documents by ledgerlink key, and carries out the `_ledgerlink` instructions of a batch."""

    def __init__(self, destination: "QuickBooksOnlineDestination"):
        self.dest = destination

    # ------------------------------------------------------------------------------------------ finding

    def remember(self, stream: str, key: str, obj: dict[str, Any]) -> None:
        """A document just written (or found): its Id by key, so a later gate or link need not query."""
        if obj.get("Id"):
            self.dest.refs.put(stream, "key:" + key, str(obj["Id"]), obj.get("SyncToken"))

    def remember_all(self, stream: str, ids: dict[str, str]) -> None:
        """`remember` for a batch's documents (key → Id) in one statement (issue 18: one commit per document
        was most of a sync's posting time)."""
        self.dest.refs.put_many(stream, [("key:" + key, ref_id, None) for key, ref_id in ids.items() if ref_id])

    def _field(self, target: dict[str, Any]) -> str:
        return "DocNumber" if target.get("DocNumber") and self.dest.company.custom_txn_numbers else "TxnDate"

    def find(self, targets: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The posted documents among `targets`, by key: `{"Id": ...}` from the cache, else the row found."""
        out: dict[str, dict[str, Any]] = {}
        wanted: dict[tuple[str, str], set[str]] = {}
        for t in targets:
            cached = self.dest.refs.get(str(t["TxnType"]), "key:" + str(t["key"]))
            if cached:
                out[str(t["key"])] = {"Id": cached}
                continue
            field = self._field(t)
            if t.get(field):
                wanted.setdefault((str(t["TxnType"]), field), set()).add(str(t[field]))
        keys = {str(t["key"]) for t in targets}
        for (txn_type, field), values in wanted.items():
            for row in self.dest._api.find_many(txn_type, field, sorted(values)):
                first = str(row.get("PrivateNote") or "").split("\n", 1)[0]
                if first.startswith(NOTE_PREFIX) and first[len(NOTE_PREFIX):] in keys:
                    key = first[len(NOTE_PREFIX):]
                    if key not in out:
                        out[key] = row
                        self.remember(txn_type, key, row)
        return out

    # ------------------------------------------------------------------------------------------ documents

    def prepare(self, stream: str, records: list[OutboundRecord]
                ) -> tuple[list[OutboundRecord], dict[str, WriteResult]]:
        """The records to post (instructions carried out and removed), and the results of those skipped or
        refused. One query per batch answers every gate and link."""
        results: dict[str, WriteResult] = {}
        targets = [t for r in records for t in _targets(r.data)]
        posted: dict[str, dict[str, Any]] = {}
        if targets:
            try:
                posted = self.find(targets)
            except RemoteError as exc:  # cannot tell: posting now could post a sale twice
                for r in records:
                    if _targets(r.data):
                        results[r.key] = WriteResult(r.key, error=exc, retry=exc.kind in ("transient", "throttled"))
        out: list[OutboundRecord] = []
        for record in records:
            if record.key in results:
                continue
            control = record.data.get(CONTROL) or {}
            if any(str(t["key"]) in posted for t in control.get("unless_posted") or []):
                log.info("qbo: %s %s not posted: the order's other document was", stream, record.key)
                results[record.key] = WriteResult(record.key, created=False)
                continue
            only = control.get("only_if_posted") or []
            if only and not any(str(t["key"]) in posted for t in only):
                log.info("qbo: %s %s not needed: %s was never posted", stream, record.key,
                         ", ".join(f"{t['TxnType']} {t['key']}" for t in only))
                results[record.key] = WriteResult(record.key, created=False)
                continue
            data = payload_copy(record.data)
            data.pop(CONTROL, None)
            try:
                self._link(data, posted, record)
                if stream == "Payment" and not data.get("TxnDate"):
                    data["TxnDate"] = datetime.now(timezone.utc).date().isoformat()
                self._check_tax(record, data)
                self.fill_exchange_rate(record, data)
            except RecordError as exc:
                results[record.key] = WriteResult(record.key, error=exc)
                continue
            except RemoteError as exc:
                results[record.key] = WriteResult(record.key, error=exc, retry=exc.kind in ("transient", "throttled"))
                continue
            out.append(OutboundRecord(record.key, record.stream, data, record.attempts, record.sends))
        return out, results

    def _link(self, data: dict[str, Any], posted: dict[str, dict[str, Any]], record: OutboundRecord) -> None:
        for line in data.get("Line") or []:
            for link in line.get("LinkedTxn") or [] if isinstance(line, dict) else []:
                key = link.pop("ledgerlink_key", None)
                if key is None:
                    continue
                row = posted.get(str(key))
                if row is None:
                    raise RecordError(f"the {link.get('TxnType')} {key} it pays is not in QuickBooks", stream=record.stream,
                                      key=record.key, field="Line.LinkedTxn",
                                      hint=f"post the {link.get('TxnType')} first (see its dead letter), then retry")
                link.pop("DocNumber", None)
                link.pop("TxnDate", None)
                link["TxnId"] = str(row["Id"])

    def _check_tax(self, record: OutboundRecord, data: dict[str, Any]) -> None:
        """A company outside the US has no TAX/NON pseudo codes: say how to post with its own tax codes."""
        country = (self.dest.company.country or "US").upper()
        if country in ("US", "") or not _pseudo_codes(data):
            return
        raise RecordError(
            f"{record.stream} uses the US tax codes TAX/NON, but the QuickBooks company is in {country}",
            stream=record.stream, key=record.key, field="Line.SalesItemLineDetail.TaxCodeRef",
            hint="set the destination options tax: {mode: codes, taxable_code: <your taxed code, e.g. 'GST/HST ON'>, "
                 "exempt_code: <e.g. 'Exempt'>} (and tax.rates so a rounding line keeps the total exact)")

    def fill_exchange_rate(self, record: OutboundRecord, data: dict[str, Any]) -> None:
        """A foreign-currency document without ExchangeRate takes QuickBooks' rate for its date, sent explicitly
        so the document and its read-back agree."""
        company = self.dest.company
        currency = str((data.get("CurrencyRef") or {}).get("value") or company.home_currency).upper()
        if not company.multicurrency or currency == company.home_currency.upper() or data.get("ExchangeRate"):
            return
        as_of = str(data.get("TxnDate") or datetime.now(timezone.utc).date().isoformat())
        cached = self.dest.refs.get("ExchangeRate", f"{currency}@{as_of}")
        if not cached:
            rate = self.dest._api.exchange_rate(currency, as_of)
            cached = str(rate.get("Rate"))
            self.dest.refs.put("ExchangeRate", f"{currency}@{as_of}", cached)
        data["ExchangeRate"] = Decimal(cached).normalize()

    # ------------------------------------------------------------------------------------------ voids

    def void(self, records: list[OutboundRecord]) -> list[WriteResult]:
        """Each cancelled order's posted receipt or invoice voided (its payment first) or reversed."""
        targets = [t for r in records for t in r.data.get("targets") or []]
        try:
            posted = self.find(targets)
        except RemoteError as exc:
            return [WriteResult(r.key, error=exc, retry=exc.kind in ("transient", "throttled")) for r in records]
        out = []
        for record in records:
            try:
                out.append(self._void_one(record, posted))
            except RecordError as exc:
                out.append(WriteResult(record.key, error=exc))
            except RemoteError as exc:
                out.append(WriteResult(record.key, error=exc, retry=exc.kind in ("transient", "throttled")))
        return out

    def _void_one(self, record: OutboundRecord, posted: dict[str, dict[str, Any]]) -> WriteResult:
        found = [t for t in record.data.get("targets") or [] if str(t["key"]) in posted]
        if not found:
            log.info("qbo: %s: nothing was posted for it, nothing to void", record.key)
            return WriteResult(record.key, created=False)
        api = self.dest._api
        done: str | None = None
        for t in found:
            txn_type, row = str(t["TxnType"]), posted[str(t["key"])]
            current = api.read(txn_type, str(row["Id"]))
            if record.data.get("mode") == "reverse":
                if txn_type in _REVERSAL:
                    reversal = self._reverse(record, txn_type, current)
                    done = done or reversal
                continue  # a payment stays: the reversal credits what it paid
            if _is_void(current):
                done = done or str(current["Id"])
                continue
            voided = api.void(txn_type, str(current["Id"]), str(current["SyncToken"]),
                              request_id(f"{record.key}:{txn_type}", record.sends))
            log.info("qbo: voided %s %s (%s): %s", txn_type, voided.get("Id"), t["key"], record.data.get("reason"))
            done = done or str(voided["Id"])
        return WriteResult(record.key, destination_id=done)

    def _reverse(self, record: OutboundRecord, txn_type: str, original: dict[str, Any]) -> str:
        """A refund receipt (for a receipt) or credit memo (for an invoice) dated the cancellation, mirroring
        the posted document's lines: the original's period stays as it was closed."""
        stream = _REVERSAL[txn_type]
        number = suffixed(str(original.get("DocNumber") or original["Id"]), "C")
        mark_target = {"TxnType": stream, "key": record.key, "DocNumber": number, "TxnDate": record.data["date"]}
        existing = self.find([mark_target]).get(record.key)
        if existing is not None:
            return str(existing["Id"])
        payload: dict[str, Any] = {k: copy.deepcopy(original[k]) for k in _COPIED if original.get(k) is not None}
        lines = []
        for line in original.get("Line") or []:
            if line.get("DetailType") in ("SalesItemLineDetail", "DiscountLineDetail"):
                lines.append({k: copy.deepcopy(v) for k, v in line.items() if k not in ("Id", "LineNum", "LinkedTxn")})
        payload.update({
            "DocNumber": number, "TxnDate": record.data["date"], "Line": lines,
            "TxnTaxDetail": {"TotalTax": (original.get("TxnTaxDetail") or {}).get("TotalTax", 0)},
            "PrivateNote": f"{_mark(record.key)}\nreverses {txn_type} {original['Id']}: {record.data.get('reason')}"})
        if stream == "RefundReceipt":
            payload["DepositToAccountRef"] = copy.deepcopy(original.get("DepositToAccountRef"))
            if original.get("PaymentMethodRef"):
                payload["PaymentMethodRef"] = copy.deepcopy(original["PaymentMethodRef"])
        created = self.dest._api.create(stream, payload, request_id(record.key, record.sends))
        self.remember(stream, record.key, created)
        log.info("qbo: reversed %s %s with %s %s", txn_type, original["Id"], stream, created.get("Id"))
        return str(created["Id"])


def _is_void(doc: dict[str, Any]) -> bool:
    return str(doc.get("PrivateNote") or "").startswith("Voided") and str(doc.get("TotalAmt")) in ("0", "0.00", "0.0")


def _targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    control = data.get(CONTROL) or {}
    out = [*(control.get("unless_posted") or []), *(control.get("only_if_posted") or [])]
    for link in _links(data):
        out.append({"TxnType": link.get("TxnType"), "key": link["ledgerlink_key"], "DocNumber": link.get("DocNumber"),
                    "TxnDate": link.get("TxnDate")})
    return out


def _links(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [link for line in data.get("Line") or [] if isinstance(line, dict)
            for link in line.get("LinkedTxn") or [] if isinstance(link, dict) and link.get("ledgerlink_key")]


def _pseudo_codes(node: Any) -> bool:
    if isinstance(node, dict):
        ref = node.get("TaxCodeRef")
        if isinstance(ref, dict) and str(ref.get("value") or ref.get("name") or "") in _US_PSEUDO_CODES:
            return True
        return any(_pseudo_codes(v) for v in node.values())
    if isinstance(node, list):
        return any(_pseudo_codes(v) for v in node)
    return False
