"""End to end: the shipped amazon-settlements-to-qbo pipeline against the Amazon and QuickBooks Online sandboxes
over real loopback sockets: the seeded settlement reports become balanced journal entries whose bank line is the
report's total, a second sync posts nothing, and `ledgerlink reconcile` finds everything tied."""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest
from click.testing import CliRunner

from ledgerlink import json_loads
from ledgerlink.cli import cli
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, write_shipped

SHIPPED = "amazon-settlements-to-qbo.yaml"
REALM = "9341455000000000"
CAD_RATE = Decimal("0.7300")  # the shipped file's default ${AMAZON_CAD_RATE}


@pytest.fixture
def world(tmp_path, monkeypatch):
    """Both sandboxes, and the shipped pipeline pointed at them through its ${VARS} (also set in the process
    environment, so the CLI's `reconcile` loads the same pipeline)."""

    @contextlib.contextmanager
    def make(orders: int = 40):
        with sandbox_running("amazon_sp", orders=orders) as (amazon, _), sandbox_running("qbo") as (qbo, _):
            pipeline_file = write_shipped(tmp_path, SHIPPED)
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
                   **qbo_env(qbo, batch_per_minute="40000")}
            for k, v in env.items():
                monkeypatch.setenv(k, v)
            yield {"qbo": qbo, "file": pipeline_file, "pipeline": load_pipeline(pipeline_file, env=env),
                   "state": tmp_path / "state.duckdb"}
    return make


def _qbo_get(w, tail: str) -> dict:
    store = Store(w["state"])
    try:
        refresh = store.credentials.load(f"qbo:{REALM}:refresh_token") or "sandbox-qbo-refresh-token"
    finally:
        store.close()
    token = httpx.post(f"{w['qbo']}/oauth2/v1/tokens/bearer", auth=("sandbox-qbo-client", "sandbox-qbo-client-secret"),
                       data={"grant_type": "refresh_token", "refresh_token": refresh}).json()
    store = Store(w["state"])  # the sandbox rotated the token: keep the pipeline's copy current
    try:
        store.credentials.save(f"qbo:{REALM}:refresh_token", token["refresh_token"])
    finally:
        store.close()
    r = httpx.get(f"{w['qbo']}/v3/company/{REALM}/{tail}", params={"minorversion": "75"},
                  headers={"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"})
    r.raise_for_status()
    return json_loads(r.content)


def _staged_settlements(w) -> dict[str, dict]:
    """settlement id → the report's summary row, as staged."""
    store = Store(w["state"])
    try:
        records = [json_loads(data) for chunk in store.raw.changed("settlements", 0) for _, data, _ in chunk]
    finally:
        store.close()
    return {r["settlement_id"]: r["summary"] for r in records}


def _posted_journals(w) -> list[tuple[str, str]]:
    store = Store(w["state"])
    try:
        return store.db.fetchall("SELECT o.natural_key, r.destination_id FROM outbox o JOIN results r ON r.key = o.key "
                                 "WHERE o.stream = 'JournalEntry' ORDER BY o.seq")
    finally:
        store.close()


def test_the_shipped_settlements_pipeline_posts_every_settlement_tied_to_the_bank_once(world):
    with world(orders=40) as w:
        first = sync(w["pipeline"])
        assert first.status == "succeeded", first.errors
        assert first.counts["dead_letters_open"] == 0
        summaries = _staged_settlements(w)
        # 4 fortnights of amazon.com: the sandbox's Amazon.ca payouts belong to a pipeline for that marketplace
        assert first.counts["read"]["settlements"] == len(summaries) == 4
        assert {s["currency"] for s in summaries.values()} == {"USD"}
        posted = _posted_journals(w)
        assert first.counts["created"]["JournalEntry"] == len(posted) >= len(summaries)
        # each journal was read back from QuickBooks right after posting, and tied
        assert first.counts["verified"] == len(posted) and first.counts["verify_mismatches"] == 0
        assert httpx.get(f"{w['qbo']}/_sandbox/stats").json()["objects"]["JournalEntry"] == len(posted)

        by_settlement: dict[str, list[dict]] = defaultdict(list)
        for natural_key, dest_id in posted:
            doc = _qbo_get(w, f"journalentry/{dest_id}")["JournalEntry"]
            by_settlement[natural_key.rsplit("/", 1)[-1]].append(doc)
        assert set(by_settlement) == set(summaries)
        split = 0
        for sid, docs in by_settlement.items():
            summary = summaries[sid]
            assert 1 <= len(docs) <= 2  # two when the fortnight crosses a month end
            split += len(docs) == 2
            for doc in docs:
                debits = sum((Decimal(str(l["Amount"])) for l in doc["Line"]
                              if l["JournalEntryLineDetail"]["PostingType"] == "Debit"), Decimal(0))
                credits = sum((Decimal(str(l["Amount"])) for l in doc["Line"]
                               if l["JournalEntryLineDetail"]["PostingType"] == "Credit"), Decimal(0))
                assert debits == credits == Decimal(str(doc["TotalAmt"])) > 0
                assert doc["DocNumber"].startswith(sid)
            if len(docs) == 2:  # each half dated in its own month
                assert docs[0]["TxnDate"][:7] != docs[1]["TxnDate"][:7]
            total = Decimal(summary["total-amount"])
            if summary["currency"] == "CAD":  # converted into the USD books at the pipeline's rate
                total = (total * CAD_RATE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            deposit = [(l["JournalEntryLineDetail"]["PostingType"], Decimal(str(l["Amount"])))
                       for doc in docs for l in doc["Line"]
                       if l["Description"].startswith(("Deposit - settlement", "Negative balance payable"))]
            assert deposit == [("Debit" if total > 0 else "Credit", abs(total))], sid
        assert split >= 1  # the seeded fortnights include a month end

        second = sync(w["pipeline"])
        assert second.status == "succeeded" and second.counts["created"] == {}
        assert httpx.get(f"{w['qbo']}/_sandbox/stats").json()["objects"]["JournalEntry"] == len(posted)

        result = CliRunner().invoke(cli, ["reconcile", str(w["file"]), "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["ok"] and report["findings"] == []
        assert {"settlements_on_hold", "settlement_sequence", "ledger", "reserve_balance"} <= set(report["checks"])
        assert "ledger" not in report["skipped"] and "reserve_balance" not in report["skipped"]
