"""Review before posting, end to end: the shipped Amazon → QuickBooks Online pipeline with `review: always` (and
`first_run`) against both sandboxes over loopback. Nothing posts unapproved; what is approved posts exactly once."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from review_helpers import with_store

from ledgerlink import json_loads
from ledgerlink.cli import cli
from ledgerlink.pipeline import load_pipeline
from ledgerlink.review import ReviewFilter, approve, reject, review_document, review_items
from ledgerlink.runtime import sync
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, write_shipped


@pytest.fixture
def world(tmp_path):
    """Both sandboxes, and the shipped amazon-to-qbo pipeline with a review mode, pointed at them."""
    @contextlib.contextmanager
    def make(review: str = "always", orders: int = 20):
        with sandbox_running("amazon_sp", orders=orders) as (amazon, _), sandbox_running("qbo") as (qbo, sandbox):
            path = write_shipped(tmp_path, "amazon-to-qbo.yaml", lambda text: f"{text}\nreview: {review}\n")
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
                   **qbo_env(qbo, batch_per_minute="40000")}
            yield {"file": str(path), "env": env, "pipeline": load_pipeline(path, env=env),
                   "company": sandbox.company}
    return make


def ledger(company, entity: str) -> dict[str, dict]:
    """The company's documents of one type, by DocNumber."""
    return {doc["DocNumber"]: doc for doc in company.entities[entity].values()}


def run(w, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=w["env"], catch_exceptions=False)
    return result.exit_code, result.stdout


def order_id(key: str) -> str:
    return key.rsplit("/", 1)[1]


def test_nothing_posts_unapproved_and_what_is_approved_posts_exactly_once(world):
    with world("always") as w:
        customers, items = len(w["company"].entities["Customer"]), len(w["company"].entities["Item"])
        code, out = run(w, "sync", w["file"], "--json")
        assert code == 0, out
        first = json_loads(out)
        waiting = first["counts"]["awaiting_approval"]
        assert waiting == first["counts"]["reconcile"]["outbox"]["SalesReceipt"]["pending"] > 5
        assert ledger(w["company"], "SalesReceipt") == {}  # 0 receipts created
        assert len(w["company"].entities["Customer"]) == customers and len(w["company"].entities["Item"]) == items

        queue = with_store(w["pipeline"].state_path, review_items)
        chosen, refused = [i.key for i in queue[:3]], queue[3].key
        with_store(w["pipeline"].state_path, approve, "ada@example.com", keys=chosen)
        with_store(w["pipeline"].state_path, reject, "ada@example.com", keys=[refused], reason="a test order")
        second = sync(w["pipeline"])
        assert second.counts["created"]["SalesReceipt"] == 3
        assert set(ledger(w["company"], "SalesReceipt")) == {order_id(k) for k in chosen}
        assert second.counts["awaiting_approval"] == waiting - 4

        for _ in range(2):  # re-syncs send neither the rejected one nor those still waiting
            again = sync(w["pipeline"])
            assert again.counts["created"] == {}
        assert set(ledger(w["company"], "SalesReceipt")) == {order_id(k) for k in chosen}

        code, out = run(w, "reconcile", w["file"], "--json", "--offline")
        found = json_loads(out)
        assert code == 0 and found["ok"], found
        assert sorted(f["check"] for f in found["in_review"]) == ["awaiting_approval"] * (waiting - 4) + ["rejected"]

        code, out = run(w, "review", "approve", w["file"], "--all", "--by", "bob@example.com", "--post", "--json")
        assert code == 0, out
        posted_now = json_loads(out)
        assert len(posted_now["keys"]) == waiting - 4 and posted_now["posted"]["created"]["SalesReceipt"] == waiting - 4
        receipts = ledger(w["company"], "SalesReceipt")
        assert len(receipts) == waiting - 1 and order_id(refused) not in receipts

        last = sync(w["pipeline"])
        assert last.counts["created"] == {} and last.counts["awaiting_approval"] == 0
        assert len(w["company"].entities["SalesReceipt"]) == waiting - 1  # exactly once throughout
        code, out = run(w, "reconcile", w["file"], "--json")  # the ledger read back: everything ties
        found = json_loads(out)
        assert code == 0 and found["ok"], found["findings"]
        assert [f["check"] for f in found["in_review"]] == ["rejected"]


def test_a_document_is_shown_as_the_ledger_receives_it_beside_its_source_rows(world):
    with world("always") as w:
        sync(w["pipeline"])
        queue = with_store(w["pipeline"].state_path, review_items)
        many_lines = max(queue, key=lambda i: len(i.summary.lines))
        doc = with_store(w["pipeline"].state_path, review_document, many_lines.key)
        s = doc.item.summary
        assert s.customer == doc.payload["CustomerRef"]["name"] and s.date == doc.payload["TxnDate"]
        assert s.number == order_id(doc.item.key) and s.currency == "USD"
        assert len(s.lines) == len(doc.payload["Line"]) and {"Undeposited Funds", "Sales of Product Income"} <= set(s.accounts)
        assert {r["kind"] for r in doc.references} == {"Customer", "Item"}  # created with it, not before
        order_rows = [r for r in doc.source_rows if r.stream == "orders"]
        assert [r.record["AmazonOrderId"] for r in order_rows] == [order_id(doc.item.key)]
        item_rows = [r for r in doc.source_rows if r.stream == "order_items"]
        assert item_rows and all(r.line is not None and r.record for r in item_rows)
        # the total shown is the total QuickBooks computes once the receipt is approved and posted
        with_store(w["pipeline"].state_path, approve, "ada", keys=[doc.item.key])
        sync(w["pipeline"])
        posted = ledger(w["company"], "SalesReceipt")[s.number]
        assert Decimal(str(posted["TotalAmt"])) == s.total


def test_filters_select_by_kind_date_customer_amount_and_text(world):
    with world("always") as w:
        sync(w["pipeline"])
        every = with_store(w["pipeline"].state_path, review_items)
        totals = sorted(i.summary.total for i in every)
        middle = totals[len(totals) // 2]
        days = sorted(date.fromisoformat(i.summary.date) for i in every)

        def keys(**where):
            return [i.key for i in with_store(w["pipeline"].state_path, review_items, ReviewFilter(**where))]

        assert keys(kind="salesreceipt") == [i.key for i in every] and keys(kind="Invoice") == []
        assert keys(min_total=middle) == [i.key for i in every if i.summary.total >= middle]
        assert keys(max_total=middle) == [i.key for i in every if i.summary.total <= middle]
        assert keys(date_from=days[-1]) == [i.key for i in every if i.summary.date == days[-1].isoformat()]
        assert keys(customer="amazon.COM") == [i.key for i in every] and keys(customer="nobody") == []
        target = every[len(every) // 2]
        assert keys(text=order_id(target.key)) == [target.key]
        # approve a filtered set: exactly the documents the filter lists
        code, out = run(w, "review", "approve", w["file"], "--min", str(middle), "--by", "ada", "--json")
        assert code == 0 and json_loads(out)["keys"] == keys(status="approved")
        assert keys(status="approved") == [i.key for i in every if i.summary.total >= middle]


def test_first_run_holds_the_first_sync_until_a_person_approves(world):
    with world("first_run", orders=12) as w:
        first = sync(w["pipeline"])
        waiting = first.counts["awaiting_approval"]
        assert waiting > 2 and ledger(w["company"], "SalesReceipt") == {}
        assert sync(w["pipeline"]).counts["created"] == {}  # still the first run: nothing approved yet
        code, out = run(w, "review", "approve", w["file"], *[order_id(i.key) for i in with_store(
            w["pipeline"].state_path, review_items)[:2]], "--by", "ada")
        assert code == 0, out
        after = sync(w["pipeline"])
        assert after.counts["created"]["SalesReceipt"] == 2 and after.counts["awaiting_approval"] == waiting - 2
        assert len(ledger(w["company"], "SalesReceipt")) == 2
