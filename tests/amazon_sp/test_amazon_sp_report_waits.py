"""A report Amazon is slow to produce, across runs that may not wait for it (a fleet worker, `sync
--wait-in-run-seconds`): the report requested is saved in the stream's STATE, every later run asks about that
report instead of creating another, its rows are read once when it is DONE; CANCELLED and FATAL as before; the
sync reports the stream waiting and ends `waiting`; by default `ledgerlink sync` still waits in process."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from ledgerlink import PermanentError, protocol
from ledgerlink.cli import cli
from ledgerlink.pipeline import load_pipeline
from ledgerlink.remote_waits import wait_in_run
from ledgerlink.runtime import sync
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, shipped

from test_amazon_sp_reports_streams import MARKETS, catalog, records, report_config, state_list, states

STREAM = "all_orders_report"


def slow(url: str, outcome: str = "SLOW", **spec: Any) -> None:
    response = httpx.post(f"{url}/_sandbox/reports/next", json={"outcome": outcome, **spec})
    assert response.status_code == 200, response.text


def reports_by_window(sb: Any) -> Counter[tuple[int, int]]:
    return Counter((r.start, r.end) for r in sb.api.reports.reports.values())


def read_runs(make_source: Any, config: dict[str, Any], runs: int = 12) -> tuple[list[list[protocol.Message]], Any]:
    """Reads of the stream, each from the state the one before left, until one ends without waiting (or fails)."""
    done: list[list[protocol.Message]] = []
    state = None
    error = None
    with wait_in_run(0):
        for _ in range(runs):
            messages: list[protocol.Message] = []
            try:
                for message in make_source().read(config, catalog(STREAM), state):
                    messages.append(message)
            except PermanentError as exc:
                error = exc
            done.append(messages)
            state = state_list(messages)
            if error is not None or "waiting" not in states(messages, STREAM)[-1]:
                break
    return done, error


def test_a_slow_report_is_requested_once_and_its_rows_read_once_across_runs(sandbox, make_config, make_source):
    with sandbox(orders=120) as (url, sb):
        config = report_config(make_config, url, days=20, report_look_again_seconds=1)
        slow(url, polls=3)  # IN_PROGRESS for its first three getReport calls
        runs, error = read_runs(make_source, config)
        book = sb.api.book
        by_window = reports_by_window(sb)
        first = min(by_window)
        since = int(datetime.fromisoformat(config["start_date"]).timestamp())
        expected = {book.order_id(i) for i in book.select(MARKETS, since, int(datetime.now(timezone.utc).timestamp()))}
    assert error is None
    waiting = [states(m, STREAM)[-1] for m in runs[:3]]
    assert all("waiting" in s for s in waiting)
    [report_id] = {s["pendingReport"]["reportId"] for s in waiting}  # the same report, asked about each run
    for s in waiting:
        assert s["waiting"]["for"] == f"Amazon report {report_id} ({AllOrders}, IN_PROGRESS)"
        until = datetime.fromisoformat(s["waiting"]["until"].replace("Z", "+00:00"))
        assert until > datetime.now(timezone.utc) - timedelta(minutes=5)
        assert not records(runs[waiting.index(s)], STREAM)  # nothing read while it waits
    # the fourth run reads it, and requests nothing for the few minutes since (report_min_window_minutes)
    assert len(runs) == 4
    assert all(n == 1 for n in by_window.values()), by_window  # one createReport per window, whatever the runs
    assert sb.api.reports.reports[report_id].start == first[0]
    got = [r["amazon-order-id"] for m in runs for r in records(m, STREAM)]
    assert len(got) == len(set(got))  # each order once
    assert set(got) == expected and expected
    assert "pendingReport" not in states(runs[-1], STREAM)[-1] and "waiting" not in states(runs[-1], STREAM)[-1]


AllOrders = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"


def test_a_report_requested_is_in_the_state_before_the_first_poll(sandbox, make_config, make_source):
    """A run that dies while it waits in process (kill -9) leaves the report's id in its committed STATE: the
    next run asks about that report and creates none."""
    with sandbox(orders=30) as (url, sb):
        config = report_config(make_config, url, days=20)
        slow(url, "HOLD")
        messages = make_source().read(config, catalog(STREAM))
        seen: list[protocol.Message] = []
        for message in messages:
            seen.append(message)
            if message.type == protocol.MessageType.STATE:
                break  # the process dies here: the rest never runs
        messages.close()
        [saved] = states(seen, STREAM)
        assert saved["pendingReport"]["reportId"] in sb.api.reports.reports
        httpx.post(f"{url}/_sandbox/reports/release")
        again = list(make_source().read(config, catalog(STREAM), state_list(seen)))
        by_window = reports_by_window(sb)
    assert records(again, STREAM) and all(n == 1 for n in by_window.values()), by_window


def test_a_report_cancelled_after_a_wait_reads_as_empty_as_before(sandbox, make_config, make_source):
    with sandbox(orders=30) as (url, sb):
        config = report_config(make_config, url, days=20, report_look_again_seconds=1)
        slow(url, "CANCELLED")
        slow(url, polls=1)
        runs, error = read_runs(make_source, config)
        by_window = reports_by_window(sb)
        first = states(runs[0], STREAM)[-1]["pendingReport"]
        cancelled = sb.api.reports.reports[first["reportId"]].status
    assert error is None and len(runs) == 2 and cancelled == "CANCELLED"
    assert all(n == 1 for n in by_window.values()), by_window  # CANCELLED is not asked again (cancelled_attempts 1)
    assert not records(runs[0], STREAM)
    # the second run found it CANCELLED: read as empty, the state moved past its window
    assert any(s.get("dataEndTime") == first["dataEndTime"] for s in states(runs[1], STREAM))
    last = states(runs[-1], STREAM)[-1]
    assert "pendingReport" not in last and "waiting" not in last and last["dataEndTime"]


def test_a_fatal_report_is_requested_again_then_fails_naming_it_as_before(sandbox, make_config, make_source):
    with sandbox(orders=30) as (url, sb):
        config = report_config(make_config, url, days=20, report_look_again_seconds=1)
        slow(url, "FATAL", count=3, error="Internal failure")
        slow(url, polls=1, count=3)
        runs, error = read_runs(make_source, config)
        by_window = reports_by_window(sb)
        created = list(sb.api.reports.reports)
    assert isinstance(error, PermanentError)
    assert "ended FATAL (3 attempts)" in str(error) and "Internal failure" in str(error) and created[-1] in str(error)
    assert list(by_window.values()) == [3]  # three attempts for the one window, as the engine makes them
    # given up: the state left has no report pending, so the next run requests the window afresh, as before
    last = states(runs[-1], STREAM)[-1]
    assert "pendingReport" not in last and "waiting" not in last


# ------------------------------------------------------------------------------------------------ the sync


def report_pipeline(tmp_path: Path, amazon: str, qbo: str) -> Path:
    """The shipped amazon-to-qbo pipeline back-filling orders from the all-orders report."""
    start = (datetime.now(timezone.utc) - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = shipped("amazon-to-qbo.yaml").replace("  streams: [orders, order_items]", f"  streams: [{STREAM}]")
    text = text.replace("    start_date: ${AMAZON_START_DATE:-2026-01-01T00:00:00Z}\n",
                        f"    start_date: {start}\n    backfill: reports\n    report_poll_seconds: 0.005\n"
                        "    report_look_again_seconds: 1\n")
    assert f"[{STREAM}]" in text and "backfill: reports" in text
    path = tmp_path / "amazon-report-to-qbo.yaml"
    path.write_text(text)
    env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon), **qbo_env(qbo)}
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return path


def posted_orders(qbo_sb: Any) -> list[str]:
    return [str(r.get("PrivateNote") or "").split("\n", 1)[0] for r in qbo_sb.company.entities["SalesReceipt"].values()]


def test_a_sync_ends_waiting_then_posts_the_reports_orders_once(tmp_path, monkeypatch):
    with sandbox_running("amazon_sp", orders=40) as (amazon, amazon_sb), sandbox_running("qbo") as (qbo, qbo_sb):
        path = report_pipeline(tmp_path, amazon, qbo)
        env = dict(line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines())
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        slow(amazon, polls=2)
        # at the CLI, asked not to wait: the run ends waiting, says for what and until when, exits 6
        result = CliRunner().invoke(cli, ["sync", str(path), "--json", "--wait-in-run-seconds", "0"])
        assert result.exit_code == 6, result.output
        first = json.loads(result.output[result.output.index("{"):])
        assert first["status"] == "waiting" and not first["errors"]
        [wait] = first["waiting"]
        assert wait["stream"] == STREAM and wait["for"].startswith("Amazon report ") and first["wake_at"] == wait["until"]
        assert posted_orders(qbo_sb) == []
        pipeline = load_pipeline(path, env=env)
        second = sync(pipeline, wait_in_run_s=0)
        assert second.status == "waiting" and second.exit_code == 6 and second.waiting[0]["for"] == wait["for"]
        third = sync(pipeline, wait_in_run_s=0)
        assert third.status == "succeeded" and third.waiting == [] and third.exit_code == 0, third.errors
        again = sync(pipeline, wait_in_run_s=0)
        by_window = reports_by_window(amazon_sb)
        posted = posted_orders(qbo_sb)
    assert third.counts["created"]["SalesReceipt"] == len(posted) > 5
    assert len(posted) == len(set(posted))  # every order once, across the four runs
    assert again.status == "succeeded" and not (again.counts.get("created") or {}).get("SalesReceipt")
    assert all(n == 1 for n in by_window.values()), by_window


def test_by_default_a_sync_waits_for_the_report_in_process(tmp_path):
    with sandbox_running("amazon_sp", orders=20) as (amazon, amazon_sb), sandbox_running("qbo") as (qbo, qbo_sb):
        path = report_pipeline(tmp_path, amazon, qbo)
        env = dict(line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines())
        slow(amazon, polls=4)
        report = sync(load_pipeline(path, env=env))
        created = len(amazon_sb.api.reports.reports)
        posted = posted_orders(qbo_sb)
    assert report.status == "succeeded" and report.waiting == [] and created == 1, report.errors
    assert report.counts["created"]["SalesReceipt"] == len(posted) > 3
