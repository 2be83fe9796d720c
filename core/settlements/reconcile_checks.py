"""`ledgerlink reconcile` checks for settlements: the clearing account nets to zero (per-order mode) and the
reserve account holds what Amazon says it holds.

In per-order mode the clearing account rightly holds the orders no payout has paid yet: when the pipeline reads
orders as well as settlements, those are expected there (at the totals they posted), and only the rest is a
finding. Both want a ledger balance. A destination that can report one offers the optional method
`account_balance(config, name) -> Decimal | None` (opened as for `read_back`); the clearing check needs it and
is skipped without it. The reserve check falls back on what the pipeline posted: the reserve rows of every
posted settlement of a chain (marketplace, currency) must add up to the reserve the latest one reports, which
holds only when each settlement releases exactly what the one before held and none is missing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterator

from ..commerce import Settlement
from ..connectors import WriteContext
from ..errors import LedgerlinkError
from ..money import quantize
from ..reconcile import Finding, ReconcileContext, Skip, register_check
from .hold import SettlementOnHold
from .options import SettlementOptions, parse_settlement_options
from .posting import classify
from .roles import ORDER_FLOW_ROLES, Role

__all__ = ["clearing_residual", "reserve_balance", "ledger_balance"]

RESERVE_ROLES = (Role.RESERVE_CURRENT, Role.RESERVE_PREVIOUS)


def _settlement_options(ctx: ReconcileContext) -> SettlementOptions:
    """The pipeline's `destination.options.settlements`, when the context carries them (`destination_options`
    or `settlements` in ctx.options); the defaults otherwise."""
    given = ctx.options.get("destination_options")
    if given is None and "settlements" in ctx.options:
        given = {"settlements": ctx.options["settlements"]}
    return parse_settlement_options(given)


def _per_order(ctx: ReconcileContext, options: SettlementOptions) -> bool:
    """Per-order mode, as the options say when the context carries them, else as the posted journals say (their
    memo names the mode: "per-order posting")."""
    if "destination_options" in ctx.options or "settlements" in ctx.options:
        return options.mode == "per_order"
    found = ctx.store.db.fetchall(
        "SELECT count(*) FROM outbox WHERE destination = ? AND status = 'done' AND data LIKE '%per-order posting%'",
        [ctx.destination.name])
    return bool(found and found[0][0])


def _posted_keys(ctx: ReconcileContext) -> set[str]:
    """Natural keys of settlements whose every planned journal is posted."""
    rows = ctx.store.db.fetchall(
        "SELECT natural_key, bool_and(status = 'done') FROM outbox WHERE destination = ? AND natural_key IS NOT NULL "
        "GROUP BY natural_key", [ctx.destination.name])
    return {key for key, done in rows if done}


def ledger_balance(ctx: ReconcileContext, account: str) -> Decimal | None:
    """The account's balance as the ledger reports it (debits positive), or None when the destination cannot say
    (it lacks the optional `account_balance` method, or the check runs --offline)."""
    method = getattr(ctx.destination, "account_balance", None)
    if method is None or not ctx.remote:
        return None
    context = WriteContext(references=ctx.store.references(ctx.destination.name),
                           save_credential=ctx.store.credentials.save, load_credential=ctx.store.credentials.load)
    ctx.destination.open(ctx.dest_config, context)
    try:
        value = method(ctx.dest_config, account)
    finally:
        ctx.destination.close()
    return None if value is None else Decimal(str(value))


# ---------------------------------------------------------------------------------------------- clearing


@register_check("clearing_residual")
def clearing_residual(ctx: ReconcileContext) -> Iterator[Finding]:
    """Per-order mode: orders are deposited into the clearing account one by one and each settlement's closing
    journal takes them out again, so once every deposit has landed the clearing account is zero."""
    if not bool(ctx.settlement_streams):
        raise Skip("the source reads no settlements")
    options = _settlement_options(ctx)
    if not _per_order(ctx, options):
        raise Skip("summary mode posts nothing to a clearing account")
    if getattr(ctx.destination, "account_balance", None) is None:
        raise Skip(f"{ctx.destination.name} cannot report account balances")
    if not ctx.remote:
        raise Skip("--offline")
    account = options.account_map().account(Role.CLEARING).name
    balance = ledger_balance(ctx, account)
    if balance is None:
        raise Skip(f"{ctx.destination.name} reported no balance for {account!r}")
    awaiting, orders = _awaiting_payout(ctx, options)
    if balance != awaiting:
        what = f" and the {len(orders)} order(s) this pipeline posted that no payout has paid yet" if orders else ""
        yield Finding("clearing_residual", f"account {account}",
                      f"the clearing account does not net to zero after the settlements' deposits{what}",
                      expected=str(awaiting) if awaiting else "0", actual=str(balance),
                      hint="an order posted without a settlement yet (wait for the next payout), an order in "
                           "two settlements, or a receipt deposited elsewhere; compare the account's register with "
                           "`ledgerlink settlements show`")


def _awaiting_payout(ctx: ReconcileContext, options: SettlementOptions) -> tuple[Decimal, list[str]]:
    """What the clearing account rightly holds once every payout is deposited: the orders this pipeline posted
    (when it reads orders as well as settlements) that no posted settlement has paid yet, at their posted totals.
    Orders posted by another pipeline are not known here: for them the account must be zero."""
    from ..commerce import Order
    from ..posting.amounts import order_amounts

    orders = [o for o in ctx.canonical(Order) if isinstance(o, Order)]
    if not orders:
        return Decimal(0), []
    posted = _posted_keys(ctx)
    table = options.role_table()
    paid: set[str] = set()
    for s in ctx.canonical(Settlement):
        if not isinstance(s, Settlement) or s.natural_key not in posted:
            continue
        try:
            roles = classify(s, table).roles
        except SettlementOnHold:
            continue
        paid.update(l.order_id for l, r in zip(s.lines, roles) if r in ORDER_FLOW_ROLES and l.order_id)
    total, waiting = Decimal(0), []
    for o in orders:
        if o.natural_key in posted and o.order_id not in paid:
            try:
                total += order_amounts(o).total
            except LedgerlinkError:
                continue  # an order that cannot post is a dead letter, not money in clearing
            waiting.append(o.order_id)
    return total, waiting


# ---------------------------------------------------------------------------------------------- reserve


def _chain(s: Settlement) -> tuple[str, str]:
    market = getattr(s, "marketplace", None) or next((l.marketplace for l in s.lines if l.marketplace), None)
    return market or "", s.total.currency


def _reported(s: Settlement) -> Decimal:
    """What Amazon holds after `s`, as a positive amount (its current-reserve row is negative)."""
    return -s.current_reserve.amount if s.current_reserve is not None else Decimal(0)


@register_check("reserve_balance")
def reserve_balance(ctx: ReconcileContext) -> Iterator[Finding]:
    """The reserve account against the reserve Amazon reports in the latest posted settlement of each chain."""
    if not bool(ctx.settlement_streams):
        raise Skip("the source reads no settlements")
    options = _settlement_options(ctx)
    table = options.role_table()
    posted = _posted_keys(ctx)
    chains: dict[tuple[str, str], list[Settlement]] = {}
    for s in ctx.canonical(Settlement):
        assert isinstance(s, Settlement)
        if s.natural_key in posted:
            chains.setdefault(_chain(s), []).append(s)
    if not chains:
        raise Skip("no settlement posted yet")
    held_by_chain: dict[tuple[str, str], Decimal] = {}
    for (market, currency), chain in sorted(chains.items()):
        chain.sort(key=lambda s: (s.ends_at, s.settlement_id))
        label = f"reserve {market} {currency}".replace("  ", " ")
        opening = chain[0].previous_reserve.amount if chain[0].previous_reserve is not None else Decimal(0)
        posted_held = opening  # held before the first posted settlement: released by it
        for s in chain:
            try:
                roles = classify(s, table).roles
            except SettlementOnHold:
                continue  # on hold: reported by settlements_on_hold
            posted_held -= sum((l.amount.amount for l, r in zip(s.lines, roles) if r in RESERVE_ROLES), Decimal(0))
        latest = chain[-1]
        expected = quantize(_reported(latest), currency)
        held_by_chain[(market, currency)] = expected
        posted_held = quantize(posted_held, currency)
        if posted_held != expected:
            yield Finding("reserve_balance", label,
                          f"the reserve posted through settlement {latest.settlement_id} differs from the reserve "
                          f"Amazon reports in it", expected=str(expected), actual=str(posted_held),
                          hint="a settlement between is missing or on hold (see settlement_sequence), or a release "
                               "does not match the earlier hold; check the reserve rows with `ledgerlink settlements "
                               "show`")
    yield from _reserve_in_ledger(ctx, options, held_by_chain)


def _reserve_in_ledger(ctx: ReconcileContext, options: SettlementOptions,
                       held: dict[tuple[str, str], Decimal]) -> Iterator[Finding]:
    """When the destination reports balances and every chain is in the books' currency: the account itself."""
    if getattr(ctx.destination, "account_balance", None) is None or not ctx.remote:
        return
    currencies = {c for _, c in held}
    home = (options.home_currency or next(iter(currencies))).upper()
    if currencies != {home}:
        return  # converted or foreign-currency reserves: the ledger's balance is in other units
    account = options.account_map().account(Role.RESERVE_CURRENT).name
    balance = ledger_balance(ctx, account)
    if balance is None:
        return
    expected = sum(held.values(), Decimal(0))
    if balance != expected:
        yield Finding("reserve_balance", f"account {account}",
                      "the reserve account's balance differs from the reserve Amazon reports",
                      expected=str(expected), actual=str(balance),
                      hint="an opening reserve balance not entered, or a manual entry to the account; Amazon's "
                           "figure is the current reserve in the latest settlement")

