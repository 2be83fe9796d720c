"""Two settlement pipelines posting into one QuickBooks Online company (issue 19): each pipeline's `reconcile`
reads the other's journals back from the company, and does not report them as documents no source object
planned (they are another pipeline's payouts); a stray ledgerlink journal of one of its own settlements still is."""

from __future__ import annotations

from ledgerlink.reconcile import _settlement_of, open_context, reconcile
from ledgerlink.runtime import sync
from test_settlement_pipeline import world  # noqa: F401 - the sandboxes and the shipped pipeline
from test_settlement_reconcile import _v2_file


def _ledger_findings(pipeline):
    ctx = open_context(pipeline)
    try:
        return reconcile(ctx, only=["ledger"]).findings
    finally:
        ctx.store.close()


def test_each_pipeline_leaves_the_others_journals_alone(world, tmp_path):
    pipelines = []
    with world(orders=0) as w:
        for name, sid, start, end in (("a", "40000000001", "2026-03-02", "2026-03-16"),
                                      ("b", "40000000002", "2026-03-02", "2026-03-16")):
            folder = tmp_path / name
            folder.mkdir()
            _v2_file(folder / "s.txt", sid, start, end, released=None, held="-10.00")
            p = w["pipeline"].model_copy(deep=True)
            p.name = f"settlements-{name}"
            p.state = str(tmp_path / f"{name}.duckdb")
            p.credentials = str(tmp_path / "company.credentials")  # one company: one rotating token
            p.source.config.update(settlement_files=[str(folder / "*.txt")], settlement_reports=False)
            run = sync(p)
            assert run.status == "succeeded" and run.counts["created"]["JournalEntry"] == 1, run.errors
            pipelines.append(p)
        for p in pipelines:
            assert _ledger_findings(p) == []


def test_a_documents_settlement_is_read_from_its_key():
    assert _settlement_of("JournalEntry:amazon_sp/settlement/123/2026-03") == "amazon_sp/settlement/123"
    assert _settlement_of("Deposit:amazon_sp@us/settlement/123~v2") == "amazon_sp@us/settlement/123"
    assert _settlement_of("SalesReceipt:amazon_sp/order/111-1") is None
