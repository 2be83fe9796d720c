"""Named poison cases the generated corpus does not cover: a poison record sent again, two records without a key,
a source state that cannot be stored, a planned payload that cannot be stored, and letters of huge records."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "runtime"))

import fakes  # noqa: E402

from ledgerlink.pipeline import Pipeline  # noqa: E402
from ledgerlink.runtime import sync  # noqa: E402
from ledgerlink.store import Store  # noqa: E402


def _pipeline(tmp_path: Path, **config) -> Pipeline:
    return Pipeline.model_validate({
        "name": "poison", "state": str(tmp_path / "state.duckdb"),
        "source": {"connector": "fake_source", "config": config},
        "destination": {"connector": "fake_dest", "config": {}}, "base_dir": str(tmp_path)})


def _letters(tmp_path: Path) -> list:
    store = Store(tmp_path / "state.duckdb")
    try:
        return store.dead_letters.list()
    finally:
        store.close()


def test_a_poison_record_sent_again_updates_its_letter_and_never_fails_the_run(tmp_path):
    host = fakes.fresh_host(tmp_path)
    fakes.POISON.append((1, "orders", {"id": "P-1", "updated": "2026-01-02T00:00:00Z", "note": "bad \ud800"}))
    first = sync(_pipeline(tmp_path, orders=3), plugin_host=host)
    again = sync(_pipeline(tmp_path, orders=3, revision=1), plugin_host=host)  # the source re-sends everything
    assert first.status == again.status == "succeeded"
    assert again.counts["read_dead_letters"] == 1
    [letter] = _letters(tmp_path)
    assert (letter.stage, letter.stream, letter.record_key) == ("read", "orders", "P-1")
    assert "field 'note'" in letter.message and "lone surrogate" in letter.message
    assert letter.record["note"] == "bad \\ud800"  # kept, with the surrogate written as an escape


def test_two_records_without_a_key_are_two_letters(tmp_path):
    host = fakes.fresh_host(tmp_path)
    fakes.POISON.extend([(0, "orders", {"updated": "2026-01-01T00:00:00Z", "n": 1}),
                         (1, "orders", {"updated": "2026-01-01T00:00:00Z", "n": 2})])
    report = sync(_pipeline(tmp_path, orders=3), plugin_host=host)
    assert report.counts["read_dead_letters"] == 2
    assert sorted(letter.record["n"] for letter in _letters(tmp_path)) == [1, 2]


def test_a_source_state_that_cannot_be_stored_is_skipped_not_fatal(tmp_path, monkeypatch, caplog):
    host = fakes.fresh_host(tmp_path)
    original = fakes.Orders.observe

    def observe(self, record):  # a cursor taken from a value no JSON holds
        original(self, record)
        self.state["poisoned"] = 1 << 80

    monkeypatch.setattr(fakes.Orders, "observe", observe)
    report = sync(_pipeline(tmp_path, orders=3), plugin_host=host)
    assert report.status == "succeeded" and len(fakes.REMOTE["Receipt"]) == 3
    assert "the source's state cannot be saved" in caplog.text
    store = Store(tmp_path / "state.duckdb")
    try:
        assert "orders" not in store.source_state()  # read again next run, from the last good state
    finally:
        store.close()


def test_a_planned_payload_that_cannot_be_stored_is_a_plan_letter(tmp_path):
    host = fakes.fresh_host(tmp_path)
    (tmp_path / "receipt.json.j2").write_text(fakes.RECEIPT.replace(
        '"Total": {{ order.grand_total | money }}',
        '"Total": {{ order.grand_total | money }}, "Odd": {{ "\\ud800" if order.order_id == "O-0001" else "ok" }}'))
    report = sync(_pipeline(tmp_path, orders=3), plugin_host=host)
    assert report.status == "succeeded"
    assert sorted(fakes.REMOTE["Receipt"]) == ["O-0000", "O-0002"]
    [letter] = _letters(tmp_path)
    assert letter.stage == "plan" and "O-0001" in letter.record_key
    assert "Odd" in letter.message


def test_a_huge_record_that_fails_to_normalise_keeps_a_bounded_letter(tmp_path):
    host = fakes.fresh_host(tmp_path)
    fakes.POISON.append((0, "orders", {"id": "HUGE", "updated": "2026-01-01T00:00:00Z",
                                       "rows": [{"n": i, "text": "x" * 100} for i in range(60_000)]}))
    report = sync(_pipeline(tmp_path, orders=2), plugin_host=host)
    assert report.status == "succeeded" and len(fakes.REMOTE["Receipt"]) == 2
    [letter] = _letters(tmp_path)
    assert letter.stage == "normalise" and letter.record_key == "HUGE"
    assert letter.record["_truncated"]["where"] == {"staged": {"stream": "orders", "key": "HUGE"}}
    assert letter.record["_truncated"]["chars"] > 6_000_000
    assert "60,000 in all" in letter.record["rows"][-1]
