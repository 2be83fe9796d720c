"""A planned document read the way a bookkeeper reads it: customer, date, number, lines, accounts, tax, total.

Destinations shape their payloads differently (QuickBooks Online's `Line` with `SalesItemLineDetail`, the
Desktop's `SalesReceiptAdd` with `SalesReceiptLineAdd`, a journal's debit and credit lines), so this reads by
the names ledgers share (`CustomerRef`, `TxnDate`, `…AccountRef`, `Amount`) and leaves what it cannot find
empty. It is for showing and filtering the review queue; the full payload is always shown beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator

__all__ = ["DocumentSummary", "SummaryLine", "summarise"]


@dataclass
class SummaryLine:
    description: str | None = None
    item: str | None = None
    quantity: Decimal | None = None
    amount: Decimal | None = None
    account: str | None = None
    tax_code: str | None = None
    #: Debit or Credit on a journal line
    posting_type: str | None = None


@dataclass
class DocumentSummary:
    customer: str | None = None
    date: str | None = None
    number: str | None = None
    currency: str | None = None
    lines: list[SummaryLine] = field(default_factory=list)
    #: every account the document posts to (line accounts, the items' income accounts, the deposit account)
    accounts: list[str] = field(default_factory=list)
    tax: Decimal | None = None
    total: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _name(ref: Any) -> str | None:
    """A reference's readable name: QuickBooks Online {name | value}, Desktop {FullName | ListID}."""
    if isinstance(ref, dict):
        for k in ("name", "FullName", "value", "ListID"):
            if ref.get(k) not in (None, ""):
                return str(ref[k])
        return None
    return None if ref in (None, "") else str(ref)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _body(payload: dict[str, Any]) -> dict[str, Any]:
    """The document itself: a Desktop request wraps it (`{"SalesReceiptAdd": {...}}`); private `_…` keys are
    write instructions, not the document."""
    public = {k: v for k, v in payload.items() if not k.startswith("_")}
    if len(public) == 1:
        (only,) = public.values()
        if isinstance(only, dict):
            return only
    return public


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _first(node: dict[str, Any], *names: str) -> Any:
    for k, v in _walk(node):
        if k in names:
            return v
    return None


def _lines(body: dict[str, Any]) -> list[dict[str, Any]]:
    for k, v in body.items():
        if (k == "Line" or k.endswith("LineAdd") or k.endswith("LineMod") or k.endswith("Line")) \
                and isinstance(v, list):
            return [x for x in v if isinstance(x, dict)]
    return []


def _line(raw: dict[str, Any], item_accounts: dict[str, str]) -> SummaryLine:
    item = _name(_first(raw, "ItemRef"))
    account = _name(_first(raw, "AccountRef"))
    return SummaryLine(description=raw.get("Description") or raw.get("Desc") or raw.get("Memo"),
                       item=item, quantity=_decimal(_first(raw, "Qty", "Quantity")),
                       amount=_decimal(raw.get("Amount")),
                       account=account or (item_accounts.get(item) if item else None),
                       tax_code=_name(_first(raw, "TaxCodeRef", "SalesTaxCodeRef")),
                       posting_type=_first(raw, "PostingType"))


def summarise(payload: dict[str, Any], references: list[dict[str, Any]] | None = None) -> DocumentSummary:
    """Read `payload`; `references` are the payloads of the items and customers planned with it (an item's
    income account is the account its lines post to)."""
    body = _body(payload)
    item_accounts: dict[str, str] = {}
    for ref in references or []:
        ref_body = _body(ref)
        name = ref_body.get("Name") or ref_body.get("FullName")
        account = _name(_first(ref_body, "IncomeAccountRef", "AccountRef"))
        if name and account:
            item_accounts[str(name)] = account
    lines = []
    for raw in _lines(body):
        line = _line(raw, item_accounts)
        # QuickBooks Online writes a discount as a positive amount on a DiscountLineDetail line: shown as what
        # it does to the total
        if raw.get("DetailType") == "DiscountLineDetail" and line.amount is not None:
            line.amount, line.description = -line.amount, line.description or "discount"
        lines.append(line)
    accounts: list[str] = []
    for line in lines:
        if line.account and line.account not in accounts:
            accounts.append(line.account)
    for k, v in _walk({k: v for k, v in body.items() if not isinstance(v, list)}):
        if k.endswith("AccountRef") and _name(v) and _name(v) not in accounts:
            accounts.append(_name(v))  # type: ignore[arg-type]
    tax = _decimal(_first(body, "TotalTax"))
    total = _decimal(body.get("TotalAmt"))
    if total is None and lines:
        debits = [ln.amount for ln in lines if ln.posting_type == "Debit" and ln.amount is not None]
        if debits:  # a journal: its size is the sum of one side
            total = sum(debits, Decimal(0))
        else:
            total = sum((ln.amount for ln in lines if ln.amount is not None), Decimal(0)) + (tax or Decimal(0))
    return DocumentSummary(customer=_name(_first(body, "CustomerRef", "EntityRef")),
                           date=None if body.get("TxnDate") is None else str(body["TxnDate"]),
                           number=body.get("DocNumber") or body.get("RefNumber"),
                           currency=_name(body.get("CurrencyRef")), lines=lines, accounts=accounts,
                           tax=tax, total=total)
