"""The `airbyte` source against connectors that misbehave (the fake executable beside this file): each failure
names the connector, what it sent before is staged, and a STATE is never committed ahead of what is staged."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from airbyte_fakes import FAKE, SECRET, fake_config, staged_ids


def _saved_cursor(store) -> str | None:
    return (store.source_state().get("orders") or {}).get("updated_at")


def _cursor_of(i: int) -> str:
    return f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00:00Z"


def test_a_good_connector_is_staged_and_the_next_read_resumes_from_its_saved_state(store, read_into):
    counts = read_into(fake_config(count=10))
    assert counts["read_error"] is None and counts["read"] == {"orders": 10}
    assert staged_ids(store) == list(range(1, 11))
    assert _saved_cursor(store) == _cursor_of(10)
    # nothing new: nothing read; two new orders: only they are read
    assert read_into(fake_config(count=10))["read_total"] == 0
    again = read_into(fake_config(count=12))
    assert again["read"] == {"orders": 2} and staged_ids(store) == list(range(1, 13))
    assert _saved_cursor(store) == _cursor_of(12)


def test_a_crash_names_the_connector_shows_its_stderr_and_keeps_what_it_sent(store, read_into):
    counts = read_into(fake_config("crash"))
    error = counts["read_error"]
    assert "airbyte connector fake-shop (read) exited with code 1" in error
    assert "last lines of its stderr" in error and "KeyError: 'next_page'" in error
    assert staged_ids(store) == [1, 2]
    assert _saved_cursor(store) == _cursor_of(2)  # its STATE covered both: committed with them


def test_non_protocol_lines_are_logged_not_fatal(store, read_into, caplog):
    caplog.set_level(logging.WARNING, logger="ledgerlink.airbyte")
    counts = read_into(fake_config("noise"))
    assert counts["read_error"] is None and staged_ids(store) == list(range(1, 11))
    noise = [r.getMessage() for r in caplog.records if "not an Airbyte message" in r.getMessage()]
    assert len(noise) == 10 and all("fake-shop" in m for m in noise)
    assert any("debug: fetched order 1" in m for m in noise) and any("urllib3 is old" in m for m in noise)


def test_a_connector_printing_only_non_protocol_lines_is_an_error(store, read_into):
    error = read_into(fake_config("only_noise"))["read_error"]
    assert "fake-shop" in error and "printed 3 line(s) and no Airbyte message" in error
    assert "Hello from a script" in error
    assert staged_ids(store) == [] and store.source_state() == {}


def test_a_record_of_an_undeclared_stream_is_a_dead_letter_and_the_rest_stage(store, read_into):
    counts = read_into(fake_config("undeclared"))
    assert counts["read_error"] is None and counts["read_dead_letters"] == 1
    assert staged_ids(store) == list(range(1, 11)) and not store.raw.exists("invoices")
    [letter] = store.dead_letters.list(stage="read")
    assert letter.stream == "invoices" and "does not declare" in letter.message
    assert letter.record["id"] == 900  # kept whole, for `ledgerlink dlq`
    assert _saved_cursor(store) == _cursor_of(10)


def test_a_connector_that_never_sends_state_is_staged_whole_and_read_again(store, read_into, caplog):
    caplog.set_level(logging.WARNING)
    counts = read_into(fake_config("no_state"))
    assert counts["read_error"] is None and staged_ids(store) == list(range(1, 11))
    assert store.source_state() == {}
    assert any("sent no STATE for stream(s) orders" in r.getMessage() for r in caplog.records)
    again = read_into(fake_config("no_state"))  # from the start again: one row per key, no duplicate
    assert again["read"] == {"orders": 10} and staged_ids(store) == list(range(1, 11))


def test_a_trace_error_fails_the_read_with_its_message(store, read_into):
    error = read_into(fake_config("trace_error"))["read_error"]
    assert "fake-shop" in error and "exited with code 1" in error
    assert "its error (stream orders): system_error: the shop API answered 500 for page 2" in error
    assert staged_ids(store) == [1, 2, 3, 4]
    assert _saved_cursor(store) == _cursor_of(3)  # the last STATE came after record 3; record 4 has none yet


def test_a_trace_error_then_exit_0_still_fails_the_read(store, read_into):
    error = read_into(fake_config("trace_error_0"))["read_error"]
    assert "reported an error but exited 0" in error and "answered 500" in error
    assert staged_ids(store) == [1, 2, 3, 4] and _saved_cursor(store) == _cursor_of(3)


def test_a_connector_killed_mid_read_keeps_what_it_sent_and_the_state_never_runs_ahead(store, read_into):
    counts = read_into(fake_config("killed", per_state=5))
    assert "airbyte connector fake-shop (read) was killed by SIGKILL after" in counts["read_error"]
    assert staged_ids(store) == list(range(1, 9))  # 6-8 came after the last STATE: staged, not yet covered
    assert _saved_cursor(store) == _cursor_of(5)
    # the next sync resumes from record 5: 6-10 are read (6-8 again, deduplicated), all ten staged once
    resumed = read_into(fake_config("good", per_state=5))
    assert resumed["read_error"] is None and resumed["read"] == {"orders": 5}
    assert staged_ids(store) == list(range(1, 11)) and _saved_cursor(store) == _cursor_of(10)


def test_a_global_state_is_kept_whole_and_given_back(store, read_into):
    assert read_into(fake_config("global_state"))["read_error"] is None
    saved = store.source_state()
    assert "orders" not in saved and saved["_airbyte_global_state"]["type"] == "GLOBAL"
    assert read_into(fake_config("global_state", count=11))["read"] == {"orders": 1}  # resumed from it


def test_the_connector_refusing_its_config_is_a_config_error(store, read_into):
    error = read_into(fake_config("config_error"))["read_error"]
    assert "source.config.config" in error and "config_error: shop_code is not valid for this shop" in error


def test_check_passes_the_connectors_status_through():
    from ledgerlink.plugins import host

    source = host().connector("airbyte", "source")()
    assert source.check(fake_config()).status.value == "SUCCEEDED"
    refused = source.check(fake_config(shop_code="wrong"))
    assert refused.status.value == "FAILED" and refused.message == "401: shop_code refused"
    missing = source.check({**fake_config(), "command": ["/nonexistent/source-nothing"]})
    assert missing.status.value == "FAILED" and "could not be started" in missing.message


def test_a_secret_of_the_connectors_spec_never_reaches_an_error_or_a_log(store, read_into, caplog):
    caplog.set_level(logging.DEBUG)
    # `shop_code` is no name the plugin guesses as secret: only the connector's spec says it is
    counts = read_into(fake_config("secret_echo"))
    assert "fake-shop" in counts["read_error"] and "auth failed" in counts["read_error"]
    assert SECRET not in counts["read_error"]
    assert SECRET not in caplog.text
    assert not any(SECRET in (letter.message or "") for letter in store.dead_letters.list())


def test_the_cli_names_the_connector_exit_1_on_a_crash_and_a_sync_exits_2_on_a_missing_executable(tmp_path):
    config = tmp_path / "airbyte.json"
    config.write_text(json.dumps(fake_config("crash")))
    crashed = subprocess.run([sys.executable, "-m", "ledgerlink", "read", "airbyte", "--config", str(config)],
                             capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 1
    assert "error: airbyte connector fake-shop (read) exited with code 1" in crashed.stderr
    assert "KeyError: 'next_page'" in crashed.stderr and SECRET not in crashed.stderr
    records = [json.loads(line) for line in crashed.stdout.splitlines() if '"RECORD"' in line]
    assert [r["record"]["data"]["id"] for r in records] == [1, 2]  # what it sent before is passed on
    # a sync whose connector cannot start: bad config, exit 2, before anything is staged or posted
    pipeline = tmp_path / "missing.yaml"
    pipeline.write_text(json.dumps({
        "version": 1, "name": "missing-connector", "state": str(tmp_path / "missing.duckdb"),
        "source": {"connector": "airbyte", "config": {**fake_config(), "command": [str(tmp_path / "no-such-source")]}},
        "destination": {"connector": "qbo", "config": QBO_UNUSED}}))
    missing = subprocess.run([sys.executable, "-m", "ledgerlink", "sync", str(pipeline)], capture_output=True,
                             text=True, timeout=120)
    assert missing.returncode == 2, missing.stderr
    assert "source.config.command: airbyte connector fake-shop could not be started" in missing.stderr
    assert "Traceback" not in missing.stderr


#: a QuickBooks Online destination config that is never contacted (the source fails first)
QBO_UNUSED = {"base_url": "http://127.0.0.1:9", "token_url": "http://127.0.0.1:9/token", "realm_id": "1",
              "client_id": "c", "client_secret": "s", "refresh_token": "r"}


@pytest.mark.parametrize("mode", ["good", "crash", "noise", "undeclared", "no_state", "trace_error",
                                  "trace_error_0", "config_error", "killed", "global_state", "secret_echo"])
def test_the_fake_connector_speaks_the_reference_protocol(mode, tmp_path, protocol_validator):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(fake_config(mode)["config"]))
    outputs = [subprocess.run([sys.executable, str(FAKE), command, "--config", str(config)], capture_output=True,
                              text=True, timeout=60).stdout for command in ("spec", "check", "discover", "read")]
    messages = [json.loads(line) for out in outputs for line in out.splitlines() if line.startswith("{")]
    assert {m["type"] for m in messages} >= {"SPEC", "CONNECTION_STATUS", "CATALOG"}
    for message in messages:
        protocol_validator(message)
