"""A mapping change after posting never rewrites history: the new journal is held, and applying it posts a
reversal of the old journal and the new version, linked to the old one (DESIGN §4), through the CLI and the
QuickBooks Online sandbox."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import yaml
from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from ledgerlink.settlements import BALANCE_SHEET_ROLES, Role, default_account_map
from ledgerlink.store import Store
from ledgerlink_qbo.client import QboApi
from ledgerlink_qbo.config import QboConfig
from ledgerlink_qbo.destination import credential_name
from sandbox_helpers import sandbox_running

FILE = Path(__file__).parents[1] / "amazon_sp" / "settlement_files" / "v2_month_crossing_USD_19837462011.txt"
INCOME = {Role.SALES, Role.SHIPPING_INCOME, Role.GIFT_WRAP, Role.PROMOTIONS, Role.REFUNDS, Role.REIMBURSEMENTS}


def _chart(extra: str) -> dict[str, dict[str, str]]:
    """The accounts the map names (and one more), with the types a bookkeeper would give them."""
    out = {}
    for role, account in default_account_map().accounts.items():
        kind = ("Bank" if role == Role.BANK else "Other Current Liability" if role in BALANCE_SHEET_ROLES
                else "Income" if role in INCOME else "Expense")
        out.setdefault(account.name, {"AccountType": kind})
    out[extra] = {"AccountType": "Expense"}
    return out


def _pipeline(tmp_path: Path, qbo: str, accounts: dict[str, str]) -> Path:
    path = tmp_path / "settlements.yaml"
    path.write_text(yaml.safe_dump({
        "version": 1, "name": "settlements", "state": str(tmp_path / "state.duckdb"),
        "source": {"connector": "amazon_sp", "streams": ["settlements"], "config": {
            "client_id": "c", "client_secret": "s", "refresh_token": "Atzr|r", "marketplace_ids": ["ATVPDKIKX0DER"],
            "start_date": "2026-01-01T00:00:00Z", "settlement_files": [str(FILE)], "settlement_reports": False}},
        "destination": {"connector": "qbo", "config": {
            "base_url": qbo, "token_url": f"{qbo}/oauth2/v1/tokens/bearer", "realm_id": "9341455000000000",
            "client_id": "sandbox-qbo-client", "client_secret": "sandbox-qbo-client-secret",
            "refresh_token": "sandbox-qbo-refresh-token", "requests_per_minute": 500000,
            "batch_requests_per_minute": 40000, "create_missing_accounts": True,
            "accounts": _chart("Amazon Fulfilment Costs")},
            "options": {"settlements": {"mode": "summary", "accounts": {"accounts": accounts}}}}}))
    return path


def _journals(pipeline_file: Path) -> list[dict]:
    pipeline = load_pipeline(pipeline_file)
    config = QboConfig.model_validate(pipeline.destination.config)
    store = Store(pipeline.state_path)
    name = credential_name(config.realm_id)
    api = QboApi(config, store.credentials.load(name) or config.refresh_token,
                 on_rotate=lambda token: store.credentials.save(name, token))
    try:
        return api.query("SELECT * FROM JournalEntry ORDERBY Id")
    finally:
        api.close()
        store.close()


def _net(journals: list[dict], account: str) -> Decimal:
    total = Decimal(0)
    for je in journals:
        for line in je["Line"]:
            detail = line["JournalEntryLineDetail"]
            if detail["AccountRef"]["name"] == account:
                amount = Decimal(str(line["Amount"]))
                total += amount if detail["PostingType"] == "Debit" else -amount
    return total


def test_a_changed_account_map_is_held_then_reversed_and_replaced(tmp_path):
    accounts = {role.value: acc.name for role, acc in default_account_map().accounts.items()}
    runner = CliRunner()
    with sandbox_running("qbo") as (qbo, _):
        first_file = _pipeline(tmp_path, qbo, accounts)
        first = sync(load_pipeline(first_file))
        assert first.status == "succeeded" and first.counts["created"].get("JournalEntry") == 2, first.counts
        fba_before = _net(_journals(first_file), "Amazon FBA Fees")
        assert fba_before != 0

        # the bookkeeper moves FBA fees to another account: the posted journals are not touched
        changed = _pipeline(tmp_path, qbo, {**accounts, "fba_fees": "Amazon Fulfilment Costs"})
        second = sync(load_pipeline(changed))
        assert second.counts.get("changed_after_posting") == 2 and not second.counts.get("created")
        listed = json.loads(runner.invoke(cli, ["revisions", "list", str(changed), "--json"]).output)
        assert len(listed) == 2 and {h["stream"] for h in listed} == {"JournalEntry"}
        assert len(_journals(changed)) == 2

        applied = runner.invoke(cli, ["revisions", "apply", str(changed), *[h["key"] for h in listed]])
        assert applied.exit_code == 0, applied.output
        third = sync(load_pipeline(changed))
        assert third.counts["created"].get("JournalEntry") == 4, third.counts  # two reversals, two new versions
        journals = _journals(changed)
        assert _net(journals, "Amazon FBA Fees") == 0                      # reversed out of the old account
        assert _net(journals, "Amazon Fulfilment Costs") == fba_before      # and into the new one
        notes = [je.get("PrivateNote", "") for je in journals]
        originals = {je["Id"] for je in journals[:2]}
        reversal_notes = [n for n in notes if "\nreverses JournalEntry " in n]
        assert len(reversal_notes) == 2 and all(any(f"JournalEntry {i} " in n for i in originals) for n in reversal_notes)
        assert sum("\nreplaces JournalEntry " in n for n in notes) == 2

        # nothing is held any more, a fourth sync posts nothing, and the books reconcile
        assert json.loads(runner.invoke(cli, ["revisions", "list", str(changed), "--json"]).output) == []
        fourth = sync(load_pipeline(changed))
        assert not fourth.counts.get("created") and not fourth.counts.get("changed_after_posting")
        reconciled = runner.invoke(cli, ["reconcile", str(changed), "--json"])
        assert reconciled.exit_code == 0, reconciled.output


def test_discard_keeps_what_was_posted_and_a_document_type_without_revision_says_so(tmp_path):
    accounts = {role.value: acc.name for role, acc in default_account_map().accounts.items()}
    runner = CliRunner()
    with sandbox_running("qbo") as (qbo, _):
        sync(load_pipeline(_pipeline(tmp_path, qbo, accounts)))
        changed = _pipeline(tmp_path, qbo, {**accounts, "fba_fees": "Amazon Fulfilment Costs"})
        sync(load_pipeline(changed))
        keys = [h["key"] for h in json.loads(runner.invoke(cli, ["revisions", "list", str(changed), "--json"]).output)]
        assert runner.invoke(cli, ["revisions", "discard", str(changed), *keys]).exit_code == 0
        again = sync(load_pipeline(changed))
        assert not again.counts.get("changed_after_posting") and len(_journals(changed)) == 2
        missing = runner.invoke(cli, ["revisions", "apply", str(changed), keys[0]])
        assert missing.exit_code == 2 and "no held revision" in missing.output


def test_quickbooks_desktop_revision_swaps_debits_and_credits_within_its_limits():
    from ledgerlink import PostedDocument
    from ledgerlink_qb_desktop.plans.revisions import revise

    old = {"JournalEntryAdd": {"TxnDate": "2026-02-08", "RefNumber": "19837462011", "Memo": "ll old-key\nsettlement",
                               "JournalDebitLine": [{"AccountRef": {"FullName": "Bank"}, "Amount": "58.04"}],
                               "JournalCreditLine": [{"AccountRef": {"FullName": "Sales"}, "Amount": "58.04"}]}}
    new = {"JournalEntryAdd": {**old["JournalEntryAdd"],
                               "JournalCreditLine": [{"AccountRef": {"FullName": "Sales 2"}, "Amount": "58.04"}]}}
    reversal, version = revise(PostedDocument("JournalEntry:k", "JournalEntry", old, "TXN-1"), new, 1)
    body = reversal.data["JournalEntryAdd"]
    assert body["JournalDebitLine"] == old["JournalEntryAdd"]["JournalCreditLine"]
    assert body["JournalCreditLine"] == old["JournalEntryAdd"]["JournalDebitLine"]
    assert len(body["RefNumber"]) <= 11 and body["RefNumber"].endswith("-R1")
    assert body["Memo"].splitlines()[1] == "reverses TxnID TXN-1"
    assert version.depends_on == [reversal.key] and version.key == "JournalEntry:k~v2"
    assert version.data["JournalEntryAdd"]["JournalCreditLine"][0]["AccountRef"]["FullName"] == "Sales 2"
    assert len(version.data["JournalEntryAdd"]["RefNumber"]) <= 11
