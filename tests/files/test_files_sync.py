"""End to end: a 3PL's shipment export on disk → `ledgerlink sync` → shipments in the BigCommerce sandbox
over loopback; bad rows are dead letters naming file, line and column; an appended row alone is read next
run; a cost file's bad rows are dead letters too (QBO sandbox destination)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ledgerlink.cli import cli
from sandbox_helpers import sandbox_running

from files_helpers import SHIPMENT_COLUMNS, write

BC_CONFIG = {"base_url": "${BIGCOMMERCE_BASE_URL}", "store_hash": "abc123", "access_token": "sandbox-bigcommerce-token"}


def _pipeline(tmp_path: Path, stream: dict, destination: dict, name: str = "files-shipments") -> Path:
    doc = {"version": 1, "name": name, "state": str(tmp_path / "state.duckdb"),
           "source": {"connector": "files", "config": {"streams": [stream]}}, "destination": destination}
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return p


def _sync(pipeline: Path, env: dict[str, str]) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["sync", str(pipeline), "--json"], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.output)


def _dead_letters(pipeline: Path) -> list[dict]:
    state = yaml.safe_load(pipeline.read_text())["state"]  # the state file: no environment needed
    result = CliRunner().invoke(cli, ["dlq", "list", state, "--json"])
    return json.loads(result.output)


@pytest.fixture
def bigcommerce():
    @contextlib.contextmanager
    def make():
        with sandbox_running("bigcommerce", orders=40) as (url, sandbox):
            yield url, sandbox.store.book
    return make


def _unshipped(book, n: int) -> list[tuple[int, list[dict]]]:
    """Orders awaiting fulfilment with nothing shipped yet, and their lines."""
    out = [(oid, lines) for oid, lines in book.order_products.items()
           if book.orders[oid]["status_id"] == 11 and not book.shipments[oid]
           and all(li["quantity"] - li["quantity_shipped"] >= 1 for li in lines)]
    assert len(out) >= n, "the seeded store has too few orders awaiting fulfilment"
    return out[:n]


def test_a_3pl_export_posts_shipments_and_bad_rows_become_dead_letters(tmp_path, bigcommerce):
    with bigcommerce() as (url, book):
        (o1, l1), (o2, l2), (o3, l3) = _unshipped(book, 3)
        export = write(tmp_path / "drop" / "3pl-2024-05-01.csv", (
            "Order #,Tracking,Carrier,Ship Date,SKU,Qty\n"
            f"{o1},1ZA,UPS,2024-05-01,{l1[0]['sku']},1\n"
            f"{o2},1ZB,FedEx,05/01/2024,{l2[0]['sku']},-2\n"     # line 3: negative quantity
            f"{o2},1ZC,UPS,2024-05-01\n"                           # line 4: wrong column count
            f"{o3},1ZD,UPS,2024-05-01,,1\n"                        # line 5: no SKU
            + (f"{o1},1ZA,UPS,2024-05-01,{l1[1]['sku']},1\n" if len(l1) > 1 else "")).encode()
            + f"{o3},1ZE,UPS,2024-05-01,\xff\xfe,1\n".encode("latin-1"))  # undecodable
        bad_lines = {3: "Qty", 4: None, 5: "SKU", 6 if len(l1) == 1 else 7: None}
        pipeline = _pipeline(tmp_path, {"name": "shipments", "path": str(tmp_path / "drop" / "*.csv"),
                                        "normalise": "shipments", "columns": SHIPMENT_COLUMNS},
                             {"connector": "bigcommerce", "config": BC_CONFIG})
        env = {"BIGCOMMERCE_BASE_URL": url}

        code, report = _sync(pipeline, env)
        assert code == 3, report  # finished, with dead letters to look at
        assert report["status"] == "succeeded"
        assert report["counts"]["read"] == {"shipments": 5 + (len(l1) > 1)}
        assert report["counts"]["created"] == {"order_shipments": 1}
        [shipment] = book.shipments[o1]
        assert shipment["tracking_number"] == "1ZA" and shipment["shipping_provider"] == "ups"
        # both rows of order o1 / 1ZA are one shipment with two lines
        assert sorted(i["order_product_id"] for i in shipment["items"]) == sorted(li["id"] for li in l1[:2])
        assert not book.shipments[o2] and not book.shipments[o3]

        letters = _dead_letters(pipeline)
        by_line = {d["record"]["_line"]: d for d in letters}
        assert set(by_line) == set(bad_lines), letters[0]
        for line, column in bad_lines.items():
            d = by_line[line]
            assert d["stage"] == "normalise" and d["stream"] == "shipments"
            assert f"{export}, line {line}" in d["message"] and d["hint"]
            if column:
                assert f"field {column!r}" in d["message"]
        assert "is negative" in by_line[3]["message"]
        assert "6 columns" in by_line[4]["message"]
        assert "SKU is empty" in by_line[5]["message"] or "sku is empty" in by_line[5]["message"]

        # the 3PL appends tomorrow's rows: only they are read, and only the new shipment is posted
        with open(export, "a") as f:
            f.write(f"{o3},1ZF,UPS,2024-05-02,{l3[0]['sku']},1\n")
        code, report = _sync(pipeline, env)
        assert report["counts"]["read"] == {"shipments": 1}
        assert report["counts"]["created"] == {"order_shipments": 1}
        assert [s["tracking_number"] for s in book.shipments[o3]] == ["1ZF"]
        assert len(_dead_letters(pipeline)) == len(bad_lines)  # not repeated

        code, report = _sync(pipeline, env)
        assert report["counts"]["read"] == {} and report["counts"]["created"] == {}
        assert len(book.shipments[o1]) == 1


def test_a_cost_file_with_bad_rows_dead_letters_them_with_file_line_and_column(tmp_path):
    costs = write(tmp_path / "costs.tsv", "Item\tUnit Cost\tCcy\n"
                                          "A-1\t4.25\tUSD\n"
                                          "B-2\tabc\tUSD\n"      # line 3: not a number
                                          "C-3\t-1.00\tUSD\n"    # line 4: negative
                                          "D-4\t2.00\n"          # line 5: wrong column count
                                          "E-5\t3.10\t\n")       # line 6: empty currency, default USD applies
    with sandbox_running("qbo") as (qbo, _):
        pipeline = _pipeline(tmp_path, {"name": "costs", "path": str(costs), "normalise": "costs",
                                        "default_currency": "USD",
                                        "columns": {"sku": "Item", "cost": "Unit Cost", "currency": "Ccy"}},
                             {"connector": "qbo", "config": {
                                 "base_url": qbo, "token_url": f"{qbo}/oauth2/v1/tokens/bearer",
                                 "realm_id": "9341455000000000", "client_id": "sandbox-qbo-client",
                                 "client_secret": "sandbox-qbo-client-secret",
                                 "refresh_token": "sandbox-qbo-refresh-token"}}, name="files-costs")
        code, report = _sync(pipeline, {})
    assert code == 3 and report["status"] == "succeeded"
    assert report["counts"]["read"] == {"costs": 5}
    assert report["counts"]["objects"] == {"product": 2}
    letters = {d["record"]["_line"]: d for d in _dead_letters(pipeline)}
    assert set(letters) == {3, 4, 5}
    assert "cost 'abc' is not a number" in letters[3]["message"] and "field 'Unit Cost'" in letters[3]["message"]
    assert "cost -1.00 is negative" in letters[4]["message"]
    assert f"{costs}, line 5: 2 values where the header has 3 columns" in letters[5]["message"]
    assert all(f"{costs}, line" in d["message"] for d in letters.values())
