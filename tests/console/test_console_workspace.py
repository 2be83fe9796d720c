"""A workspace: which files are its pipelines, clear errors for an empty folder or two pipelines of one name,
plugin apps mounted per pipeline when several claim a path, and the endpoint notes the CLI reads."""

from __future__ import annotations

import json
import os
import stat

from click.testing import CliRunner
from console_helpers import fakes, write_pipeline

from ledgerlink.cli import cli
from ledgerlink.console import Workspace
from ledgerlink.console.app import mount_paths
from ledgerlink.console.notes import note_path, read_note, remove_note, write_note
from ledgerlink.errors import ConfigError


def _open(target, host):
    return Workspace.open(target, host, every=None, debounce=0, announce=lambda s: None)


def test_an_empty_folder_and_duplicate_names_are_clear_errors(tmp_path):
    host = fakes.fresh_host(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    try:
        _open(empty, host)
        raise AssertionError("an empty workspace was accepted")
    except ConfigError as exc:
        assert "has no pipeline files" in exc.message
    twice = tmp_path / "twice"
    twice.mkdir()
    write_pipeline(twice, "shop")
    (twice / "copy.yaml").write_text((twice / "shop.yaml").read_text())
    try:
        _open(twice, host)
        raise AssertionError("two pipelines of one name were accepted")
    except ConfigError as exc:
        assert "two pipeline files are named 'shop'" in exc.message and exc.hint


def test_a_pipeline_file_is_a_workspace_of_one_in_its_folder(tmp_path):
    host = fakes.fresh_host(tmp_path)
    ws = _open(write_pipeline(tmp_path, "solo"), host)
    try:
        assert list(ws.services) == ["solo"] and ws.root == tmp_path.resolve()
        assert (tmp_path / ".ledgerlink" / "console.db").exists()
    finally:
        ws.stop()


def test_plugin_apps_are_mounted_per_pipeline_when_several_claim_a_path(tmp_path):
    host = fakes.fresh_host(tmp_path)
    host.register(fakes.web_plugin, name="fake_web")
    write_pipeline(tmp_path, "a")
    write_pipeline(tmp_path, "b")
    ws = _open(tmp_path, host)
    try:
        assert sorted(path for path, _, _ in mount_paths(ws)) == ["/a/webhooks/fake", "/b/webhooks/fake"]
    finally:
        ws.stop()


def test_serve_needs_a_pipeline_file_or_a_workspace(tmp_path):
    runner = CliRunner()
    neither = runner.invoke(cli, ["serve"])
    assert neither.exit_code == 2 and "name a pipeline file or --workspace DIR" in neither.output
    both = runner.invoke(cli, ["serve", "x.yaml", "--workspace", str(tmp_path)])
    assert both.exit_code == 2


def test_endpoint_notes_are_owner_only_and_ignored_once_their_process_is_gone(tmp_path):
    state = tmp_path / "shop.duckdb"
    path = write_note(state, url="http://127.0.0.1:1", token="llt_local_x", pipeline="shop")
    assert path == note_path(state) == tmp_path / "shop.serve.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_note(state)["pipeline"] == "shop"
    stale = json.loads(path.read_text())
    stale["pid"] = 2 ** 22 + 12345  # above the kernel's pid limit: never a live process
    path.write_text(json.dumps(stale))
    assert read_note(state) is None
    remove_note(state)
    assert path.exists()  # another process's note is left alone
    path.unlink()
    write_note(state, url="http://127.0.0.1:1", token="t", pipeline="shop")
    remove_note(state)
    assert not path.exists()
