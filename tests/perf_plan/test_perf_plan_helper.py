"""Planning half of each batch in a helper process gives what planning in one process gives (issue 18).

Same outbox rows in the same order (keys, payloads, hashes, dependencies, natural keys), same audit rows, same
dead letters with the same errors, same counts, over the seeded Amazon orders (US and UK VAT, broken records
among them, a second run that cancels and pays some), and whichever way batches are cut. When the helper
cannot plan a half (it dies, or a plan asks about a key it was not given) the parent plans it: same result.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink.runtime import plan_workers

from ledgerlink_qbo.destination import QuickBooksOnlineDestination
from plan_helpers import plan_runs, seeded_runs


@pytest.fixture(autouse=True)
def reference_path(monkeypatch) -> None:
    """The helper plans what the reference path plans: the columnar fast path (tests/perf_fastpath) is off here."""
    monkeypatch.setenv("LEDGERLINK_COLUMNAR", "0")


@pytest.fixture
def helped(monkeypatch) -> list[int]:
    """Counts the halves the helper planned (each adopted half is one)."""
    halves: list[int] = []
    adopt = plan_workers.PlanHelper.adopt

    def counting(self: Any, writes: Any, ctx: Any) -> None:
        halves.append(len(writes))
        adopt(self, writes, ctx)

    monkeypatch.setattr(plan_workers.PlanHelper, "adopt", counting)
    return halves


@pytest.mark.slow
def test_a_helper_process_plans_the_outbox_audit_and_dead_letters_of_one_process(tmp_path, helped):
    runs = seeded_runs(500, 3)
    alone = plan_runs(tmp_path / "alone.duckdb", runs, batch=250, workers=1)
    assert not helped
    shared = plan_runs(tmp_path / "shared.duckdb", runs, batch=250, workers=2)
    assert len(helped) >= 2  # the helper did plan halves, in both runs
    outbox, audit, dead, counts = shared
    assert outbox and audit and dead
    assert {row[1] for row in outbox} >= {"Customer", "Item", "SalesReceipt", "Void"}
    assert shared == alone


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 1000), batch=st.integers(200, 700), orders=st.integers(220, 600),
       options=st.sampled_from([{}, {"customer_strategy": "per_buyer", "default_document": "invoice"}]))
def test_any_cut_into_batches_plans_alike_with_and_without_the_helper(tmp_path_factory, seed, batch, orders,
                                                                      options):
    tmp = tmp_path_factory.mktemp("cut")
    runs = seeded_runs(orders, seed)
    assert (plan_runs(tmp / "a.duckdb", runs, batch=batch, workers=2, options=options)
            == plan_runs(tmp / "b.duckdb", runs, batch=batch, workers=1, options=options))


def _dies(conn: Any, parent_end: Any, *args: Any) -> None:
    os._exit(3)


def test_the_helper_ends_when_its_parent_is_gone(tmp_path):
    """The helper holds no copy of the parent's end of the pipe: once that end closes, its loop ends."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    helper = context.Process(target=plan_workers._serve, args=(child, parent, None, [], None), daemon=True)
    helper.start()
    child.close()
    parent.close()  # as if the parent died
    helper.join(timeout=20)
    assert not helper.is_alive() and helper.exitcode == 0


def test_a_helper_that_dies_leaves_the_parent_to_plan_everything(tmp_path, monkeypatch, helped):
    runs = seeded_runs(220, 5)[:1]
    alone = plan_runs(tmp_path / "alone.duckdb", runs, batch=220, workers=1)
    monkeypatch.setattr(plan_workers, "_serve", _dies)
    assert plan_runs(tmp_path / "shared.duckdb", runs, batch=220, workers=2) == alone
    assert not helped


def test_a_plan_asking_about_another_key_is_planned_by_the_parent(tmp_path, monkeypatch, helped):
    plan = QuickBooksOnlineDestination.plan

    def asks_elsewhere(self: Any, obj: Any, ctx: Any) -> Any:
        ctx.posted(obj.natural_key + "/elsewhere")  # e.g. a refund asking about its order
        return plan(self, obj, ctx)

    monkeypatch.setattr(QuickBooksOnlineDestination, "plan", asks_elsewhere)
    runs = seeded_runs(220, 5)[:1]
    alone = plan_runs(tmp_path / "alone.duckdb", runs, batch=220, workers=1)
    assert plan_runs(tmp_path / "shared.duckdb", runs, batch=220, workers=2) == alone
    assert not helped


def test_the_number_of_planning_processes_follows_the_setting(monkeypatch):
    monkeypatch.setenv("LEDGERLINK_PLAN_WORKERS", "1")
    assert plan_workers.plan_workers() == 1
    assert plan_workers.plan_workers(2) == 2
    monkeypatch.setenv("LEDGERLINK_PLAN_WORKERS", "7")
    assert plan_workers.plan_workers() == 2  # one helper at most
    monkeypatch.delenv("LEDGERLINK_PLAN_WORKERS")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert plan_workers.plan_workers() == 1
