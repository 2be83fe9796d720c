"""Cost-of-goods and deferred-transaction journals → qbXML `JournalEntryAdd` payloads.

`ledgerlink.cogs` and `ledgerlink.deferred` decide the numbers; the settlement journal's renderer gives them
qbXML's shape, with a RefNumber of their own in 11 characters (`C` + the settlement id's last 10 digits; `D`/`R`
+ the transaction id's last 10 characters).
"""

from __future__ import annotations

from ledgerlink import PlanContext, PlannedWrite, Settlement, SourceRef, cogs, deferred, settlements

from .settlements import journal_entry_add, plan_settlement

__all__ = ["plan_settlement_books", "plan_settlement_cogs", "plan_deferred_transaction"]


def _cogs_ref(journal: settlements.Journal) -> str:
    if journal.parts == 1:
        return "C" + journal.settlement_id[-10:]
    return "C" + journal.settlement_id[-7:] + "-" + journal.period[5:]


def plan_settlement_cogs(settlement: Settlement, ctx: PlanContext) -> list[PlannedWrite]:
    """The settlement's cost-of-goods journals (none unless `cogs.enabled`)."""
    stream = settlement.source_refs[0].stream if settlement.source_refs else "settlements"
    writes = []
    for journal in cogs.plan_cogs(settlement, ctx):
        payload, ordered = journal_entry_add(journal)
        payload["JournalEntryAdd"]["RefNumber"] = _cogs_ref(journal)
        line_refs = [(i, SourceRef.model_construct(stream=stream, key=f"{settlement.settlement_id}/row/{row}"))
                     for i, line in enumerate(ordered) for row in line.rows]
        writes.append(PlannedWrite(stream="JournalEntry", key=journal.key, data=payload,
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
        payload, ordered = journal_entry_add(journal)
        payload["JournalEntryAdd"]["RefNumber"] = ("D" if journal.part == 1 else "R") + txn.transaction_id[-10:]
        refs = list(txn.source_refs) or [SourceRef(stream="finances", key=txn.transaction_id)]
        writes.append(PlannedWrite(stream="JournalEntry", key=journal.key, data=payload, source_refs=refs,
                                   line_refs=[(i, refs[0]) for i in range(len(ordered))],
                                   natural_key=txn.natural_key))
    return writes
