"""A deferred transaction's journals: recognised at the end of the month it was sold in, reversed when released.

Amazon holds some sales (delivery date plus days, B2B invoices) and pays them in the settlement after their
release. A sale in January released in February would land in February's income; the recognition journal
(dated 31 January) credits its sales, tax and fees to their roles' accounts and debits the deferred-transactions
account (`deferred_receivable`, a balance-sheet account); the reversal (dated the release) undoes it, when the
settlement that carries the money books it. The two net to zero, the bank is untouched (the settlements still
tie) and each month's income is right. A transaction released in the month it was sold needs neither.
In per-order mode the order flow already booked the sale into clearing when it was made: the recognition holds
only the rest (fees, reimbursements), and the deferred account their balance.

Keys: `JournalEntry:<transaction>` and `JournalEntry:<transaction>/released`, linked both ways: each posts
exactly once, and a change (a corrected amount) is a revision like any journal's.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from ..connectors import idempotency_key
from ..money import quantize
from ..posting.run_cache import once_per_run
from ..settlements.accounts import AccountMap
from ..settlements.hold import SettlementOnHold
from ..settlements.journal import Journal, JournalLine
from ..settlements.roles import ORDER_FLOW_ROLES, ROLE_LABELS, Role
from .model import DeferredTransaction
from .options import DeferredOptions, parse_deferred_options

__all__ = ["build_deferral_journals", "plan_deferred", "part_role", "RELEASED_MARK", "crosses_month_end"]

RELEASED_MARK = "/released"
_WORD = re.compile(r"[^a-z]")
_ORDER = {role: n for n, role in enumerate(Role)}


def _word(text: str) -> str:
    return _WORD.sub("", text.lower())


def part_role(name: str, transaction_type: str = "") -> Role:
    """The role of a part named as the channel names it (`Sales/Principal`, `Expenses/Commission`): the same
    roles a settlement's rows take, so the recognition and the settlement use the same accounts."""
    group, _, leaf = name.rpartition("/")
    w, g = _word(leaf or name), _word(group)
    refund = _word(transaction_type) == "refund"
    if w in ("principal", "productcharges", "itemprice"):
        return Role.REFUNDS if refund else Role.SALES
    if w in ("shipping", "shippingcharge", "shippingcharges", "shippingprice"):
        return Role.SHIPPING_INCOME
    if w in ("giftwrap", "giftwrapcharge", "giftwrapprice"):
        return Role.GIFT_WRAP
    if w.startswith("marketplacefacilitator") or "withheld" in g:
        return Role.MARKETPLACE_TAX_WITHHELD
    if w in ("tax", "shippingtax", "giftwraptax", "producttax", "itemtax", "principaltax"):
        return Role.TAX_COLLECTED
    if "promotion" in w or "discount" in w:
        return Role.PROMOTIONS
    if w == "refundcommission":
        return Role.REFUND_COMMISSION
    if w in ("commission", "referralfee"):
        return Role.COMMISSION
    if "reimbursement" in w or "reimbursement" in g:
        return Role.REIMBURSEMENTS
    if w.startswith("fba"):
        return Role.FBA_FEES
    if w == "digitalservicesfee":
        return Role.DIGITAL_SERVICES_FEE
    if "expense" in g or "fee" in g or "fee" in w:
        return Role.SELLING_FEES
    return Role.OTHER_ADJUSTMENTS


def _month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def crosses_month_end(txn: DeferredTransaction, now: datetime | None = None) -> bool:
    """Whether the money stays deferred past the end of the month it was sold in: released after it, or still
    deferred and due after it (or the month has ended)."""
    end = _month_end(txn.posted_at.date())
    if txn.status == "released":
        released = txn.released_at or txn.maturity_at
        return released is not None and released.date() > end
    if txn.maturity_at is not None and txn.maturity_at.date() > end:
        return True
    return now is not None and now.date() > end


def build_deferral_journals(txn: DeferredTransaction, *, accounts: AccountMap, mode: str = "summary",
                            now: datetime | None = None, home_currency: str | None = None,
                            rate: Decimal | None = None) -> list[Journal]:
    """The recognition journal (and, once released, its reversal) of one deferred transaction; none when it is
    released within the month it was sold in. SettlementOnHold when its parts do not add up to its total.

    `home_currency` and `rate` (home units per transaction unit): the books convert settlements (the settlement
    option `convert`), so the journals post in the home currency at that rate, as the settlement's do."""
    if not crosses_month_end(txn, now):
        return []
    currency = txn.total.currency
    key = txn.natural_key
    parts_sum = sum((p.amount.amount for p in txn.parts), Decimal(0))
    others = sorted({p.amount.currency for p in txn.parts if p.amount.currency != currency})
    if others or quantize(parts_sum, currency) != quantize(txn.total.amount, currency):
        raise SettlementOnHold(key, [f"deferred transaction {txn.transaction_id}: its parts add up to "
                                     f"{quantize(parts_sum, currency)} {currency}, its total is "
                                     f"{quantize(txn.total.amount, currency)} {currency}" if not others else
                                     f"deferred transaction {txn.transaction_id} mixes {', '.join(others)} with "
                                     f"{currency}"], field="parts",
                               hint="the finances record is incomplete; read it again, then `ledgerlink dlq retry`")
    if home_currency and home_currency.upper() != currency:
        if rate is None:
            raise SettlementOnHold(key, [f"deferred transaction {txn.transaction_id} is in {currency}, the books in "
                                         f"{home_currency.upper()}, and no exchange rate is given"], field="currency",
                                   hint=f"set destination.options.settlements.exchange_rates.{currency} to "
                                        f"{home_currency.upper()} per {currency}")
        currency = home_currency.upper()
    factor = rate if rate is not None and currency != txn.total.currency else Decimal(1)
    sums: dict[Role, Decimal] = defaultdict(Decimal)
    names: dict[Role, list[str]] = defaultdict(list)
    roles = [part_role(p.name, txn.transaction_type) for p in txn.parts]
    collected = sum((p.amount.amount for p, r in zip(txn.parts, roles) if r == Role.TAX_COLLECTED), Decimal(0))
    withheld = sum((p.amount.amount for p, r in zip(txn.parts, roles) if r == Role.MARKETPLACE_TAX_WITHHELD),
                   Decimal(0))
    facilitator = withheld != 0 and collected + withheld == 0  # the marketplace's tax, not the seller's
    for part, role in zip(txn.parts, roles):
        if facilitator and role in (Role.TAX_COLLECTED, Role.MARKETPLACE_TAX_WITHHELD):
            role = Role.MARKETPLACE_TAX
        sums[role] += part.amount.amount * factor
        names[role].append(part.name)
    what = f"{txn.transaction_type} {txn.order_id or txn.transaction_id}"
    sold_on = txn.posted_at.date()
    # the recognition says nothing of the release: its payload stays the same when Amazon releases the money
    lines: list[JournalLine] = []
    for role in sorted(sums, key=_ORDER.__getitem__):
        if mode == "per_order" and role in ORDER_FLOW_ROLES:
            continue
        amount = quantize(-sums[role], currency)  # money to the seller is a credit to its role's account
        if amount:
            lines.append(JournalLine(role=role, account=accounts.account(role), amount=amount,
                                     settlement_id="", description=(
                                         f"{ROLE_LABELS[role]} ({', '.join(sorted(set(names[role])))}) - deferred "
                                         f"{what}, sold {sold_on}")[:4000]))
    total = quantize(txn.total.amount * factor, currency)
    if mode == "per_order":  # the order flow already booked the sale (into clearing): only the rest is deferred
        total -= sum((quantize(sums[r], currency) for r in ORDER_FLOW_ROLES if r in sums), Decimal(0))
    if total:
        lines.append(JournalLine(role=Role.DEFERRED_RECEIVABLE, account=accounts.account(Role.DEFERRED_RECEIVABLE),
                                 amount=total, settlement_id="",
                                 description=f"Deferred by Amazon ({txn.reason or 'deferred'}) - {what}"))
    residual = -sum((l.amount for l in lines), Decimal(0))
    if residual:  # parts rounded to cents one by one
        lines.append(JournalLine(role=Role.ROUNDING, account=accounts.account(Role.ROUNDING), amount=residual,
                                 settlement_id="", description=f"Rounding - deferred {what}"))
    if not lines:
        return []
    end = _month_end(sold_on)
    recognise_key = idempotency_key("JournalEntry", key)
    release_key = idempotency_key("JournalEntry", key + RELEASED_MARK)
    released = txn.status == "released"
    ref = txn.transaction_id[-11:]
    journals = [Journal(key=recognise_key, settlement_id=ref, natural_key=key, mode=mode,  # type: ignore[arg-type]
                        txn_date=end, currency=currency, part=1, parts=2 if released else 1,
                        period=f"{end.year:04d}-{end.month:02d}", links=[release_key] if released else [],
                        memo=(f"Deferred transaction {txn.transaction_id} ({what}, {txn.reason or 'deferred'}), sold "
                              f"{sold_on}, not released by {end}: recognised in its month"), lines=lines)]
    if released:
        on = (txn.released_at or txn.maturity_at or txn.posted_at).date()
        reversed_lines = [l.model_copy(update={"amount": -l.amount, "description": "Reversal: " + l.description,
                                               "settlement_id": txn.settlement_id or ""}) for l in lines]
        journals.append(Journal(key=release_key, settlement_id=ref, natural_key=key, mode=mode,  # type: ignore[arg-type]
                                txn_date=on, currency=currency, part=2, parts=2,
                                period=f"{on.year:04d}-{on.month:02d}", links=[recognise_key],
                                memo=(f"Deferred transaction {txn.transaction_id} released {on}"
                                      + (f" into settlement {txn.settlement_id}" if txn.settlement_id else "")
                                      + ": the recognition of " + str(end) + " reversed"),
                                lines=reversed_lines))
    return journals


def plan_deferred(txn: DeferredTransaction, ctx: object, *, now: datetime | None = None) -> list[Journal]:
    """`build_deferral_journals` with a destination's PlanContext; nothing unless `deferred.enabled`."""
    from ..settlements.options import parse_settlement_options

    def read() -> tuple[DeferredOptions, AccountMap, Any]:
        raw = getattr(ctx, "options", None)
        settlement_options = parse_settlement_options(raw)
        return parse_deferred_options(raw), settlement_options.account_map(), settlement_options

    options, accounts, settlement_options = once_per_run(ctx, "deferred:options", read)
    if not options.enabled:
        return []
    convert = settlement_options.convert and settlement_options.home_currency
    return build_deferral_journals(
        txn, accounts=accounts, mode=settlement_options.mode, now=now or datetime.now(timezone.utc),
        home_currency=settlement_options.home_currency if convert else None,
        rate=settlement_options.rate_for(txn.settlement_id or "", txn.total.currency) if convert else None)
