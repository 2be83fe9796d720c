"""Revisions of every document type (issue 19): a posted sales receipt whose plan changed is held; `revisions
show` says what changed; setting the option back releases the hold; `revisions apply --all --type SalesReceipt`
voids each posted receipt and posts the new version, linked both ways, in the QuickBooks Online sandbox. The
QuickBooks Desktop side: the void and the new version go through the Web Connector into the simulator."""

from __future__ import annotations

import json
from decimal import Decimal

from click.testing import CliRunner

from ledgerlink import OutboundRecord, PostedDocument, json_dumps, json_loads
from ledgerlink.cli import cli
from ledgerlink.pipeline import load_pipeline
from ledgerlink.revisions import held_revisions
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qb_desktop.sandbox import CompanyFile
from ledgerlink_qbo.client import QboApi
from ledgerlink_qbo.config import QboConfig
from ledgerlink_qbo.destination import QuickBooksOnlineDestination, credential_name
from sandbox_helpers import bridge_session, amazon_env, qbo_env, sandbox_running, write_shipped

PIPELINE = "amazon-to-qbo.yaml"


def _deposit_option(text: str) -> str:
    return text.replace("deposit_account: Undeposited Funds", "deposit_account: ${DEPOSIT_TO:-Undeposited Funds}")


def _receipts(pipeline) -> list[dict]:
    config = QboConfig.model_validate(pipeline.destination.config)
    store = Store(pipeline.state_path)
    name = credential_name(config.realm_id)
    api = QboApi(config, store.credentials.load(name) or config.refresh_token,
                 on_rotate=lambda token: store.credentials.save(name, token))
    try:
        return api.query("SELECT * FROM SalesReceipt ORDERBY Id")
    finally:
        api.close()
        store.close()


def _cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_a_changed_receipt_is_held_shown_released_when_set_back_and_revised_by_void_and_new_version(
        tmp_path, monkeypatch):
    with sandbox_running("amazon_sp", orders=4) as (amazon, _), sandbox_running("qbo") as (qbo, _):
        path = write_shipped(tmp_path, PIPELINE, _deposit_option)
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon), **qbo_env(qbo)}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        first = sync(load_pipeline(path, env=env))
        assert first.status == "succeeded" and first.counts["created"]["SalesReceipt"] > 0, first.errors
        posted = first.counts["created"]["SalesReceipt"]

        moved = {**env, "DEPOSIT_TO": "Checking"}
        monkeypatch.setenv("DEPOSIT_TO", "Checking")
        changed = sync(load_pipeline(path, env=moved))
        assert changed.counts["changed_after_posting"] == posted and not changed.counts["created"]
        shown = _cli("revisions", "show", str(path), (key := sorted(h.key for h in _held(path))[0]), "--json")
        assert shown.exit_code == 0, shown.output
        changes = json.loads(shown.output)["changes"]
        assert [c["path"] for c in changes] == ["DepositToAccountRef.name"]
        assert (changes[0]["old"], changes[0]["new"]) == ("Undeposited Funds", "Checking")

        monkeypatch.delenv("DEPOSIT_TO")  # set back: the holds it caused are released
        back = sync(load_pipeline(path, env=env))
        assert back.status == "succeeded" and back.counts["changed_after_posting"] == 0 and not _held(path)

        monkeypatch.setenv("DEPOSIT_TO", "Checking")
        sync(load_pipeline(path, env=moved))
        assert len(_held(path)) == posted
        wrong = _cli("revisions", "apply", str(path), "--all", "--type", "Invoice")
        assert wrong.exit_code == 0 and "nothing held matches" in wrong.output
        applied = _cli("revisions", "apply", str(path), "--all", "--type", "SalesReceipt", "--from", "2000-01-01")
        assert applied.exit_code == 0 and applied.output.count("queued") == posted, applied.output
        revised = sync(load_pipeline(path, env=moved))
        assert revised.status == "succeeded" and revised.counts["created"]["SalesReceipt"] == posted, revised.errors
        assert not _held(path) and revised.counts["dead_letters_open"] == 0

        receipts = _receipts(load_pipeline(path, env=moved))
        old = [r for r in receipts if not str(r.get("DocNumber", "")).endswith("-V2")]
        new = {r["DocNumber"]: r for r in receipts if str(r.get("DocNumber", "")).endswith("-V2")}
        assert len(old) == len(new) == posted
        for r in old:  # voided, kept with its number; the new version names it and the void
            assert Decimal(str(r["TotalAmt"])) == 0
            [version] = [v for v in new.values() if f"replaces SalesReceipt {r['Id']} " in v["PrivateNote"]]
            note = version["PrivateNote"].splitlines()
            assert note[0].endswith("~v2") and version["DocNumber"][:-3] in r["DocNumber"]
            assert "voided by " in note[1] and version["DepositToAccountRef"]["name"] == "Checking"
        again = _cli("revisions", "apply", str(path), key)  # applied once: never twice
        assert again.exit_code == 2 and "no held revision" in again.output


def _held(path):
    store = Store(load_pipeline(path).state_path)
    try:
        return held_revisions(store)
    finally:
        store.close()


def test_every_document_type_revises_in_both_ledgers():
    """What apply asks each destination for: QBO voids receipts and invoices and mirrors credit memos and
    refund receipts; QuickBooks Desktop voids receipts, invoices and credit memos. The new version always
    depends on the undoing document, and names it."""
    qbo, qbd = QuickBooksOnlineDestination(), QuickBooksDesktopDestination()
    expect = {"SalesReceipt": "Void", "Invoice": "Void", "CreditMemo": "Invoice", "RefundReceipt": "SalesReceipt"}
    for stream, undo_stream in expect.items():
        old = {"DocNumber": "1001", "TxnDate": "2026-11-02", "PrivateNote": f"ledgerlink {stream}:x\nnote",
               "CustomerRef": {"name": "Amazon"}, "Line": [{"Amount": "5.00"}]}
        posted = PostedDocument(key=f"{stream}:x", stream=stream, data=old, destination_id="77", natural_key="x")
        undo, version = qbo.revise(posted, {**old, "Line": [{"Amount": "6.00"}]}, 1)
        assert undo.stream == undo_stream and version.stream == stream and version.depends_on == [undo.key]
        assert version.data["DocNumber"] == "1001-V2" and f"replaces {stream} 77 ({stream}:x)" in \
            version.data["PrivateNote"] and undo.key in version.data["PrivateNote"]
        if undo_stream != "Void":
            assert undo.data["Line"] == old["Line"] and f"reverses {stream} 77" in undo.data["PrivateNote"]
    for stream in ("SalesReceipt", "Invoice", "CreditMemo"):
        body = {"RefNumber": "111-1234567", "TxnDate": "2026-11-02", "Memo": f"ledgerlink {stream}:x"}
        posted = PostedDocument(key=f"{stream}:x", stream=stream, data={f"{stream}Add": body}, destination_id="8-1",
                                natural_key="x")
        void, version = qbd.revise(posted, {f"{stream}Add": {**body, "Memo": "new"}}, 1)
        assert void.data == {"TxnVoid": {"TxnVoidType": stream, "TxnID": "8-1"}}
        assert version.data[f"{stream}Add"]["RefNumber"] == "111-1234-V2" and version.depends_on == [void.key]


def test_a_desktop_receipt_is_voided_and_reposted_through_the_web_connector():
    company = CompanyFile()
    company.items["mug"] = {**company._list_obj(Name="Mug"), "Ret": "ItemNonInventoryRet", "Account": "Sales"}
    body = {"TxnDate": "2026-11-02", "RefNumber": "111-1", "Memo": "ledgerlink SalesReceipt:o1",
            "DepositToAccountRef": {"FullName": "Undeposited Funds"},
            "SalesReceiptLineAdd": [{"ItemRef": {"FullName": "Mug"}, "Amount": "20.00"}]}
    first = _send(company, [OutboundRecord(key="SalesReceipt:o1", stream="SalesReceipt",
                                           data={"SalesReceiptAdd": body})])
    posted = PostedDocument(key="SalesReceipt:o1", stream="SalesReceipt", data={"SalesReceiptAdd": body},
                            destination_id=first["SalesReceipt:o1"][0], natural_key="o1")
    new = {"SalesReceiptAdd": {**body, "DepositToAccountRef": {"FullName": "Checking"}}}
    void, version = QuickBooksDesktopDestination().revise(posted, new, 1)
    _send(company, [OutboundRecord(key=void.key, stream=void.stream, data=json_loads(json_dumps(void.data)))])
    _send(company, [OutboundRecord(key=version.key, stream=version.stream, data=json_loads(json_dumps(version.data)))])
    old, replacement = company.txns["SalesReceipt"]
    assert old["Memo"].startswith("VOID:") and old["TotalAmount"] == "0.00"
    assert replacement["RefNumber"] == "111-1-V2" and f"replaces SalesReceipt TxnID {old['TxnID']}" in \
        replacement["Memo"]
    assert company.account_balance("Undeposited Funds") == 0 and company.account_balance("Checking") == Decimal(20)


def _send(company: CompanyFile, records: list[OutboundRecord]) -> dict:
    queue = bridge_session(company, records, rounds=10)
    assert not queue.failed, queue.failed
    return queue.confirmed
