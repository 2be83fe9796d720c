"""Settlement → balanced journals that tie to the bank (DESIGN §4).

Each report row is credited to its role's account (money to the seller is income, money taken is expense)
and the deposit is debited to the bank, so a journal balances exactly when the rows add up to the total: the
gate checks that first. Summary mode posts every role; per-order mode sends what the order flow already posted
(sales, shipping, promotions, refunds, seller tax) to the clearing account instead, so clearing nets to zero
when the deposit lands. A settlement crossing a month end becomes one journal per month, linked through a
carried-forward account; a settlement in a foreign currency carries its rate, or is converted with an FX line.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from ..commerce import Settlement, SettlementLine
from ..connectors import idempotency_key
from ..errors import ConfigError
from ..money import quantize
from .accounts import AccountMap
from .deposit import PayoutDeposit, payout_deposit
from .grouped import grouped_parts
from ..suggest.hints import role_hint
from .hold import SettlementOnHold
from .journal import Journal, JournalLine, NettedRole, row_ranges
from .options import SettlementOptions
from .role_table import RoleTable
from .roles import ORDER_FLOW_ROLES, ROLE_LABELS, Role

__all__ = ["classify", "check_ties", "build_journals", "journals_for", "plan_journals", "plan_payout", "Classified",
           "DESCRIPTION_MAX"]

DESCRIPTION_MAX = 4000
_ROLE_ORDER = {role: n for n, role in enumerate(Role)}


@dataclass
class Classified:
    """A settlement's lines with their roles."""

    settlement: Settlement
    roles: list[Role] = field(default_factory=list)


def _currency(settlement: Settlement) -> str:
    return settlement.total.currency


def check_ties(settlement: Settlement) -> list[str]:
    """The gate before posting: every row in the settlement's currency, and the rows add up to the total to
    the cent. Returns the reasons it fails (empty when it ties)."""
    reasons = []
    cur = _currency(settlement)
    others = sorted({line.amount.currency for line in settlement.lines if line.amount.currency != cur})
    if others:
        rows = [line.row for line in settlement.lines if line.amount.currency != cur][:10]
        reasons.append(f"rows {row_ranges(rows)} are in {', '.join(others)}, the settlement in {cur}")
    else:
        rows_sum = sum((line.amount.amount for line in settlement.lines), Decimal(0))
        if quantize(rows_sum, cur) != quantize(settlement.total.amount, cur):
            reasons.append(f"its {len(settlement.lines)} rows add up to {quantize(rows_sum, cur)} {cur} but its "
                           f"total-amount is {quantize(settlement.total.amount, cur)} {cur} (difference "
                           f"{quantize(settlement.total.amount - rows_sum, cur)})")
    return reasons


def classify(settlement: Settlement, table: RoleTable) -> Classified:
    """Each line's role; on hold naming every (transaction type, amount type, description) no rule knows."""
    roles: list[Role] = []
    unknown: dict[tuple[str, str, str], list[int]] = {}
    for line in settlement.lines:
        amount_type = line.amount_type or getattr(line, "amount_column", None)  # V1: the column says it
        role = table.role_of(line.transaction_type, amount_type, line.amount_description)
        if role is None:
            unknown.setdefault((line.transaction_type or "", amount_type or "", line.amount_description or ""),
                               []).append(line.row)
            roles.append(Role.OTHER_ADJUSTMENTS)  # never used: the settlement is held below
        else:
            roles.append(role)
    if unknown:
        reasons = [f"no role for transaction-type {tt!r}, amount-type {at!r}, amount-description {desc!r} "
                   f"(rows {row_ranges(rows)})" for (tt, at, desc), rows in unknown.items()]
        raise SettlementOnHold(settlement.natural_key, reasons, field="lines",
                               hint="add a rule for it to your role file (destination.options.settlements.roles) "
                                    "naming the role it is; see ledgerlink/settlements/default_roles.yaml."
                                    + role_hint(unknown))
    _facilitator_tax(settlement.lines, roles)
    return Classified(settlement, roles)


def _facilitator_tax(lines: list[SettlementLine], roles: list[Role]) -> None:
    """Tax the marketplace collected *and* withheld is marketplace-facilitator tax, not the seller's: within one
    order item's rows, seller-tax rows that the withheld rows exactly offset are reclassified, so the pair nets
    to zero on the facilitator-tax account instead of inflating tax payable."""
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        if line.order_id and roles[i] in (Role.TAX_COLLECTED, Role.MARKETPLACE_TAX_WITHHELD):
            groups[(line.order_id, line.transaction_type, line.sku or "")].append(i)
    for members in groups.values():
        withheld = [i for i in members if roles[i] == Role.MARKETPLACE_TAX_WITHHELD]
        collected = [i for i in members if roles[i] == Role.TAX_COLLECTED]
        if not withheld or not collected:
            continue
        if sum((lines[i].amount.amount for i in members), Decimal(0)) == 0:
            for i in collected:
                roles[i] = Role.MARKETPLACE_TAX


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _period(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _posting_date(settlement: Settlement, basis: str) -> date:
    when: datetime = settlement.deposit_at if basis == "deposit" and settlement.deposit_at else settlement.ends_at
    return when.date()


@dataclass
class _Part:
    period: str
    txn_date: date
    sums: dict[Role, Decimal] = field(default_factory=dict)
    rows: dict[Role, list[int]] = field(default_factory=dict)

    def add(self, role: Role, amount: Decimal, row: int) -> None:
        self.sums[role] = self.sums.get(role, Decimal(0)) + amount
        self.rows.setdefault(role, []).append(row)

    @property
    def row_total(self) -> Decimal:
        return sum(self.sums.values(), Decimal(0))


def parts_by_line(classified: Classified, final: date, split: bool, per_order: bool) -> list[_Part]:
    """The reference: each line in turn added to its month's part (`grouped.grouped_parts` is the fast path)."""
    final_period = _period(final)
    parts: dict[str, _Part] = {}
    periods: dict[tuple[int, int], str] = {}
    for line, role in zip(classified.settlement.lines, classified.roles):
        if per_order and role in ORDER_FLOW_ROLES:
            role = Role.CLEARING
        period = final_period
        if split and line.posted_at is not None:
            month = (line.posted_at.year, line.posted_at.month)
            period = periods.get(month) or periods.setdefault(month, min(f"{month[0]:04d}-{month[1]:02d}",
                                                                         final_period))
        part = parts.get(period)
        if part is None:
            year, month = int(period[:4]), int(period[5:])
            txn_date = final if period == final_period else _month_end(year, month)
            part = parts[period] = _Part(period, txn_date)
        part.add(role, line.amount.amount, line.row)
    if final_period not in parts:
        parts[final_period] = _Part(final_period, final)
    return [parts[p] for p in sorted(parts)]


def _describe(role: Role, settlement_id: str, rows: list[int], extra: str = "") -> str:
    text = f"{ROLE_LABELS[role]}{extra} - settlement {settlement_id}"
    if rows:
        text += f" rows {row_ranges(rows)}"
    return text if len(text) <= DESCRIPTION_MAX else text[:DESCRIPTION_MAX - 3] + "..."


def build_journals(settlement: Settlement, *, table: RoleTable, accounts: AccountMap,
                   mode: str = "summary", split_by_month: bool = True, date_basis: str = "end",
                   home_currency: str | None = None, rate: Decimal | None = None, convert: bool = False,
                   deposit: Decimal | None = None, negative_total: str = "payable",
                   by_line: bool = False) -> list[Journal]:
    """The journals that post `settlement`, or SettlementOnHold saying why it cannot be posted exactly.
    `by_line` sums the lines one at a time (the reference the grouped sums are tested against)."""
    key = settlement.natural_key
    cur = _currency(settlement)
    reasons = check_ties(settlement)
    if reasons:
        raise SettlementOnHold(key, reasons, field="total",
                               hint="the report is incomplete or was parsed wrongly; fetch it again, or fix the "
                                    "parser, then `ledgerlink dlq retry`")
    foreign = home_currency is not None and home_currency.upper() != cur
    if foreign and convert and rate is None:
        raise SettlementOnHold(key, [f"the settlement is in {cur}, the books in {home_currency.upper()}, and no "
                                     f"exchange rate is given"], field="currency",
                               hint=f"set destination.options.settlements.exchange_rates."
                                    f"{settlement.settlement_id} (or .{cur}) to {home_currency.upper()} per {cur}")
    if not settlement.lines and settlement.total.amount == 0:
        return []
    per_order = mode == "per_order"
    final = _posting_date(settlement, date_basis)
    if by_line:
        parts = parts_by_line(classify(settlement, table), final, split_by_month, per_order)
    else:
        parts = grouped_parts(settlement, table, final, split_by_month, per_order, _Part, _month_end)
    total = quantize(settlement.total.amount, cur)
    deposit_role = Role.PAYABLE_TO_AMAZON if total < 0 and negative_total == "payable" else Role.BANK

    needed = {r for part in parts for r, s in part.sums.items() if s != 0} | {deposit_role}
    if len(parts) > 1:
        needed.add(Role.CARRIED_FORWARD)
    missing = accounts.missing(needed)
    if missing:
        accounts.account(missing[0])  # raises the ConfigError naming the role and the file

    base_key = idempotency_key("JournalEntry", key)
    keys = [base_key if len(parts) == 1 else idempotency_key("JournalEntry", f"{key}/{p.period}") for p in parts]
    sid = settlement.settlement_id
    journals: list[Journal] = []
    carried = Decimal(0)  # what earlier parts moved into the carried-forward account
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        lines: list[JournalLine] = []
        netted: list[NettedRole] = []
        for role in sorted(part.sums, key=_ROLE_ORDER.__getitem__):
            amount = -part.sums[role]  # credited: money to the seller is a credit to its role's account
            rows = part.rows[role]
            if amount == 0:
                netted.append(NettedRole(role=role, rows=rows))
                continue
            lines.append(JournalLine(role=role, account=accounts.account(role), amount=amount, rows=rows,
                                     settlement_id=sid, description=_describe(role, sid, rows)))
        if last and carried:  # every earlier month's balance comes back in the month the payout lands
            lines.append(JournalLine(role=Role.CARRIED_FORWARD, account=accounts.account(Role.CARRIED_FORWARD),
                                     amount=-carried, settlement_id=sid,
                                     description=_describe(Role.CARRIED_FORWARD, sid, [], " (brought forward)")))
        if last:
            if total:
                what = "Deposit" if deposit_role == Role.BANK else "Negative balance payable to Amazon"
                lines.append(JournalLine(role=deposit_role, account=accounts.account(deposit_role), amount=total,
                                         settlement_id=sid, description=f"{what} - settlement {sid}"))
        else:
            moved = quantize(part.row_total, cur)  # in cents, so every month brings back what was carried
            if moved:
                lines.append(JournalLine(role=Role.CARRIED_FORWARD, account=accounts.account(Role.CARRIED_FORWARD),
                                         amount=moved, settlement_id=sid,
                                         description=_describe(Role.CARRIED_FORWARD, sid, [], " (to next month)")))
            carried += moved
        _round_to_cents(lines, cur, accounts, sid)
        lines = _without_zero_lines(lines, netted)
        journal = Journal(key=keys[n], settlement_id=sid, natural_key=key, mode=mode,  # type: ignore[arg-type]
                          txn_date=part.txn_date, currency=cur, part=n + 1, parts=len(parts), period=part.period,
                          links=[k for k in keys if k != keys[n]], memo="", lines=lines, netted=netted)
        journals.append(journal)
    if foreign and convert:
        assert rate is not None and home_currency is not None
        converted, carried_home = [], Decimal(0)
        conversion = _Conversion(rate=rate, home=home_currency.upper(), deposit=deposit, accounts=accounts)
        for j in journals:
            final_part = j.part == j.parts
            c = _convert(j, conversion, final=final_part, brought_back=-carried_home if final_part else None)
            carried_home += sum((l.amount for l in c.lines if l.role == Role.CARRIED_FORWARD), Decimal(0))
            converted.append(c)
        journals = converted
    elif foreign:
        journals = [j.model_copy(update={"exchange_rate": rate}) for j in journals]
    for j in journals:
        j.memo = _memo(settlement, j)
    _assert_ties(settlement, journals, convert and foreign, deposit)
    return journals


def _round_to_cents(lines: list[JournalLine], currency: str, accounts: AccountMap, sid: str) -> None:
    """Rows with more than the currency's decimals: each line is rounded, and what that leaves (never more than
    half a cent a line, plus the report's own rounding of its total) goes to the rounding account, so the journal
    balances to the cent and the bank line stays the report's total."""
    for line in lines:
        line.amount = quantize(line.amount, currency)
    residual = -sum((line.amount for line in lines), Decimal(0))
    if residual:
        lines.append(JournalLine(role=Role.ROUNDING, account=accounts.account(Role.ROUNDING), amount=residual,
                                 settlement_id=sid, description=_describe(Role.ROUNDING, sid, [])))


def _without_zero_lines(lines: list[JournalLine], netted: list[NettedRole]) -> list[JournalLine]:
    """A line that rounds to nothing is not posted (ledgers refuse zero lines); its rows stay traceable."""
    for line in lines:
        if line.amount == 0 and line.rows:
            netted.append(NettedRole(role=line.role, rows=line.rows))
    return [line for line in lines if line.amount != 0]


class _Conversion(NamedTuple):
    """How a foreign-currency settlement's journals become home-currency ones: the same for each part."""

    rate: Decimal
    home: str
    #: what actually landed in the bank, in the home currency (the `deposits` option), if known
    deposit: Decimal | None
    accounts: AccountMap


def _convert(journal: Journal, conversion: _Conversion, *, final: bool,
             brought_back: Decimal | None = None) -> Journal:
    """The journal in the home currency: each line converted at `rate`; the bank line is what actually landed
    (the `deposits` option) and the difference from the converted total is the FX line; what per-line rounding
    leaves is the rounding line. `brought_back` is the home-currency balance earlier months carried forward."""
    rate, home, deposit, accounts = conversion
    sid = journal.settlement_id
    lines: list[JournalLine] = []
    bank_line: JournalLine | None = None
    for line in journal.lines:
        amount = quantize(line.amount * rate, home)
        if line.role == Role.CARRIED_FORWARD and brought_back is not None:
            amount = brought_back  # exactly what the earlier months carried, in the home currency
        converted = line.model_copy(update={"amount": amount, "source_amount": line.amount})
        if line.role in (Role.BANK, Role.PAYABLE_TO_AMAZON) and not line.rows:
            bank_line = converted
        else:
            lines.append(converted)
    if bank_line is not None:
        lines.append(bank_line)
    residual = -sum((line.amount for line in lines), Decimal(0))
    if residual:
        lines.append(JournalLine(role=Role.ROUNDING, account=accounts.account(Role.ROUNDING), amount=residual,
                                 settlement_id=sid, description=_describe(Role.ROUNDING, sid, [], " (conversion)")))
    if final and deposit is not None and bank_line is not None and bank_line.amount != deposit:
        fx = bank_line.amount - deposit
        bank_line.amount = quantize(deposit, home)
        lines.append(JournalLine(role=Role.FX, account=accounts.account(Role.FX), amount=quantize(fx, home),
                                 settlement_id=sid,
                                 description=_describe(Role.FX, sid, [], f" ({bank_line.source_amount} "
                                                       f"{journal.currency} deposited as {deposit} {home})")))
    netted = list(journal.netted)
    lines = _without_zero_lines(lines, netted)
    return journal.model_copy(update={"lines": lines, "netted": netted, "currency": home, "exchange_rate": rate})


def _memo(settlement: Settlement, journal: Journal) -> str:
    text = (f"Amazon settlement {settlement.settlement_id} {settlement.starts_at.date()} to "
            f"{settlement.ends_at.date()}, total {quantize(settlement.total.amount, _currency(settlement))} "
            f"{_currency(settlement)}, {journal.mode.replace('_', '-')} posting")
    if journal.parts > 1:
        text += f"; part {journal.part} of {journal.parts} ({journal.period}), linked: {', '.join(journal.links)}"
    if journal.exchange_rate is not None:
        text += f"; rate {journal.exchange_rate} {journal.currency}/{_currency(settlement)}" \
            if journal.currency != _currency(settlement) else f"; rate {journal.exchange_rate}"
    return text


def _assert_ties(settlement: Settlement, journals: list[Journal], converted: bool, deposit: Decimal | None) -> None:
    """The rules the books depend on, checked on every posting: never emit a journal that breaks them."""
    for j in journals:
        if not j.balanced:
            raise AssertionError(f"journal {j.key} does not balance: {j.debits} vs {j.credits}")
    rows = sorted(r for j in journals for r in j.rows)
    if rows != sorted(line.row for line in settlement.lines):
        raise AssertionError(f"settlement {settlement.settlement_id}: rows lost or doubled between report and journal")
    if not converted:
        bank = sum((line.amount for j in journals for line in j.lines
                    if line.role in (Role.BANK, Role.PAYABLE_TO_AMAZON) and not line.rows), Decimal(0))
        if bank != quantize(settlement.total.amount, _currency(settlement)):
            raise AssertionError(f"settlement {settlement.settlement_id}: deposit line {bank} != total")


def journals_for(settlement: Settlement, options: SettlementOptions, *, table: RoleTable | None = None,
                 accounts: AccountMap | None = None) -> list[Journal]:
    """`build_journals` with a pipeline's settlement options (rates and deposits looked up by settlement id)."""
    cur = _currency(settlement)
    deposit = options.deposits.get(settlement.settlement_id)
    return build_journals(
        settlement, table=table or options.role_table(), accounts=accounts or options.account_map(),
        mode=options.mode, split_by_month=options.split_by_month, date_basis=options.date,
        home_currency=options.home_currency, rate=options.rate_for(settlement.settlement_id, cur),
        convert=options.convert, deposit=deposit, negative_total=options.negative_total)


def plan_journals(settlement: Settlement, ctx: object, *, order_deposit_account: str | None = None) -> list[Journal]:
    """`journals_for` with a destination's PlanContext: the options, role table and account map are read once
    per run (kept in `ctx.cache`), whichever destination renders the journals.

    `order_deposit_account` is the account the destination's order flow deposits receipts into: in per-order
    mode it must be the clearing role's account, or clearing could never net to zero; a mismatch is refused."""
    options, table, accounts = _options_of(ctx)
    if options.mode == "per_order" and order_deposit_account is not None:
        clearing = accounts.account(Role.CLEARING).name
        if clearing.casefold() != order_deposit_account.casefold():
            raise ConfigError(
                f"per-order settlements close the account orders are deposited into ({order_deposit_account!r}), "
                f"but the account map sends the clearing role to {clearing!r}", where=accounts.where,
                hint=f"set `clearing: {order_deposit_account}` in {accounts.where}, or the destination option "
                     f"deposit_account to {clearing!r}, so the clearing account nets to zero")
    return journals_for(settlement, options, table=table, accounts=accounts)


def _options_of(ctx: object) -> tuple[SettlementOptions, RoleTable, AccountMap]:
    """The settlement options, role table and account map of a PlanContext, read once per run (`ctx.cache`)."""
    from .options import parse_settlement_options

    memo = getattr(ctx, "cache", None)
    if memo is None:
        memo = {}
    found = memo.get("settlements:options")
    if found is None:
        options = parse_settlement_options(getattr(ctx, "options", None))
        found = memo["settlements:options"] = (options, options.role_table(), options.account_map())
    return found


def plan_payout(settlement: Settlement, ctx: object, *, order_deposit_account: str | None = None
                ) -> tuple[list[Journal], PayoutDeposit | None]:
    """`plan_journals`, and in per-order mode the deposit that moves the payout from clearing to the bank (the
    last journal's payout line then goes to clearing; see deposit.py). Summary mode: no deposit."""
    journals = plan_journals(settlement, ctx, order_deposit_account=order_deposit_account)
    return journals, payout_deposit(journals, _options_of(ctx)[2])
