"""The settlement page's own check: the bank line (the deposit the journals post) against the settlement report's
total, as a sentence a bookkeeper can act on ("ties", "differs by 0.30"). The report's total is read from the
staged report (normalised again, as a sync did) when the state file has it, else from the journal's memo (which
the planner writes from the same total); a converted payout is compared at the rate its journal names."""

from __future__ import annotations

import logging
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ..money import quantize
from ..settlements import Role
from ..settlements.options import parse_settlement_options

__all__ = ["bank_check"]

log = logging.getLogger("ledgerlink.console")

#: what the planner's memo says (posting._memo): "…, total 62.50 USD, summary posting; …; rate 1.085 EUR/USD"
_MEMO_TOTAL = re.compile(r", total (-?\d+(?:\.\d+)?) ([A-Z]{3}),")
#: a converted journal's memo names its rate and currencies: "; rate 0.7312 USD/CAD" (books/report)
_MEMO_RATE = re.compile(r"; rate (\d+(?:\.\d+)?) ([A-Z]{3})/[A-Z]{3}")
#: how the planner describes the deposit line when no account map can be read (posting.build_journals)
_DEPOSIT_WORDS = ("Deposit - settlement", "Negative balance payable to Amazon")


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _bank_accounts(service: Any) -> set[str]:
    """The accounts a deposit goes to (bank, or payable-to-Amazon for a negative payout), by the pipeline's map."""
    try:
        accounts = parse_settlement_options(service.pipeline.destination.options).account_map()
        return {accounts.account(role).name for role in (Role.BANK, Role.PAYABLE_TO_AMAZON)
                if role in accounts.accounts}
    except Exception as exc:  # noqa: BLE001 - a map the page cannot read: fall back on the line's description
        log.debug("settlement account map unreadable: %s", exc)
        return set()


def _bank_line(service: Any, trail: dict[str, Any]) -> tuple[Decimal | None, str | None]:
    """The deposit the journals post (debit positive) and its account; None when nothing is planned."""
    names = _bank_accounts(service)
    total, account = None, None
    for doc in trail["documents"]:
        for line in doc["lines"]:
            if line.get("rows"):
                continue  # a line that sums report rows is never the deposit
            if line.get("account") in names or str(line.get("description") or "").startswith(_DEPOSIT_WORDS):
                amount = _decimal(line.get("amount")) or Decimal(0)
                total = (total or Decimal(0)) + (amount if line.get("posting") != "Credit" else -amount)
                account = line.get("account")
    return total, account


def _memo(service: Any, trail: dict[str, Any]) -> str:
    """The planner's memo of the settlement's journals (QBO `PrivateNote`, qbXML `Memo`)."""
    from .. import jsonutil

    for (data,) in service.store.db.fetchall("SELECT data FROM outbox WHERE natural_key LIKE ? ORDER BY key",
                                             [f"%/settlement/{trail['settlement_id']}"]):
        payload = jsonutil.loads(data) if isinstance(data, (str, bytes)) else (data or {})
        text = payload.get("PrivateNote") or (payload.get("JournalEntryAdd") or {}).get("Memo") or ""
        if _MEMO_TOTAL.search(text):
            return str(text)
    return ""


def _staged_total(service: Any, trail: dict[str, Any]) -> tuple[Decimal, str] | None:
    """The report's total as the source's normaliser reads the staged report (None when nothing is staged)."""
    from ..commerce import Settlement
    from ..runtime.normalise import resolve_normalisers

    sources = {s for doc in trail["documents"] for s in doc.get("sources", [])}
    sources |= {f"{d.get('stream') or 'settlements'}/{trail['settlement_id']}" for d in trail["on_hold"]}
    try:
        source = service.plugin_host.connector(service.pipeline.source.connector, "source")()
        normalisers = {n.stream: n for n in resolve_normalisers(source, service.pipeline.source.normalise)}
        for ref in sorted(sources):
            stream, _, key = ref.partition("/")
            record = service.store.raw.get(stream, key) if stream in normalisers else None
            if record is None:
                continue
            n = normalisers[stream]
            for obj in n.run(record, {other: [] for other in n.join}):
                if isinstance(obj, Settlement) and obj.settlement_id == trail["settlement_id"]:
                    return obj.total.amount, obj.total.currency
    except Exception as exc:  # noqa: BLE001 - a report that no longer reads is a dead letter already
        log.debug("settlement %s: staged report not read again: %s", trail["settlement_id"], exc)
    return None


def bank_check(service: Any, trail: dict[str, Any]) -> dict[str, Any]:
    """`{bank_line, bank_account, report_total, currency, report_from, ties, difference, verdict}` for a
    settlement trail (see the module docstring); `ties` is None when the two cannot be compared."""
    bank, account = _bank_line(service, trail)
    memo = _memo(service, trail)
    staged = _staged_total(service, trail)
    found = _MEMO_TOTAL.search(memo)
    if staged is not None:
        report, currency, origin = staged[0], staged[1], "the staged settlement report"
    elif found:
        report, currency, origin = Decimal(found.group(1)), found.group(2), "the journal's memo"
    else:
        report, currency, origin = None, None, None
    out: dict[str, Any] = {"bank_line": None if bank is None else str(bank), "bank_account": account,
                           "report_total": None if report is None else str(report), "currency": currency,
                           "report_from": origin, "ties": None, "difference": None}
    if report is None:
        out["verdict"] = "the report's total is not recorded in this state file"
        return out
    if bank is None:
        out["verdict"] = ("no bank line yet: the payout is on hold" if trail["on_hold"]
                          else "no bank line: nothing is planned for this payout")
        return out
    rate = _MEMO_RATE.search(memo)
    expected, said = quantize(report, currency), f"the report's total {report} {currency}"
    if rate:  # converted to the books' currency (memo "rate R HOME/CUR"): compare at the journal's rate
        expected = quantize(report * Decimal(rate.group(1)), rate.group(2))
        said += f" at {rate.group(1)} ({expected})"
    difference = bank - expected
    out["ties"], out["difference"] = difference == 0, str(difference)
    out["verdict"] = (f"the bank line {bank} ties to {said}" if difference == 0 else
                      f"the bank line {bank} differs from {said} by {difference}")
    return out
