"""Cost-of-goods and deferred-transaction journals → QuickBooks Online JournalEntry payloads.

`ledgerlink.cogs` and `ledgerlink.deferred` decide the numbers (as `ledgerlink.settlements` does for a payout);
this module gives each journal QBO's shape through the settlement journal's renderer, with a DocNumber of its
own (`<settlement>-COGS`, `DEF-<transaction>`) so a bookkeeper tells them from the payout's journal.
"""

from __future__ import annotations

from ledgerlink import PlanContext, PlannedWrite, Settlement, SourceRef, cogs, deferred, settlements

from .orders import doc_number
from .settlements import journal_entry, plan_settlement, row_refs

__all__ = ["plan_settlement_books", "plan_settlement_cogs", "plan_deferred_transaction"]


def _cogs_number(journal: settlements.Journal) -> str:
    base = f"{journal.settlement_id}-COGS"
    return doc_number(base if journal.parts == 1 else f"{base}-{journal.period}")


def plan_settlement_cogs(settlement: Settlement, ctx: PlanContext) -> list[PlannedWrite]:
    """The settlement's cost-of-goods journals (none unless `cogs.enabled`); CostsOnHold names a SKU without a
    cost."""
    writes = []
    for journal in cogs.plan_cogs(settlement, ctx):
        data = journal_entry(journal)
        data["DocNumber"] = _cogs_number(journal)
        line_refs = [(i, ref) for i, line in enumerate(journal.lines) for ref in row_refs(settlement, line.rows)]
        writes.append(PlannedWrite(stream="JournalEntry", key=journal.key, data=data,
                                   source_refs=list(settlement.source_refs), line_refs=line_refs,
                                   natural_key=settlement.natural_key))
    return writes


def plan_settlement_books(settlement: Settlement, ctx: PlanContext) -> list[PlannedWrite]:
    """A settlement's journals, then its cost-of-goods journals: one plan, so a SKU without a cost holds the
    settlement (its dead letter names the SKU) and the retry after the cost arrives posts both, each once."""
    return plan_settlement(settlement, ctx) + plan_settlement_cogs(settlement, ctx)


def plan_deferred_transaction(txn: deferred.DeferredTransaction, ctx: PlanContext) -> list[PlannedWrite]:
    """The recognition (and, once released, the reversal) of one deferred transaction."""
    writes = []
    for journal in deferred.plan_deferred(txn, ctx):
        data = journal_entry(journal)
        data["DocNumber"] = doc_number(("DEF-" if journal.part == 1 else "REL-") + txn.transaction_id[-14:])
        refs = list(txn.source_refs) or [SourceRef(stream="finances", key=txn.transaction_id)]
        writes.append(PlannedWrite(stream="JournalEntry", key=journal.key, data=data, source_refs=refs,
                                   line_refs=[(i, refs[0]) for i in range(len(journal.lines))],
                                   natural_key=txn.natural_key))
    return writes
