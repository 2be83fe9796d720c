"""The container's pieces in-process: the data folder from the environment, JSON log lines, the health checks,
and the cooperative stop between batches (the subprocess contract is in test_container_contract.py)."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

import fakes  # noqa: E402  (the runtime tests' in-memory source and destination)

from ledgerlink import data_dir, logs  # noqa: E402
from ledgerlink.health import check_health  # noqa: E402
from ledgerlink.pipeline import Pipeline  # noqa: E402
from ledgerlink.runtime import stop, sync  # noqa: E402
from ledgerlink.secrets import register_secret  # noqa: E402
from ledgerlink.store import Store  # noqa: E402

PATH_VARIABLES = (data_dir.DATA_DIR_ENV, data_dir.STATE_DIR_ENV, data_dir.TEMP_DIR_ENV, data_dir.DUCKDB_TEMP_DIR_ENV,
                  data_dir.CACHE_DIR_ENV, "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "LEDGERLINK_SECRET_KEY_FILE", "TMPDIR")


@pytest.fixture
def clean_paths(monkeypatch):
    # apply_data_dir writes os.environ itself (TMPDIR, XDG_*, the path variables): the whole environment is put
    # back afterwards, or a later test on this worker (chromium, initdb) would inherit a deleted TMPDIR
    environ = dict(os.environ)
    for name in PATH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = tempfile.tempdir
    yield monkeypatch
    tempfile.tempdir = before
    os.environ.clear()
    os.environ.update(environ)


@pytest.fixture(autouse=True)
def _no_stop_left_over():
    stop.reset()
    yield
    stop.reset()


# -- the data folder ---------------------------------------------------------------------------------------------

def test_one_data_folder_holds_state_key_caches_and_temporary_files(clean_paths, tmp_path):
    clean_paths.setenv(data_dir.DATA_DIR_ENV, str(tmp_path / "data"))
    clean_paths.setenv(data_dir.CACHE_DIR_ENV, str(tmp_path / "elsewhere-cache"))  # one moved on its own
    paths = data_dir.apply_data_dir()
    assert paths is not None
    assert paths.state == tmp_path / "data" / "state" and paths.temp == tmp_path / "data" / "tmp"
    assert paths.secret_key_file == tmp_path / "data" / "secret.key"
    assert paths.cache == tmp_path / "elsewhere-cache" and os.environ["XDG_CACHE_HOME"] == str(paths.cache)
    assert os.environ["TMPDIR"] == str(paths.temp) and tempfile.gettempdir() == str(paths.temp)
    for folder in (paths.state, paths.temp, paths.duckdb_temp, paths.cache):
        assert folder.is_dir() and folder.stat().st_mode & 0o077 == 0
    # a pipeline without `state:` keeps it there; a relative `state:` is relative to it, not to the cwd
    pipeline = Pipeline.model_validate({"name": "p", "source": {"connector": "s"}, "destination": {"connector": "d"}})
    assert pipeline.state_path == paths.state / "p.duckdb"
    assert pipeline.model_copy(update={"state": "x/p.duckdb"}).state_path == paths.state / "x" / "p.duckdb"


def test_duckdb_spills_into_the_configured_folder(clean_paths, tmp_path):
    clean_paths.setenv(data_dir.DUCKDB_TEMP_DIR_ENV, str(tmp_path / "spill"))
    store = Store(tmp_path / "state.duckdb")
    try:
        [(setting,)] = store.db.fetchall("SELECT current_setting('temp_directory')")
    finally:
        store.close()
    assert setting == str(tmp_path / "spill")


def test_a_relative_data_folder_is_refused_naming_the_variable(clean_paths):
    clean_paths.setenv(data_dir.DATA_DIR_ENV, "data")
    with pytest.raises(Exception) as err:
        data_dir.apply_data_dir()
    assert "LEDGERLINK_DATA_DIR=data is not an absolute path" in str(err.value)


def test_without_a_data_folder_nothing_changes(clean_paths):
    assert data_dir.apply_data_dir() is None
    assert data_dir.state_dir() is None and data_dir.duckdb_temp_dir() is None


# -- JSON log lines ------------------------------------------------------------------------------------------------

def test_a_json_log_line_has_time_level_logger_message_pipeline_and_run_and_no_secret():
    register_secret("s3cr3t-token-for-the-log-test")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("ledgerlink.test_container")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with logs.log_context(pipeline="amazon-to-qbo"), logs.log_context(run_id=7):
            logger.warning("refresh with %s failed", "s3cr3t-token-for-the-log-test",
                           extra={"fields": {"detail": {"token": "s3cr3t-token-for-the-log-test"}}})
        logger.warning("outside a run")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert set(first) >= {"time", "level", "logger", "message", "pipeline", "run_id"}
    assert first["pipeline"] == "amazon-to-qbo" and first["run_id"] == 7 and first["level"] == "WARNING"
    assert first["time"].endswith("Z") and first["logger"] == "ledgerlink.test_container"
    assert "s3cr3t" not in out.getvalue()
    assert second["pipeline"] is None and second["run_id"] is None


def test_json_format_logs_to_stdout_except_where_stdout_carries_the_protocol(monkeypatch):
    stdout, stderr = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    try:
        logs.setup_logging(log_format="json")
        logging.getLogger("ledgerlink.x").info("to stdout")
        assert logs.json_logs_on_stdout() and json.loads(stdout.getvalue())["message"] == "to stdout"
        logs.setup_logging(log_format="json", protocol_on_stdout=True)
        logging.getLogger("ledgerlink.x").warning("to stderr")
        assert not logs.json_logs_on_stdout() and json.loads(stderr.getvalue())["message"] == "to stderr"
    finally:
        logs.setup_logging(log_format="text")


# -- health --------------------------------------------------------------------------------------------------------

def test_health_fails_naming_a_folder_that_cannot_be_written(clean_paths, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the state folder should be")
    clean_paths.setenv(data_dir.STATE_DIR_ENV, str(blocked))
    [state, key] = check_health()
    assert not state.ok and state.name == "LEDGERLINK_STATE_DIR" and str(blocked) in state.detail
    assert key.ok


def test_health_asks_the_console_when_given_one(clean_paths):
    [_, console] = check_health("http://127.0.0.1:9", timeout=1)
    assert not console.ok and "http://127.0.0.1:9/healthz" in console.detail


def test_health_refuses_a_malformed_secret_key_without_printing_it(clean_paths):
    clean_paths.setenv("LEDGERLINK_SECRET_KEY", "not-a-key-at-all")
    [key] = check_health()
    assert not key.ok and "not-a-key-at-all" not in key.detail and "44 characters" in key.detail


# -- stopping between batches ----------------------------------------------------------------------------------------

@pytest.fixture
def fake_host(tmp_path):
    return fakes.fresh_host(tmp_path)


def _pipeline(tmp_path: Path, orders: int) -> Pipeline:
    return Pipeline.model_validate({"name": "fake", "state": str(tmp_path / "state.duckdb"),
                                    "source": {"connector": "fake_source", "config": {"orders": orders}},
                                    "destination": {"connector": "fake_dest", "config": {}},
                                    "base_dir": str(tmp_path)})


def _after(calls: int):
    """A `should_stop` that turns true on its `calls`-th question (a signal arriving mid-run)."""
    asked = {"n": 0}

    def should_stop() -> bool:
        asked["n"] += 1
        return asked["n"] >= calls
    return should_stop


def test_a_stop_during_the_write_records_the_batch_and_the_next_run_posts_the_rest_once(fake_host, tmp_path):
    pipeline = _pipeline(tmp_path, orders=12)
    def stop_at_second_batch() -> bool:  # a signal arriving once one batch of receipts (batch_size 3) is in
        return len(fakes.REMOTE.get("Receipt", {})) >= 3

    stopped = sync(pipeline, plugin_host=fake_host, should_stop=stop_at_second_batch)
    assert stopped.status == "stopped" and stopped.counts["stopped"] == "requested"
    assert len(fakes.REMOTE["Receipt"]) == 3 and stopped.counts["created"]["Receipt"] == 3
    store = Store(tmp_path / "state.duckdb")
    try:
        assert [r["status"] for r in store.runs.list()] == ["stopped"]
        done = store.db.fetchone("SELECT count(*) FROM outbox WHERE stream = 'Receipt' AND status = 'done'")[0]
    finally:
        store.close()
    assert done == 3  # exactly what the remote holds
    resumed = sync(pipeline, plugin_host=fake_host, should_stop=stop.NEVER)
    assert resumed.status == "succeeded"
    assert len(fakes.REMOTE["Receipt"]) == 12 and resumed.counts["created"]["Receipt"] == 9
    assert resumed.counts.get("already_there", {}).get("Receipt", 0) == 0


def test_a_stop_during_the_read_commits_what_was_read_and_posts_nothing(fake_host, tmp_path):
    pipeline = _pipeline(tmp_path, orders=10)
    report = sync(pipeline, plugin_host=fake_host, should_stop=_after(1))
    assert report.status == "stopped" and report.counts["read"]["orders"] < 10
    assert fakes.REMOTE == {} and "planned_new" not in report.counts
    resumed = sync(pipeline, plugin_host=fake_host, should_stop=stop.NEVER)
    assert resumed.status == "succeeded" and len(fakes.REMOTE["Receipt"]) == 10


def test_a_second_signal_waits_for_the_shielded_section_then_stops():
    stop._on_signal(signal.SIGTERM, None)  # the first: a request
    assert stop.stop_requested() and stop.stop_exit_code() == 143 and stop.stop_reason() == "SIGTERM"
    finished = []
    with pytest.raises(stop.StopNow):
        with stop.shielded():
            stop._on_signal(signal.SIGTERM, None)  # the second, while a batch is written: deferred
            finished.append("batch recorded")
    assert finished == ["batch recorded"]
    with pytest.raises(stop.StopNow):
        stop._on_signal(signal.SIGINT, None)  # outside any shield: at once


def test_the_default_stop_is_the_process_signal(fake_host, tmp_path):
    stop.request_stop(signal.SIGINT)
    report = sync(_pipeline(tmp_path, orders=4), plugin_host=fake_host)
    assert report.status == "stopped" and report.counts["stopped"] == "SIGINT" and report.exit_code == 130


def test_a_served_pipeline_stops_its_sync_when_the_process_got_sigterm(fake_host, tmp_path):
    from ledgerlink.serve import PipelineService

    service = PipelineService(_pipeline(tmp_path, orders=6), fake_host, every=None, debounce=0.01)
    try:
        stop.request_stop(signal.SIGTERM)  # what serve's handler does once uvicorn hands the signal on
        service._run("test")
        assert service.last_report["status"] == "stopped" and service.last_report["counts"]["stopped"] == "SIGTERM"
        stop.reset()
        service._run("test")
        assert service.last_report["status"] == "succeeded" and len(fakes.REMOTE["Receipt"]) == 6
    finally:
        service.stop()
