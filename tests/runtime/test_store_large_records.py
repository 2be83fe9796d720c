"""One staged record can be far larger than DuckDB's cache limit (a 100,000-row settlement is one ~40 MB record):
staging, re-staging and reading it back get room for the statement, and the limit comes back afterwards."""

from __future__ import annotations

import json

from ledgerlink import json_dumps
from ledgerlink.store import Store


def test_a_record_larger_than_the_memory_limit_is_staged_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_DUCKDB_MEMORY", "16MB")
    big = {"settlement_id": "S1", "rows": [{"row": n, "amount": "1.25", "description": "Principal" * 4}
                                          for n in range(60_000)]}
    text = json_dumps(big)
    assert len(text) > 4_000_000  # many times what 16 MB of cache can check and store as JSON at once
    store = Store(tmp_path / "big.duckdb")
    try:
        store.raw.stage("settlements", ["S1", "S2"], [None, None], [text, json_dumps({"settlement_id": "S2"})],
                        [None, None], 1)
        store.raw.stage("settlements", ["S1"], [None], [text], [None], 2)  # the same settlement again: replaced
        assert store.raw.count("settlements") == 2 and store.raw.largest("settlements") == len(text)
        read = [(pk, json.loads(data)) for rows in store.raw.changed("settlements", 0) for pk, data, _ in rows]
        assert [pk for pk, _ in read] == ["S2", "S1"] and read[1][1] == json.loads(text)
        assert store.raw.get("settlements", "S1")["rows"][-1]["row"] == 59_999
        assert store.db.fetchone("SELECT current_setting('memory_limit')")[0] in ("16.0 MiB", "15.2 MiB", "16.0 MB")
    finally:
        store.close()
    reopened = Store(tmp_path / "big.duckdb")  # a later run knows the stream holds large records
    try:
        assert reopened.raw.largest("settlements") == len(text)
        assert reopened.raw.get("settlements", "S1")["settlement_id"] == "S1"
    finally:
        reopened.close()
