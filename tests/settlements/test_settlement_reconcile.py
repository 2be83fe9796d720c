"""The settlement reconcile checks: the reserve posted (and, where the ledger reports balances, the reserve
account) against the reserve Amazon reports, and the per-order clearing account's residual."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledgerlink.reconcile import reconcile
from settlement_helpers import line, order_rows, settlement
from test_settlement_pipeline import world  # noqa: F401 - the sandboxes and the shipped pipeline


def _reserve_settlement(sid: str, start: str, end: str, *, released: str | None, held: str, market: str = "US"):
    rows = [*order_rows(1, f"111-{sid}", "100.00", posted=start)]
    if released is not None:
        rows.append(line(20, "other-transaction", "other-transaction", "Previous Reserve Amount Balance", released,
                         posted=start))
    rows.append(line(21, "other-transaction", "other-transaction", "Current Reserve Amount", held, posted=end))
    for r in rows:
        r.marketplace = market if r.order_id else None
    s = settlement(rows, sid=sid, start=start, end=end, deposit=None)
    s.previous_reserve = None if released is None else rows[-2].amount
    s.current_reserve = rows[-1].amount
    return s


CHAIN = [_reserve_settlement("20000000001", "2025-08-01", "2025-08-14", released=None, held="-10.00"),
         _reserve_settlement("20000000002", "2025-08-14", "2025-08-28", released="10.00", held="-12.50"),
         _reserve_settlement("20000000003", "2025-08-28", "2025-09-11", released="12.50", held="-9.00")]


class _Db:
    def __init__(self, outbox: list[tuple[str, bool]], memo: str):
        self.outbox, self.memo = outbox, memo

    def fetchall(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        assert "FROM outbox" in sql
        if "LIKE" in sql:  # journals whose memo names the mode
            return [(len(self.outbox) if "per-order posting" in self.memo else 0,)]
        return list(self.outbox)


class _Store:
    def __init__(self, outbox, memo):
        self.db = _Db(outbox, memo)
        self.credentials = type("C", (), {"save": lambda *a: None, "load": lambda *a: None})()

    def references(self, name):
        return {}


@dataclass
class _Destination:
    name: str = "qbo"
    balances: dict[str, Decimal] | None = None
    opened: int = 0

    def open(self, config, context):
        self.opened += 1

    def close(self):
        pass


@dataclass
class _Normaliser:
    stream: str = "settlements"


@dataclass
class _Ctx:
    """A ReconcileContext over settlements already normalised, and an outbox of (natural key, posted?)."""

    settlements: list
    posted: dict[str, bool] | None = None
    destination: Any = field(default_factory=_Destination)
    options: dict[str, Any] = field(default_factory=dict)
    remote: bool = True
    pipeline: str = "amazon-settlements-to-qbo"
    dest_config: Any = None
    #: the memo of the posted journals (it names the posting mode)
    memo: str = "summary posting"

    def __post_init__(self):
        posted = self.posted if self.posted is not None else {s.natural_key: True for s in self.settlements}
        self.store = _Store(list(posted.items()), self.memo)
        self.normalisers = [_Normaliser()]

    @property
    def settlement_streams(self) -> set[str]:
        return {n.stream for n in self.normalisers}

    def canonical(self, kind):
        return list(self.settlements)


def _with_balances(balances: dict[str, str]) -> Any:
    class BalanceDestination(_Destination):
        def account_balance(self, config, name):
            return self.balances.get(name)
    return BalanceDestination(balances={k: Decimal(v) for k, v in balances.items()})


def test_a_chain_whose_releases_match_its_holds_ties_to_the_latest_reported_reserve():
    report = reconcile(_Ctx(CHAIN), only=["reserve_balance"])
    assert report.ok and report.skipped == {}


def test_a_missing_settlement_leaves_the_posted_reserve_off_by_what_it_held_and_released():
    report = reconcile(_Ctx([CHAIN[0], CHAIN[2]]), only=["reserve_balance"])
    [finding] = report.findings
    assert finding.check == "reserve_balance" and "20000000003" in finding.message
    # posted: held 10.00, released 12.50, held 9.00 → 6.50 held; Amazon says 9.00
    assert (finding.expected, finding.actual) == ("9.00", "6.50")


def test_the_first_settlement_may_release_a_reserve_held_before_the_history_started():
    report = reconcile(_Ctx(CHAIN[1:]), only=["reserve_balance"])
    assert report.ok


def test_the_latest_posted_settlement_is_the_one_compared():
    posted = {CHAIN[0].natural_key: True, CHAIN[1].natural_key: True, CHAIN[2].natural_key: False}
    assert reconcile(_Ctx(CHAIN, posted), only=["reserve_balance"]).ok


def test_chains_are_per_marketplace_and_currency():
    cad = _reserve_settlement("20000000009", "2025-08-28", "2025-09-11", released="99.00", held="-5.00", market="CA")
    cad.total = cad.total.model_copy(update={"currency": "CAD"})
    report = reconcile(_Ctx([*CHAIN, cad]), only=["reserve_balance"])
    assert report.ok  # the CAD chain opens with its own earlier reserve


def test_nothing_posted_skips_the_reserve_check():
    report = reconcile(_Ctx(CHAIN, {}), only=["reserve_balance"])
    assert report.skipped == {"reserve_balance": "no settlement posted yet"}


def test_a_ledger_that_reports_balances_is_compared_with_amazons_reserve():
    ok = reconcile(_Ctx(CHAIN, destination=_with_balances({"Amazon Reserve": "9.00"})), only=["reserve_balance"])
    assert ok.ok
    off = reconcile(_Ctx(CHAIN, destination=_with_balances({"Amazon Reserve": "4.00"})), only=["reserve_balance"])
    [finding] = off.findings
    assert finding.subject == "account Amazon Reserve" and (finding.expected, finding.actual) == ("9.00", "4.00")


def test_clearing_is_checked_only_in_per_order_mode_and_only_where_the_ledger_reports_balances():
    summary = reconcile(_Ctx(CHAIN), only=["clearing_residual"])
    assert summary.skipped == {"clearing_residual": "summary mode posts nothing to a clearing account"}
    per_order = {"settlements": {"mode": "per_order"}}
    blind = reconcile(_Ctx(CHAIN, options=per_order), only=["clearing_residual"])
    assert blind.skipped == {"clearing_residual": "qbo cannot report account balances"}
    offline = reconcile(_Ctx(CHAIN, options=per_order, remote=False,
                             destination=_with_balances({"Undeposited Funds": "0"})), only=["clearing_residual"])
    assert offline.skipped == {"clearing_residual": "--offline"}


def test_a_clearing_account_that_does_not_net_to_zero_is_a_finding():
    per_order = {"destination_options": {"settlements": {"mode": "per_order"}}}
    dest = _with_balances({"Undeposited Funds": "0.00"})
    assert reconcile(_Ctx(CHAIN, options=per_order, destination=dest), only=["clearing_residual"]).ok
    assert dest.opened == 1  # opened as a sync does: stored credentials, company settings
    report = reconcile(_Ctx(CHAIN, options=per_order, destination=_with_balances({"Undeposited Funds": "12.34"})),
                       only=["clearing_residual"])
    [finding] = report.findings
    assert finding.subject == "account Undeposited Funds" and (finding.expected, finding.actual) == ("0", "12.34")


def test_without_the_pipeline_options_the_mode_is_read_from_the_posted_journals():
    assert reconcile(_Ctx(CHAIN), only=["clearing_residual"]).skipped["clearing_residual"].startswith("summary")
    report = reconcile(_Ctx(CHAIN, memo="Amazon settlement 1, per-order posting",
                            destination=_with_balances({"Undeposited Funds": "-3.00"})), only=["clearing_residual"])
    [finding] = report.findings
    assert finding.actual == "-3.00"


def test_per_order_settlements_in_the_qbo_sandbox_reconcile_reserve_and_read_the_clearing_balance(world):
    """The shipped pipeline switched to per-order mode: the journals' memo tells reconcile the mode, QuickBooks
    Online reports the clearing account's balance (the sandbox keeps Account.CurrentBalance), and the reserve ties.
    (This pipeline posts no orders, so clearing holds minus their sales: see test_books_rev_clearing.py for the
    whole per-order flow, where it holds only the orders no payout has paid yet.)"""
    from ledgerlink.reconcile import open_context
    from ledgerlink.runtime import sync

    with world(orders=30) as w:
        pipeline = w["pipeline"].model_copy(deep=True)
        pipeline.destination.options["settlements"]["mode"] = "per_order"
        run = sync(pipeline)
        assert run.status == "succeeded" and run.counts["dead_letters_open"] == 0, run.errors
        ctx = open_context(pipeline)
        try:
            report = reconcile(ctx, only=["clearing_residual", "reserve_balance"])
        finally:
            ctx.store.close()
        assert report.skipped == {}  # both read the ledger now
        assert not [f for f in report.findings if f.check == "reserve_balance"], report.findings
        for finding in report.findings:  # what the clearing account holds, read from QuickBooks
            assert finding.check == "clearing_residual" and finding.subject == "account Undeposited Funds"
            assert finding.expected == "0" and Decimal(finding.actual) != 0


def _v2_file(path, sid: str, start: str, end: str, *, released: str | None, held: str) -> None:
    """A small Flat File V2 settlement: one order, and the reserve released from before and held back."""
    from ledgerlink_amazon_sp.sandbox.seed_settlements import render_v2

    def row(tt, at, desc, amount, day, **extra):
        return {"settlement-id": sid, "transaction-type": tt, "amount-type": at, "amount-description": desc,
                "amount": amount, "posted-date-time": f"{day} 12:00:00 UTC", **extra}
    order = {"order-id": f"111-{sid[-7:]}-0000001", "sku": "LL-MUG-11OZ", "marketplace-name": "Amazon.com"}
    rows = [row("Order", "ItemPrice", "Principal", "100.00", start, **order),
            row("Order", "ItemFees", "Commission", "-15.00", start, **order)]
    if released:
        rows.append(row("other-transaction", "other-transaction", "Previous Reserve Amount Balance", released, start))
    rows.append(row("other-transaction", "other-transaction", "Current Reserve Amount", held, start))
    total = sum((Decimal(r["amount"]) for r in rows), Decimal(0))
    path.write_text(render_v2({"settlement-id": sid, "settlement-start-date": f"{start}T00:00:00+00:00",
                               "settlement-end-date": f"{end}T00:00:00+00:00", "total-amount": f"{total:.2f}",
                               "currency": "USD", "deposit-date": f"{end}T06:00:00+00:00"}, rows))


def test_a_missing_settlement_file_shows_in_the_reserve_and_the_sequence(world, tmp_path):
    """Settlement files with the middle fortnight missing, synced into the QBO sandbox: reconcile names the gap
    and the reserve Amazon reports that the books do not hold."""
    from ledgerlink.reconcile import open_context
    from ledgerlink.runtime import sync

    folder = tmp_path / "statements"
    folder.mkdir()
    _v2_file(folder / "a.txt", "30000000001", "2026-03-02", "2026-03-16", released=None, held="-10.00")
    _v2_file(folder / "c.txt", "30000000003", "2026-03-30", "2026-04-13", released="12.50", held="-9.00")
    with world(orders=0) as w:
        pipeline = w["pipeline"].model_copy(deep=True)
        pipeline.source.config.update(settlement_files=[str(folder / "*.txt")], settlement_reports=False)
        run = sync(pipeline)
        assert run.status == "succeeded" and run.counts["created"]["JournalEntry"] >= 2, run.errors
        ctx = open_context(pipeline)
        try:
            report = reconcile(ctx, only=["settlement_sequence", "reserve_balance"])
        finally:
            ctx.store.close()
        by_check = {(f.check, f.subject.startswith("account")): f for f in report.findings}
        assert set(by_check) == {("settlement_sequence", False), ("reserve_balance", False), ("reserve_balance", True)}
        assert "30000000001" in by_check[("settlement_sequence", False)].message
        reserve = by_check[("reserve_balance", False)]
        assert "30000000003" in reserve.message and (reserve.expected, reserve.actual) == ("9.00", "6.50")
        # the reserve account's balance in QuickBooks Online says the same: 10.00 held, 12.50 released, 9.00 held
        in_ledger = by_check[("reserve_balance", True)]
        assert (in_ledger.subject, in_ledger.expected, in_ledger.actual) == ("account Amazon Reserve", "9.00", "6.50")
