"""The QuickBooks Online source against the sandbox over loopback: discover, the first read by query (paged by
time), later reads by change data capture with deletions flagged, CDC's cap and window, inventory quantities,
rotated tokens, and `ledgerlink read qbo` on the command line."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from ledgerlink import RetryPolicy, protocol
from ledgerlink_qbo import QuickBooksOnlineSource
from ledgerlink_qbo import streams as qbo_streams
from ledgerlink_qbo.sandbox.faults import TZ
from qbo_helpers import Live

STREAM_NAMES = ["customers", "items", "accounts", "tax_codes", "payment_methods", "classes", "departments",
                "sales_receipts", "invoices", "payments", "credit_memos",
                "refund_receipts", "journal_entries", "deposits"]


@pytest.fixture(autouse=True)
def no_settling(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cursor moves up to the server's time itself (not 5 minutes before), so a test sees only its changes."""
    monkeypatch.setattr(qbo_streams, "SETTLE", timedelta(0))


class Recording(httpx.BaseTransport):
    """Real loopback HTTP, with the path and query of every request kept."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[tuple[str, dict[str, str]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.url.path, dict(request.url.params)))
        return self.inner.handle_request(request)

    def calls(self, tail: str) -> list[dict[str, str]]:
        return [params for path, params in self.requests if path.endswith("/" + tail)]


def source(recording: Recording | None = None, **kw: Any) -> QuickBooksOnlineSource:
    return QuickBooksOnlineSource(transport=recording, retry=RetryPolicy(max_attempts=3, base_delay=0.001,
                                                                         jitter=False), sleep=lambda s: None, **kw)


def age(live: Live, hours: int = 2) -> None:
    """Everything in the company was last changed `hours` ago (the sandbox stamps whole seconds)."""
    old = (datetime.now(TZ) - timedelta(hours=hours)).isoformat(timespec="seconds")
    for objects in live.sandbox.company.entities.values():
        for obj in objects.values():
            obj["MetaData"] = {"CreateTime": old, "LastUpdatedTime": old}


def read(src: QuickBooksOnlineSource, config: dict[str, Any], state: Any = None, streams: list[str] | None = None
         ) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], list[protocol.Message]]:
    """(records by stream, the last STATE of each stream as Airbyte JSON, every message). A rotated refresh
    token replaces the one in `config`, as the runtime stores it."""
    catalog = None
    if streams is not None:
        classes = {c.name: c for c in src.stream_classes()}
        catalog = protocol.ConfiguredCatalog(streams=[protocol.ConfiguredStream(
            stream=classes[name].airbyte_stream(), sync_mode=protocol.SyncMode.incremental,
            destination_sync_mode=protocol.DestinationSyncMode.append_dedup) for name in streams])
    messages = list(src.read(config, catalog, state))
    records: dict[str, list[dict[str, Any]]] = {}
    states: dict[str, dict[str, Any]] = {}
    for m in messages:
        if m.control is not None and m.control.connectorConfig is not None:
            config["refresh_token"] = m.control.connectorConfig.config["refresh_token"]
        if m.record is not None:
            records.setdefault(m.record.stream, []).append(m.record.data)
        elif m.state is not None and m.state.stream is not None:
            states[m.state.stream.stream_descriptor.name] = m.state.model_dump(mode="json", exclude_none=True)
    return records, list(states.values()), messages


def sell(live: Live, doc: str, item: str = "Services", qty: int = 1, price: str = "10.00") -> dict[str, Any]:
    """A sales receipt made in QuickBooks by someone else (straight into the sandbox company: no tokens used)."""
    item_id = live.sandbox.company.id_named("Item", item)
    return live.sandbox.company.save("SalesReceipt", {"DocNumber": doc, "Line": [{
        "Amount": Decimal(price) * qty, "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": qty, "UnitPrice": Decimal(price)}}]})


def delete(live: Live, entity: str, obj: dict[str, Any]) -> None:
    live.sandbox.company.delete(entity, {"Id": obj["Id"], "SyncToken": obj["SyncToken"]})


def test_discover_lists_the_fourteen_streams_keyed_by_id_with_a_cursor():
    catalog = QuickBooksOnlineSource().discover({})
    assert [s.name for s in catalog.streams] == STREAM_NAMES
    for stream in catalog.streams:
        assert stream.source_defined_primary_key == [["Id"]]
        assert stream.default_cursor_field == ["ledgerlink_updated_at"] and stream.source_defined_cursor
        assert [m.value for m in stream.supported_sync_modes] == ["full_refresh", "incremental"]
    assert {c.entity for c in QuickBooksOnlineSource().stream_classes()} == {  # type: ignore[attr-defined]
        "Customer", "Item", "Account", "TaxCode", "PaymentMethod", "Class", "Department", "SalesReceipt", "Invoice",
        "Payment", "CreditMemo", "RefundReceipt", "JournalEntry", "Deposit"}


def test_the_first_read_queries_every_object_with_its_money_exact(live: Live):
    sale = sell(live, "S-1", "Sprinkler Heads", qty=2, price="12.345")  # 24.69
    recording = Recording()
    records, states, _ = read(source(recording), live.config())
    company = live.sandbox.company
    assert sorted(r["Id"] for r in records["accounts"]) == sorted(company.entities["Account"])
    # inactive customers too: QBO hides them from queries unless Active is named
    assert sorted(r["Id"] for r in records["customers"]) == sorted(company.entities["Customer"])
    assert any(r["Active"] is False for r in records["customers"])
    receipt = records["sales_receipts"][0]
    assert receipt["Id"] == sale["Id"] and receipt["TotalAmt"] == Decimal("24.69")
    assert isinstance(receipt["TotalAmt"], Decimal) and receipt["ledgerlink_deleted"] is False
    sprinklers = [r for r in records["items"] if r["Name"] == "Sprinkler Heads"]
    assert sprinklers and all(r["QtyOnHand"] == Decimal(23) for r in sprinklers)
    stamp = datetime.fromisoformat(receipt["MetaData"]["LastUpdatedTime"]).astimezone(timezone.utc)
    assert receipt["ledgerlink_updated_at"] == stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    queries = [p["query"] for p in recording.calls("query")]
    assert ("select * from SalesReceipt where Metadata.LastUpdatedTime >= '2000-01-01T00:00:00+00:00' orderby "
            "Metadata.LastUpdatedTime startposition 1 maxresults 1000") in queries
    assert any(q.startswith("select * from Customer where") and "Active in (true, false)" in q for q in queries)
    assert not recording.calls("cdc")
    assert {s["stream"]["stream_descriptor"]["name"] for s in states} == set(STREAM_NAMES)
    assert all(s["stream"]["stream_state"]["ledgerlink_updated_at"] >= receipt["ledgerlink_updated_at"]
               for s in states)


def test_query_pages_by_time_and_reads_each_object_once(live: Live):
    """Pages of 2: a time stamp shared by more objects than a page is stepped through with startposition; a
    newer one restarts the paging there."""
    company = live.sandbox.company
    ids = sorted(company.entities["Account"], key=int)
    for n, account_id in enumerate(ids):  # 13 accounts over 4 time stamps, the first shared by 7
        when = (datetime(2026, 1, 1, 9, tzinfo=TZ) + timedelta(minutes=max(0, n - 6))).isoformat()
        company.entities["Account"][account_id]["MetaData"] = {"CreateTime": when, "LastUpdatedTime": when}
    recording = Recording()
    records, _, _ = read(source(recording), live.config(page_size=2), streams=["accounts"])
    got = [r["Id"] for r in records["accounts"]]
    assert sorted(got, key=int) == ids and len(got) == len(set(got))
    queries = [p["query"] for p in recording.calls("query")]
    assert any("startposition 3 " in q for q in queries)  # stepping through the shared stamp
    assert any("'2026-01-01T17:01:00+00:00'" in q and "startposition 1 " in q for q in queries)  # restarted


def test_an_object_updated_while_the_pages_are_read_is_not_lost(live: Live):
    """Offset paging would skip an unread object when one already read moves behind the cursor."""
    company = live.sandbox.company
    ids = sorted(company.entities["Account"], key=int)
    for n, account_id in enumerate(ids):
        when = (datetime(2026, 1, 1, 9, tzinfo=TZ) + timedelta(minutes=n)).isoformat()
        company.entities["Account"][account_id]["MetaData"] = {"CreateTime": when, "LastUpdatedTime": when}
    src = source()
    config = src.parse_config(live.config(page_size=3))
    stream = qbo_streams.STREAMS[2](config, src.api(config))  # type: ignore[arg-type]
    seen = []
    for item in stream.read_records({}):
        if isinstance(item, dict):
            seen.append(item["Id"])
            if len(seen) == 1:  # someone renames the first account meanwhile
                account = company.entities["Account"][item["Id"]]
                company.save("Account", {"Id": item["Id"], "SyncToken": account["SyncToken"], "sparse": True,
                                         "Description": "changed"})
    assert set(seen) == set(ids)


def test_later_reads_use_change_data_capture_and_flag_deletions(live: Live):
    age(live)
    src, config = source(recording := Recording()), live.config()
    _, state, _ = read(src, config)
    kept, gone = sell(live, "S-1"), sell(live, "S-2")
    delete(live, "SalesReceipt", gone)
    cool = live.sandbox.company.get("Customer", live.sandbox.company.id_named("Customer", "Cool Cars"))
    live.sandbox.company.save("Customer", {"Id": cool["Id"], "SyncToken": cool["SyncToken"], "sparse": True,
                                           "Active": False})
    recording.requests.clear()
    records, _, _ = read(src, config, state)
    assert {r["Id"]: r["ledgerlink_deleted"] for r in records["sales_receipts"]} == {kept["Id"]: False,
                                                                                     gone["Id"]: True}
    stub = next(r for r in records["sales_receipts"] if r["Id"] == gone["Id"])
    assert stub["status"] == "Deleted" and set(stub) == {"domain", "status", "Id", "MetaData",
                                                        "ledgerlink_updated_at", "ledgerlink_deleted"}
    assert [(r["DisplayName"], r["Active"]) for r in records["customers"]] == [("Cool Cars", False)]
    assert "accounts" not in records and "invoices" not in records  # nothing changed there
    assert len(recording.calls("cdc")) == len(STREAM_NAMES) and not recording.calls("query")[:-1]  # the last: inventory items
    assert [p["entities"] for p in recording.calls("cdc")][:3] == ["Customer", "Item", "Account"]


def test_the_runtime_stages_the_deletion_over_the_object_it_replaces(live: Live, tmp_path):
    """Read → stage twice through the runtime's extract: the deletion's cursor is newer, so it wins."""
    from ledgerlink.runtime.extract import extract
    from ledgerlink.store import Store

    age(live)
    receipt, other = sell(live, "S-1"), sell(live, "S-2")
    store = Store(tmp_path / "state.duckdb")
    try:
        extract(source(), live.config(), ["sales_receipts"], store, 1)
        assert store.raw.get("sales_receipts", receipt["Id"])["ledgerlink_deleted"] is False
        delete(live, "SalesReceipt", receipt)
        extract(source(), live.config(), ["sales_receipts"], store, 2)
        staged = store.raw.get("sales_receipts", receipt["Id"])
        assert staged["ledgerlink_deleted"] is True and staged["status"] == "Deleted"
        assert store.raw.get("sales_receipts", other["Id"])["TotalAmt"] == Decimal("10.00")
        assert store.raw.count("sales_receipts") == 2
    finally:
        store.db.close()


def test_a_cdc_answer_at_its_maximum_falls_back_to_queries_and_keeps_its_deletions(
        live: Live, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(qbo_streams, "CDC_MAX_OBJECTS", 3)
    age(live)
    src, config = source(recording := Recording()), live.config()
    _, state, _ = read(src, config, streams=["sales_receipts"])
    receipts = [sell(live, f"S-{n}") for n in range(4)]
    delete(live, "SalesReceipt", receipts[0])
    recording.requests.clear()
    records, _, _ = read(src, config, state, streams=["sales_receipts"])
    assert len(recording.calls("cdc")) == 1 and len(recording.calls("query")) == 1
    got = {r["Id"]: r["ledgerlink_deleted"] for r in records["sales_receipts"]}
    assert got == {receipts[0]["Id"]: True, **{r["Id"]: False for r in receipts[1:]}}


def test_a_state_older_than_cdcs_window_is_read_by_query(live: Live):
    age(live)
    config = live.config()
    _, state, _ = read(source(), config, streams=["invoices"])
    later = source(recording := Recording(), now=lambda: datetime.now(timezone.utc) + timedelta(days=31))
    read(later, config, state, streams=["invoices"])
    assert not recording.calls("cdc") and len(recording.calls("query")) == 1
    config["change_data_capture"] = False
    read(source(recording := Recording()), config, state, streams=["invoices"])
    assert not recording.calls("cdc") and len(recording.calls("query")) == 1


def test_inventory_quantities_are_read_again_when_a_sale_moves_them(live: Live):
    """A sale moves QtyOnHand without touching the item's LastUpdatedTime; the items stream still sees it."""
    age(live)
    src, config = source(), live.config()
    _, state, _ = read(src, config, streams=["items"])
    sell(live, "S-1", "Sprinkler Heads", qty=3)
    records, _, _ = read(src, config, state, streams=["items"])
    assert [(r["Name"], r["QtyOnHand"]) for r in records["items"]] == [("Sprinkler Heads", Decimal(22))]


def test_without_settling_to_zero_the_cursor_stays_five_minutes_behind_the_server(
        live: Live, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(qbo_streams, "SETTLE", timedelta(minutes=5))
    age(live)
    _, state, _ = read(source(), live.config(), streams=["deposits"])
    cursor = datetime.fromisoformat(state[0]["stream"]["stream_state"]["ledgerlink_updated_at"].replace("Z", "+00:00"))
    behind = datetime.now(timezone.utc) - cursor
    assert timedelta(minutes=4) < behind < timedelta(minutes=6)


def test_a_rotated_refresh_token_reaches_the_runtime_before_any_record(live: Live):
    _, _, messages = read(source(), live.config(), streams=["accounts"])
    kinds = [m.type.value for m in messages if m.type.value in ("CONTROL", "RECORD")]
    assert kinds[0] == "CONTROL" and kinds.count("CONTROL") == 1
    control = next(m for m in messages if m.control is not None)
    rotated = control.control.connectorConfig.config["refresh_token"]  # type: ignore[union-attr]
    assert rotated != live.sandbox.options.refresh_token and rotated in live.sandbox.tokens._refresh_tokens


def test_a_source_only_run_stores_the_rotated_tokens_new_expiry_beside_it(live: Live, tmp_path):
    """A pipeline that only reads from QuickBooks refreshes the token too: Intuit's new expiry (a rolling 100
    days) replaces the stored one, as the destination's refresh does, so `token_expiring` does not fire on an
    expiry that has long been renewed."""
    import time

    from ledgerlink import expiry_name
    from ledgerlink.runtime.extract import extract
    from ledgerlink.store import Store
    from ledgerlink_qbo.auth import credential_name

    token, expiry = credential_name(live.realm), expiry_name(credential_name(live.realm))
    store = Store(tmp_path / "state.duckdb")
    try:
        store.credentials.save(expiry, f"{time.time() + 3 * 86400:.0f}")  # stored at Connect, 97 days ago
        extract(source(), live.config(), ["accounts"], store, 1)
        assert store.credentials.load(token) in live.sandbox.tokens._refresh_tokens  # the rotated token, stored
        assert float(store.credentials.load(expiry)) >= time.time() + 99 * 86400  # and its new expiry beside it
    finally:
        store.db.close()


def test_a_source_check_stores_the_rotated_tokens_new_expiry(live: Live):
    import time

    from ledgerlink import CheckContext, expiry_name
    from ledgerlink_qbo.auth import credential_name

    saved: dict[str, str] = {}
    context = CheckContext(save_credential=saved.__setitem__, rotated=lambda field, value: None)
    assert source().check(live.config(), context).status.value == "SUCCEEDED"
    assert float(saved[expiry_name(credential_name(live.realm))]) >= time.time() + 99 * 86400


def test_check_succeeds_and_fails_with_the_reason(live: Live):
    assert source().check(live.config()).status.value == "SUCCEEDED"
    failed = source().check(live.config(realm_id="123"))
    assert failed.status.value == "FAILED" and "123" in str(failed.message)


def test_ledgerlink_read_qbo_on_the_command_line(live: Live, tmp_path):
    from ledgerlink.cli import cli

    config, catalog = tmp_path / "config.json", tmp_path / "catalog.json"
    config.write_text(json.dumps(live.config()))
    stream = QuickBooksOnlineSource().discover({}).streams[2].model_dump(mode="json", exclude_none=True)
    catalog.write_text(json.dumps({"streams": [{"stream": stream, "sync_mode": "incremental",
                                                "destination_sync_mode": "append_dedup"}]}))
    result = CliRunner().invoke(cli, ["read", "qbo", "--config", str(config), "--catalog", str(catalog)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    kinds = Counter(m["type"] for m in lines)
    assert kinds["RECORD"] == len(live.sandbox.company.entities["Account"]) and kinds["STATE"] >= 1
    assert {m["record"]["stream"] for m in lines if m["type"] == "RECORD"} == {"accounts"}
    spec = CliRunner().invoke(cli, ["spec", "qbo", "--role", "source"])
    props = json.loads(spec.output.splitlines()[0])["spec"]["connectionSpecification"]["properties"]
    assert "start_date" in props and props["webhook_verifier_token"]["airbyte_secret"]


def test_every_streams_records_are_intuits_objects_by_the_xsd(live: Live):
    """What the source emits is QBO's own object (plus the two ledgerlink fields): names and types by the XSD."""
    from qbo_helpers import REFERENCE
    from qbo_xsd import Schema
    from test_qbo_documents import invoice, journal, open_destination, payment, rec, write

    services = {"Amount": "7.50", "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"name": "Services"}}}
    results = write(open_destination(live), [
        invoice(1), payment(1, "INV-1", "40.00"), journal(1, "3.00", "3.00"),
        rec("CreditMemo", "c1", {"DocNumber": "CM-1", "CustomerRef": {"name": "Cool Cars"}, "Line": [services]}),
        rec("RefundReceipt", "f1", {"DocNumber": "RF-1", "CustomerRef": {"name": "Cool Cars"},
                                    "DepositToAccountRef": {"name": "Checking"}, "Line": [services]}),
        rec("Deposit", "d1", {"TxnDate": "2025-04-04", "DepositToAccountRef": {"name": "Checking"}, "Line": [
            {"Amount": "-2.90", "DetailType": "DepositLineDetail", "DepositLineDetail": {
                "AccountRef": {"name": "Merchant Fees"}, "Entity": {"name": "Cool Cars", "type": "Customer"}}}]})])
    assert all(r.ok for r in results.values()), [str(r.error) for r in results.values() if not r.ok]
    gone = sell(live, "S-1")
    config = {**live.config(), "refresh_token": live.sandbox.tokens._refresh_tokens[-1]}
    first, state, _ = read(source(), config)
    delete(live, "SalesReceipt", gone)
    sell(live, "S-2")
    second, _, _ = read(source(), config, state)  # CDC, with the deletion
    schema = Schema(REFERENCE / "xsd")
    entities = {cls.name: cls.entity for cls in QuickBooksOnlineSource().stream_classes()}  # type: ignore[attr-defined]
    seen = set()
    for records in (first, second):
        for stream, rows in records.items():
            for row in rows:
                obj = {k: v for k, v in row.items() if not k.startswith("ledgerlink_")}
                assert schema.problems({entities[stream]: obj}) == [], (stream, row["Id"])
                seen.add(stream)
    assert seen == set(STREAM_NAMES)
    assert any(r["ledgerlink_deleted"] for r in second["sales_receipts"])
