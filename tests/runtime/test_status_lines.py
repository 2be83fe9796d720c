"""Plugins contribute status lines for a pipeline (`ledgerlink runs`): only the plugins of its connectors, with
their configs; every one when only a state file is known; a failing one says so instead of breaking `runs`."""

from __future__ import annotations

from typing import Any

from ledgerlink import PipelineState, hookimpl
from ledgerlink.runtime import status_lines, sync
from ledgerlink.store import Store

CALLS: list[tuple[str, Any]] = []


def _dest_status(state: PipelineState, config: dict[str, Any] | None) -> list[str]:
    CALLS.append(("fake_dest", config))
    refs = state.references("fake_dest")
    return [f"fake remote: {state.awaiting('fake_dest').count()} waiting, token {'unknown' if config is None else 'set'}",
            f"customers cached: {refs.get('Customer', 'buyer0@example.com') or 'none'}"]


def _other_status(state: PipelineState, config: dict[str, Any] | None) -> list[str]:
    CALLS.append(("other", config))
    return ["other: fine"]


def _broken_status(state: PipelineState, config: dict[str, Any] | None) -> list[str]:
    raise RuntimeError("cannot read the clock")


class _Plugin:
    @hookimpl
    def register_status_lines(self, register: Any) -> None:
        register("fake_dest", _dest_status)
        register("other", _other_status)
        register("fake_source", _broken_status)


def test_the_pipelines_connectors_speak_with_their_configs(fake_host, make_pipeline):
    fake_host.register(_Plugin(), name="status")
    pipeline = make_pipeline(orders=2)
    sync(pipeline, plugin_host=fake_host)
    CALLS.clear()
    store = Store(pipeline.state_path)
    try:
        lines = status_lines(pipeline, store, plugin_host=fake_host)
        assert lines[:2] == ["fake remote: 0 waiting, token set", "customers cached: none"]
        assert lines[2] == "fake_source: status unavailable (RuntimeError: cannot read the clock)"
        assert CALLS == [("fake_dest", {})]  # not "other": this pipeline does not use it
        CALLS.clear()
        assert "other: fine" in status_lines(pipeline.state_path, store, plugin_host=fake_host)
        assert sorted(c for c, _ in CALLS) == ["fake_dest", "other"] and all(cfg is None for _, cfg in CALLS)
        assert store.runs.list(5)  # the view over the store left it open for its owner
    finally:
        store.close()


def test_without_providers_there_are_no_lines(fake_host, make_pipeline, tmp_path):
    pipeline = make_pipeline(orders=1)
    sync(pipeline, plugin_host=fake_host)
    store = Store(pipeline.state_path)
    try:
        assert status_lines(pipeline, store, plugin_host=fake_host) == []
    finally:
        store.close()
