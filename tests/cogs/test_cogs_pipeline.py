"""End to end: the shipped amazon-settlements-to-qbo pipeline with cost of goods on, against the Amazon and
QuickBooks Online sandboxes over real loopback sockets. A SKU without a cost holds its settlement with the SKU
named (nothing of it posts, never a zero cost); once the costs file names it, `ledgerlink dlq retry` posts the
settlement and its COGS journal once; COGS equals units × cost per SKU, every line names its report rows, the
trial balance of the company balances, and a second sync posts nothing."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from decimal import Decimal

import httpx
import pytest
from click.testing import CliRunner

from ledgerlink import json_loads
from ledgerlink.cli import cli
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from ledgerlink_amazon_sp.sandbox.seed import SKUS
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, write_shipped

SHIPPED = "amazon-settlements-to-qbo.yaml"
REALM = "9341455000000000"
#: a unit cost per seeded SKU: 40 % of its US price
COSTS = {s.sku: (Decimal(s.usd) * Decimal("0.4")).quantize(Decimal("0.01")) for s in SKUS}
HELD_SKU = SKUS[0].sku

_ACCOUNTS = """      Inventory Asset: {AccountType: Other Current Asset, AccountSubType: Inventory}
      Cost of Goods Sold: {AccountType: Cost of Goods Sold, AccountSubType: SuppliesMaterialsCogs}
      Inventory Shrinkage: {AccountType: Cost of Goods Sold, AccountSubType: OtherCostsOfServiceCos}
      Amazon Deferred Transactions: {AccountType: Other Current Asset, AccountSubType: OtherCurrentAssets}
"""


def _edit(costs_file: str):
    def edit(text: str) -> str:
        text = text.replace("      Payable to Amazon: {AccountType: Other Current Liability",
                            _ACCOUNTS + "      Payable to Amazon: {AccountType: Other Current Liability", 1)
        return text.replace("  options:\n    settlements:\n",
                            f"  options:\n    cogs:\n      enabled: true\n      costs: {costs_file}\n"
                            f"    settlements:\n", 1)
    return edit


def _write_costs(path, skip: str | None = None) -> None:
    path.write_text("sku,cost\n" + "".join(f"{sku},{cost}\n" for sku, cost in COSTS.items() if sku != skip))


@pytest.fixture
def world(tmp_path, monkeypatch):
    @contextlib.contextmanager
    def make(orders: int = 40):
        with sandbox_running("amazon_sp", orders=orders) as (amazon, _), sandbox_running("qbo") as (qbo, _):
            costs = tmp_path / "costs.csv"
            pipeline_file = write_shipped(tmp_path, SHIPPED, _edit(str(costs)))
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
                   **qbo_env(qbo, batch_per_minute="40000")}
            for k, v in env.items():
                monkeypatch.setenv(k, v)
            yield {"qbo": qbo, "file": pipeline_file, "costs": costs, "state": tmp_path / "state.duckdb",
                   "pipeline": load_pipeline(pipeline_file, env=env)}
    return make


def _qbo_get(w, tail: str) -> dict:
    store = Store(w["state"])
    try:
        refresh = store.credentials.load(f"qbo:{REALM}:refresh_token") or "sandbox-qbo-refresh-token"
        token = httpx.post(f"{w['qbo']}/oauth2/v1/tokens/bearer",
                           auth=("sandbox-qbo-client", "sandbox-qbo-client-secret"),
                           data={"grant_type": "refresh_token", "refresh_token": refresh}).json()
        store.credentials.save(f"qbo:{REALM}:refresh_token", token["refresh_token"])
    finally:
        store.close()
    r = httpx.get(f"{w['qbo']}/v3/company/{REALM}/{tail}", params={"minorversion": "75"},
                  headers={"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"})
    r.raise_for_status()
    return json_loads(r.content)


def _settlement_units(w) -> dict[str, dict[str, Decimal]]:
    """settlement id → SKU → units sold less units refunded, counted from the staged report's own rows."""
    store = Store(w["state"])
    try:
        records = [json_loads(data) for chunk in store.raw.changed("settlements", 0) for _, data, _ in chunk]
    finally:
        store.close()
    out: dict[str, dict[str, Decimal]] = {}
    for rec in records:
        units: dict[str, Decimal] = defaultdict(Decimal)
        for row in rec["rows"]:
            v = row["values"]
            if v.get("amount-type") == "ItemPrice" and v.get("amount-description") == "Principal":
                sign = {"Order": 1, "Refund": -1}.get(v["transaction-type"], 0)
                units[v["sku"]] += sign * Decimal(v["quantity-purchased"])
            if v.get("amount-description") == "WAREHOUSE_DAMAGE":
                units[v["sku"]] += Decimal(v["quantity-purchased"])
        out[rec["settlement_id"]] = dict(units)
    return out


def _journals(w) -> list[tuple[str, str, str]]:
    store = Store(w["state"])
    try:
        return store.db.fetchall("SELECT o.key, o.natural_key, r.destination_id FROM outbox o JOIN results r "
                                 "ON r.key = o.key WHERE o.stream = 'JournalEntry' ORDER BY o.seq")
    finally:
        store.close()


def _amount(line) -> Decimal:
    sign = 1 if line["JournalEntryLineDetail"]["PostingType"] == "Debit" else -1
    return sign * Decimal(str(line["Amount"]))


@pytest.mark.slow
def test_cogs_posts_per_settlement_after_a_held_sku_gets_its_cost(world):
    with world(orders=40) as w:
        _write_costs(w["costs"], skip=HELD_SKU)
        first = sync(w["pipeline"])
        assert first.status == "succeeded", first.errors
        units = _settlement_units(w)
        held = {sid for sid, by_sku in units.items() if by_sku.get(HELD_SKU)}
        assert held and len(held) < len(units)  # some settlements sold the SKU without a cost, some did not
        letters = CliRunner().invoke(cli, ["dlq", "list", str(w["file"]), "--json"])
        assert letters.exit_code == 0, letters.output
        open_letters = [d for d in json_loads(letters.stdout) if d.get("status", "open") == "open"]
        assert len(open_letters) == len(held)
        for letter in open_letters:
            text = str(letter)
            assert f"SKU '{HELD_SKU}'" in text and "no unit cost is known" in text and "costs file" in text
        posted_first = {nk.rsplit("/", 1)[-1] for _, nk, _ in _journals(w)}
        assert posted_first == set(units) - held  # nothing of a held settlement posted

        _write_costs(w["costs"])  # the cost arrives
        retried = CliRunner().invoke(cli, ["dlq", "retry", str(w["file"]), "--all"])
        assert retried.exit_code == 0, retried.output
        again = sync(w["pipeline"])
        assert again.status == "succeeded", again.errors
        assert again.counts["dead_letters_open"] == 0

        journals = _journals(w)
        cogs = [(key, dest) for key, nk, dest in journals if key.endswith("/cogs")]
        assert {key.split("/settlement/")[1].removesuffix("/cogs") for key, _ in cogs} == {
            sid for sid, by_sku in units.items() if any(by_sku.values())}
        balances: dict[str, Decimal] = defaultdict(Decimal)
        for key, nk, dest in journals:
            doc = _qbo_get(w, f"journalentry/{dest}")["JournalEntry"]
            assert sum((_amount(l) for l in doc["Line"]), Decimal(0)) == 0  # every journal balances
            for l in doc["Line"]:
                balances[l["JournalEntryLineDetail"]["AccountRef"]["name"]] += _amount(l)
            if not key.endswith("/cogs"):
                continue
            sid = key.split("/settlement/")[1].removesuffix("/cogs")
            assert doc["DocNumber"] == f"{sid}-COGS"
            expected: dict[str, Decimal] = defaultdict(Decimal)
            for sku, n in units[sid].items():
                expected[sku] += n * COSTS[sku]
            got: dict[str, Decimal] = defaultdict(Decimal)
            for l in doc["Line"]:
                assert " rows " in l["Description"] and f"settlement {sid}" in l["Description"]
                if l["JournalEntryLineDetail"]["AccountRef"]["name"] == "Inventory Asset":
                    sku = l["Description"].split(" x ", 1)[1].split(" @ ", 1)[0]
                    got[sku] -= _amount(l)  # units out credit inventory, restocked units debit it
            assert {k: v for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}, sid
        assert sum(balances.values(), Decimal(0)) == 0  # the trial balance balances
        total_units = {sku: sum((u.get(sku, Decimal(0)) for u in units.values()), Decimal(0)) for sku in COSTS}
        assert -balances["Inventory Asset"] == sum((n * COSTS[s] for s, n in total_units.items()), Decimal(0))

        third = sync(w["pipeline"])
        assert third.status == "succeeded" and third.counts["created"] == {}

        # traceable: the settlement's trail shows the COGS journal's lines with their rows, and a sold row leads
        # forward to both the payout's journal and the COGS journal
        key, _ = cogs[0]
        sid = key.split("/settlement/")[1].removesuffix("/cogs")
        shown = CliRunner().invoke(cli, ["settlements", "show", str(w["file"]), sid, "--json"])
        assert shown.exit_code == 0, shown.output
        trail = json_loads(shown.stdout)
        [doc] = [d for d in trail["documents"] if d["key"] == key]
        assert doc["number"] == f"{sid}-COGS" and all(line.get("rows") for line in doc["lines"])
        row = doc["lines"][0]["rows"][0]
        traced = CliRunner().invoke(cli, ["trace", str(w["file"]), "settlements", f"{sid}/row/{row}", "--json"])
        assert traced.exit_code == 0, traced.output
        assert key in traced.stdout and f"JournalEntry:amazon_sp/settlement/{sid}" in traced.stdout


@pytest.mark.slow
def test_a_cost_corrected_after_posting_is_a_revision_reversed_and_reposted(world):
    with world(orders=40) as w:
        _write_costs(w["costs"])
        first = sync(w["pipeline"])
        assert first.status == "succeeded" and first.counts["dead_letters_open"] == 0, first.errors
        before = {key: dest for key, _, dest in _journals(w)}
        units = _settlement_units(w)
        sku = next(s for s in COSTS if any(u.get(s) for u in units.values()))
        touched = {sid for sid, u in units.items() if u.get(sku)}
        COSTS_NEW = {**COSTS, sku: COSTS[sku] + Decimal("1.00")}
        w["costs"].write_text("sku,cost\n" + "".join(f"{k},{v}\n" for k, v in COSTS_NEW.items()))
        replanned = sync(w["pipeline"], replan=True)
        assert replanned.status == "succeeded", replanned.errors
        assert replanned.counts["changed_after_posting"] == len(touched)  # only the COGS journals of those
        assert replanned.counts["created"] == {}  # held until a person applies them: nothing rewritten silently
        listed = CliRunner().invoke(cli, ["revisions", "list", str(w["file"]), "--json"])
        assert listed.exit_code == 0, listed.output
        keys = sorted(f"JournalEntry:amazon_sp/settlement/{sid}/cogs" for sid in touched)
        assert all(k in listed.stdout for k in keys)
        applied = CliRunner().invoke(cli, ["revisions", "apply", str(w["file"]), *keys])
        assert applied.exit_code == 0, applied.output
        posted = sync(w["pipeline"])
        assert posted.status == "succeeded", posted.errors
        assert posted.counts["created"]["JournalEntry"] == 2 * len(touched)  # a reversal and the new version each
        after = _journals(w)
        assert {k for k, _, _ in after} > set(before)
        balances: dict[str, Decimal] = defaultdict(Decimal)
        for key, nk, dest in after:
            doc = _qbo_get(w, f"journalentry/{dest}")["JournalEntry"]
            for l in doc["Line"]:
                balances[l["JournalEntryLineDetail"]["AccountRef"]["name"]] += _amount(l)
        total_units = {s: sum((u.get(s, Decimal(0)) for u in units.values()), Decimal(0)) for s in COSTS}
        assert -balances["Inventory Asset"] == sum((n * COSTS_NEW[s] for s, n in total_units.items()), Decimal(0))
        assert sum(balances.values(), Decimal(0)) == 0
