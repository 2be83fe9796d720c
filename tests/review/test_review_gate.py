"""The review gate in the write step, with the runtime's in-memory source and destination: what waits, what
posts once approved, what never posts, and when a new version of a document needs a new decision."""

from __future__ import annotations

import fakes
import pytest
from review_helpers import posted_keys, remote_receipts, with_store

from ledgerlink.errors import ConfigError
from ledgerlink.reconcile import open_context, reconcile
from ledgerlink.review import (
    ReviewFilter, approve, reject, review_counts, review_document, review_items,
)
from ledgerlink.runtime import sync
from ledgerlink.store import Store


def receipt_key(i: int) -> str:
    return f"Receipt:fake/order/O-{i:04d}"


def test_always_holds_every_document_and_the_references_only_they_need(fake_host, make_pipeline):
    report = sync(make_pipeline(orders=5), plugin_host=fake_host)
    assert report.status == "succeeded", report.errors
    assert report.counts["awaiting_approval"] == 5
    assert report.counts["created"] == {} and fakes.REMOTE == {}  # not even the customer the receipts need
    items = with_store(make_pipeline().state_path, review_items)
    assert [i.key for i in items] == [receipt_key(i) for i in range(5)]
    assert {i.status for i in items} == {"awaiting"} and items[0].summary.customer == "Fake Store USD"


def test_an_approved_document_posts_with_its_reference_and_only_it(fake_host, make_pipeline):
    pipeline = make_pipeline(orders=5)
    sync(pipeline, plugin_host=fake_host)
    decision = with_store(pipeline.state_path, approve, "ada@books", keys=["O-0002"])  # an order id is enough
    assert decision.keys == [receipt_key(2)] and decision.by == "ada@books"
    report = sync(pipeline, plugin_host=fake_host)
    assert report.counts["created"] == {"Customer": 1, "Receipt": 1}
    assert remote_receipts() == {"O-0002"} and report.counts["awaiting_approval"] == 4
    doc = with_store(pipeline.state_path, review_document, receipt_key(2))
    assert doc.item.status == "approved" and doc.item.decided_by == "ada@books" and doc.item.decided_at
    assert doc.item.outbox_status == "done" and [h["decision"] for h in doc.history] == ["approved"]


def test_a_rejected_document_never_posts_and_reconcile_lists_it_apart(fake_host, make_pipeline):
    pipeline = make_pipeline(orders=3)
    sync(pipeline, plugin_host=fake_host)
    with_store(pipeline.state_path, reject, "ada", keys=[receipt_key(1)], reason="test order, not a sale")
    with_store(pipeline.state_path, approve, "ada", where=ReviewFilter())  # "all" that await: not the rejected
    for _ in range(3):
        sync(pipeline, plugin_host=fake_host)
    assert remote_receipts() == {"O-0000", "O-0002"}
    assert posted_keys(pipeline.state_path, "Receipt") == {receipt_key(0), receipt_key(2)}
    ctx = open_context(pipeline, remote=False, plugin_host=fake_host)
    try:
        found = reconcile(ctx)
    finally:
        ctx.store.close()
    assert found.ok, found.findings
    assert [(f.check, f.subject) for f in found.in_review] == [("rejected", "Receipt fake/order/O-0001")]
    assert "by ada: test order, not a sale" in found.in_review[0].message


def test_awaiting_documents_are_listed_as_awaiting_not_as_not_posted(fake_host, make_pipeline):
    pipeline = make_pipeline(orders=2)
    sync(pipeline, plugin_host=fake_host)
    ctx = open_context(pipeline, remote=False, plugin_host=fake_host)
    try:
        found = reconcile(ctx)
    finally:
        ctx.store.close()
    assert not [f for f in found.findings if f.check == "not_posted"]  # nor their held customer
    assert [f.check for f in found.in_review] == ["awaiting_approval"] * 2


def _change_mapping(tmp_path) -> None:
    template = tmp_path / "receipt.json.j2"
    template.write_text(fakes.RECEIPT.replace('"Total":', '"PrivateNote": "v2",\n  "Total":'))


def test_a_changed_plan_brings_a_rejected_document_back_for_review(fake_host, make_pipeline, tmp_path):
    pipeline = make_pipeline(orders=2)
    sync(pipeline, plugin_host=fake_host)
    with_store(pipeline.state_path, reject, "ada", keys=[receipt_key(0)], reason="wrong customer")
    sync(pipeline, plugin_host=fake_host)
    assert with_store(pipeline.state_path, review_counts) == {"awaiting_approval": 1, "approved_not_posted": 0,
                                                              "rejected": 1}
    _change_mapping(tmp_path)  # the plan changes: a new version of the rejected receipt
    report = sync(pipeline, plugin_host=fake_host)
    assert report.counts["awaiting_approval"] == 2 and remote_receipts() == set()
    doc = with_store(pipeline.state_path, review_document, receipt_key(0))
    assert doc.item.status == "awaiting" and doc.payload["PrivateNote"] == "v2"
    assert [(h["decision"], h["reason"]) for h in doc.history] == [("rejected", "wrong customer")]


def test_an_approval_covers_one_version_of_the_document(fake_host, make_pipeline, tmp_path):
    pipeline = make_pipeline(orders=1)
    sync(pipeline, plugin_host=fake_host)
    with_store(pipeline.state_path, approve, "ada", keys=[receipt_key(0)])
    _change_mapping(tmp_path)  # re-planned before it was sent: what was approved is not what would post
    report = sync(pipeline, plugin_host=fake_host)
    assert remote_receipts() == set() and report.counts["awaiting_approval"] == 1
    with_store(pipeline.state_path, approve, "ada", keys=[receipt_key(0)])
    sync(pipeline, plugin_host=fake_host)
    assert fakes.REMOTE["Receipt"]["O-0000"]["PrivateNote"] == "v2"


def test_first_run_holds_until_the_first_approval_then_new_documents_post(fake_host, make_pipeline):
    report = sync(make_pipeline("first_run", orders=3), plugin_host=fake_host)
    assert report.counts["awaiting_approval"] == 3 and fakes.REMOTE == {}
    sync(make_pipeline("first_run", orders=4), plugin_host=fake_host)  # no approval yet: the 4th waits too
    assert with_store(make_pipeline().state_path, review_counts)["awaiting_approval"] == 4
    with_store(make_pipeline().state_path, approve, "ada", keys=[receipt_key(0)])
    report = sync(make_pipeline("first_run", orders=6), plugin_host=fake_host)
    # the approved one and the two planned after the first approval post; the first run's others still wait
    assert remote_receipts() == {"O-0000", "O-0004", "O-0005"}
    assert report.counts["awaiting_approval"] == 3


def test_first_run_on_a_pipeline_that_already_posted_holds_nothing(fake_host, make_pipeline):
    sync(make_pipeline("never", orders=2), plugin_host=fake_host)
    report = sync(make_pipeline("first_run", orders=4), plugin_host=fake_host)
    assert remote_receipts() == {f"O-{i:04d}" for i in range(4)} and report.counts["awaiting_approval"] == 0


def test_turning_review_off_posts_new_documents_but_keeps_waiting_ones_waiting(fake_host, make_pipeline):
    sync(make_pipeline("always", orders=2), plugin_host=fake_host)
    report = sync(make_pipeline("never", orders=3), plugin_host=fake_host)
    assert remote_receipts() == {"O-0002"} and report.counts["awaiting_approval"] == 2


def test_review_never_leaves_the_write_step_as_it_was(fake_host, make_pipeline):
    pipeline = make_pipeline("never", orders=3)
    report = sync(pipeline, plugin_host=fake_host)
    assert report.counts["awaiting_approval"] == 0 and len(remote_receipts()) == 3
    assert with_store(pipeline.state_path, lambda s: s.db.fetchone("SELECT count(*) FROM review")[0]) == 0


def test_decisions_refuse_what_they_cannot_do(fake_host, make_pipeline):
    pipeline = make_pipeline(orders=2)
    sync(pipeline, plugin_host=fake_host)
    store = Store(pipeline.state_path)
    try:
        with pytest.raises(ConfigError, match="name of who"):
            approve(store, "  ", keys=[receipt_key(0)])
        with pytest.raises(ConfigError, match="one line"):
            approve(store, "ada\nbob", keys=[receipt_key(0)])
        with pytest.raises(ConfigError, match="no document 'O-9999'"):
            approve(store, "ada", keys=["O-9999"])
        with pytest.raises(ConfigError, match="no document 'O-000'"):
            approve(store, "ada", keys=["O-000"])  # part of an id names nothing: never a guess
        with pytest.raises(ConfigError, match="say which documents"):
            approve(store, "ada")
        with pytest.raises(ConfigError, match="amount range is empty"):
            ReviewFilter(min_total=10, max_total=5)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="longer than"):
            reject(store, "ada", keys=[receipt_key(0)], reason="x" * 5000)
        assert review_counts(store)["awaiting_approval"] == 2  # nothing changed by any of them
        reject(store, "ada", keys=[receipt_key(0)])
        again = approve(store, "bob", keys=[receipt_key(0), receipt_key(1)])
        assert again.keys == [receipt_key(1)]
        assert "rejected by ada" in again.skipped[receipt_key(0)]
        assert approve(store, "bob", keys=[receipt_key(1)]).keys == []  # approving twice changes nothing
    finally:
        store.close()


def test_the_queue_is_listed_in_pages(fake_host, make_pipeline):
    pipeline = make_pipeline(orders=5)
    sync(pipeline, plugin_host=fake_host)
    store = Store(pipeline.state_path)
    try:
        pages = [[i.key for i in review_items(store, limit=2, offset=n)] for n in (0, 2, 4)]
        assert pages == [[receipt_key(0), receipt_key(1)], [receipt_key(2), receipt_key(3)], [receipt_key(4)]]
        with pytest.raises(ConfigError, match="offset"):
            review_items(store, offset=-1)
        with pytest.raises(ConfigError, match="limit"):
            review_items(store, limit=0)
    finally:
        store.close()
