"""A document deleted by hand in QuickBooks (issue 19): `reconcile` finds it and names the command;
`ledgerlink revisions repost` posts it again, once, under a new key linked to the old one; reconcile then ties."""

from __future__ import annotations

from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.pipeline import load_pipeline
from ledgerlink.reconcile import open_context, reconcile
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, write_shipped


def _ledger(pipeline):
    ctx = open_context(pipeline)
    try:
        return reconcile(ctx, only=["ledger"])
    finally:
        ctx.store.close()


def test_a_receipt_deleted_in_quickbooks_is_found_and_reposted_once_with_a_link(tmp_path, monkeypatch):
    with sandbox_running("amazon_sp", orders=3) as (amazon, _), sandbox_running("qbo") as (qbo, sandbox):
        path = write_shipped(tmp_path, "amazon-to-qbo.yaml")
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon), **qbo_env(qbo)}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        pipeline = load_pipeline(path, env=env)
        first = sync(pipeline)
        assert first.status == "succeeded" and first.counts["created"]["SalesReceipt"] > 0, first.errors
        store = Store(pipeline.state_path)
        try:
            key, receipt_id = store.db.fetchall(
                "SELECT o.key, r.destination_id FROM outbox o JOIN results r ON r.key = o.key "
                "WHERE o.stream = 'SalesReceipt' ORDER BY o.key LIMIT 1")[0]
        finally:
            store.close()
        runner = CliRunner()
        still_there = runner.invoke(cli, ["revisions", "repost", str(path), key])
        assert still_there.exit_code == 2 and "still in the ledger" in still_there.output

        doc = sandbox.company.get("SalesReceipt", receipt_id)
        sandbox.company.delete("SalesReceipt", {"Id": receipt_id, "SyncToken": doc["SyncToken"]})
        [missing] = _ledger(pipeline).findings
        assert missing.subject.endswith(key.split(":", 1)[1]) and f"revisions repost PIPELINE.yaml {key}" in \
            missing.hint

        reposted = runner.invoke(cli, ["revisions", "repost", str(path), key])
        assert reposted.exit_code == 0 and f"queued {key}~repost-1" in reposted.output, reposted.output
        twice = runner.invoke(cli, ["revisions", "repost", str(path), key])
        assert twice.exit_code == 2 and "reposted already" in twice.output
        again = sync(pipeline)
        assert again.status == "succeeded" and again.counts["created"] == {"SalesReceipt": 1}, again.errors
        assert _ledger(pipeline).ok
        [new] = [d for d in sandbox.company.entities["SalesReceipt"].values()
                 if d["PrivateNote"].startswith(f"ledgerlink {key}~repost-1")]
        assert f"reposts SalesReceipt {receipt_id} ({key})" in new["PrivateNote"]
        assert sync(pipeline).counts["created"] == {}  # and never twice
        never = runner.invoke(cli, ["revisions", "repost", str(path), "SalesReceipt:nope"])
        assert never.exit_code == 2 and "never posted" in never.output
