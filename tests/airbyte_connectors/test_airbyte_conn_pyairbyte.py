"""PyAirbyte (`airbyte` on PyPI, Airbyte's own Python tool) reads the Amazon and BigCommerce sources from their
sandboxes through the console scripts as local executables, into its DuckDB cache; what the cache holds is
what the sandbox serves, field by declared field.

PyAirbyte's pins do not fit ledgerlink's (it would downgrade duckdb, pyarrow, cryptography and rich), so it
lives in its own virtual environment, which `.ci/run` creates (`.venv-pyairbyte`, or the Python named by
$LEDGERLINK_PYAIRBYTE_PYTHON); the test drives it in a subprocess (pyairbyte_read.py). Nothing is downloaded
at test time (PyAirbyte runs in its offline mode). Without that environment the test is skipped on a
laptop and fails in CI.
"""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from airbyte_conn_helpers import REPO, TIMEOUT_S, amazon_config, bigcommerce_config, script_path, write_json
from sandbox_helpers import sandbox_running

PYAIRBYTE_VERSION = "0.71.3"
DRIVER = Path(__file__).with_name("pyairbyte_read.py")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pyairbyte_python() -> str:
    """The Python of the PyAirbyte environment, checked to hold PyAirbyte at the pinned version."""
    python = os.environ.get("LEDGERLINK_PYAIRBYTE_PYTHON") or str(REPO / ".venv-pyairbyte" / "bin" / "python")
    problem = None
    if not Path(python).exists():
        problem = f"no PyAirbyte environment at {python}"
    else:
        found = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('airbyte'))"],
                               capture_output=True, text=True, timeout=TIMEOUT_S)
        if found.returncode != 0 or found.stdout.strip() != PYAIRBYTE_VERSION:
            problem = f"{python} does not hold airbyte=={PYAIRBYTE_VERSION} ({found.stdout.strip() or found.stderr[-200:]})"
    if problem:
        hint = f"{problem}; create it as .ci/run does: python3 -m venv .venv-pyairbyte && " \
               f".venv-pyairbyte/bin/pip install airbyte=={PYAIRBYTE_VERSION}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(hint)
        pytest.skip(hint)
    return python


def pyairbyte_read(python: str, command: str, config: dict[str, Any], streams: list[str], folder: Path) -> dict:
    """What PyAirbyte's cache holds after reading `streams` through the console script `command`."""
    config_path = write_json(folder / "config.json", config)
    env = {**os.environ, "AIRBYTE_OFFLINE_MODE": "1", "DO_NOT_TRACK": "1",
           "AIRBYTE_LOGGING_ROOT": str(folder / "logs"), "AIRBYTE_CACHE_ROOT": str(folder / "cache"),
           "AIRBYTE_PROJECT_DIR": str(folder)}
    done = subprocess.run([python, str(DRIVER), script_path(command), config_path, str(folder), *streams],
                          capture_output=True, text=True, timeout=TIMEOUT_S * 2, env=env, cwd=folder)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout[done.stdout.index('{"streams"'):])


def same(cached: Any, served: Any) -> bool:
    """A cached value equals the served one: JSON columns come back as objects; a number column is DuckDB's
    DECIMAL, which the driver prints as text ("1.500000000")."""
    if isinstance(served, (int, float, Decimal)) and not isinstance(served, bool):
        return not isinstance(cached, bool) and Decimal(str(cached)) == Decimal(str(served))
    return cached == served


def assert_cached_as_served(rows: list[dict[str, Any]], served: dict[str, dict[str, Any]], key: str,
                            declared: list[str]) -> None:
    """Every served object is cached once, and each declared field it has holds the served value (PyAirbyte
    lower-cases column names)."""
    by_key = {str(row[key.lower()]): row for row in rows}
    assert len(by_key) == len(rows), "an object was cached twice"
    assert set(by_key) == set(served), (sorted(set(by_key) ^ set(served)))[:10]
    compared = 0
    for k, obj in served.items():
        row = by_key[k]
        for field in declared:
            if field in obj:
                assert same(row[field.lower()], obj[field]), (k, field, row[field.lower()], obj[field])
                compared += 1
    assert compared >= len(served) * 10, "too few fields compared to prove anything"


def declared(source: str, stream: str) -> list[str]:
    from ledgerlink.plugins import host

    found = next(s for s in host().connector(source, "source")().discover({}).streams if s.name == stream)
    return list(found.json_schema["properties"])


def test_pyairbyte_reads_the_amazon_source_from_its_sandbox(pyairbyte_python: str, tmp_path: Path):
    with sandbox_running("amazon_sp", orders=8) as (url, sb):
        cache = pyairbyte_read(pyairbyte_python, "source-ledgerlink-amazon-sp", amazon_config(url),
                               ["orders", "order_items"], tmp_path)
        book = sb.api.book
        orders = {book.order_id(i): book.order(i) for i in range(book.total)}
        items = {f"{oid}/{item['OrderItemId']}": {**item, "AmazonOrderId": oid}
                 for i, oid in ((i, book.order_id(i)) for i in range(book.total)) for item in book.items(i)}
    assert_cached_as_served(cache["streams"]["orders"], orders, "AmazonOrderId", declared("amazon_sp", "orders"))
    for row in cache["streams"]["order_items"]:
        row["key"] = f"{row['amazonorderid']}/{row['orderitemid']}"
    assert_cached_as_served(cache["streams"]["order_items"], items, "key", declared("amazon_sp", "order_items"))


def test_pyairbyte_reads_the_bigcommerce_source_from_its_sandbox(pyairbyte_python: str, tmp_path: Path):
    with sandbox_running("bigcommerce", orders=8) as (url, sb):
        cache = pyairbyte_read(pyairbyte_python, "source-ledgerlink-bigcommerce", bigcommerce_config(url),
                               ["orders", "products"], tmp_path)
        book = sb.store.book
        orders = {str(k): dict(v) for k, v in book.orders.items()}
        # as the sandbox serves them: base_variant_id is its own bookkeeping (sandbox/catalog.py)
        products = {str(k): {f: v for f, v in p.items() if f != "base_variant_id"} for k, p in book.products.items()}
    assert_cached_as_served(cache["streams"]["orders"], orders, "id", declared("bigcommerce", "orders"))
    assert_cached_as_served(cache["streams"]["products"], products, "id", declared("bigcommerce", "products"))
