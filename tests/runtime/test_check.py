"""`check` with the pipeline's credential store: a secret rotated during a check is stored, and the next
check (and sync) uses it; outside a pipeline nothing is stored and nothing breaks."""

from __future__ import annotations

from typing import Any

import fakes
from ledgerlink import CheckContext, protocol
from ledgerlink import hookimpl
from ledgerlink.pipeline import Pipeline
from ledgerlink.runtime import check_pipeline
from ledgerlink.store import Store

USED: list[str] = []


class RotatingSource(fakes.FakeSource):
    """Each check uses the api key it is given and the remote hands back the next one (as OAuth does)."""

    name = "rotating_source"

    def check_connection(self, config: Any) -> None:
        USED.append(config.api_key)
        self.check_context.rotated("api_key", config.api_key + "+")


class RotatingDestination(fakes.FakeDestination):
    name = "rotating_dest"

    def check_connection(self, config: Any) -> None:
        token = self.check_context.load_credential("rotating_dest:token") or config.token
        USED.append(token)
        self.check_context.save_credential("rotating_dest:token", token + "+")


class _Plugin:
    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(RotatingSource)
        register(RotatingDestination)


def _pipeline(tmp_path) -> Pipeline:
    return Pipeline.model_validate({
        "name": "rotating", "state": str(tmp_path / "state.duckdb"),
        "source": {"connector": "rotating_source", "config": {"api_key": "key-1"}},
        "destination": {"connector": "rotating_dest", "config": {"token": "tok-1"}}, "base_dir": str(tmp_path)})


def test_a_secret_rotated_during_check_is_stored_and_used_next(fake_host, tmp_path):
    fake_host.register(_Plugin(), name="rotating")
    USED.clear()
    pipeline = _pipeline(tmp_path)
    for _ in range(2):
        assert check_pipeline(pipeline, "source", plugin_host=fake_host).status == protocol.Status.SUCCEEDED
        assert check_pipeline(pipeline, "destination", plugin_host=fake_host).status == protocol.Status.SUCCEEDED
    assert USED == ["key-1", "tok-1", "key-1+", "tok-1+"]
    store = Store(pipeline.state_path)
    try:
        assert store.credentials.load("rotating_source:api_key") == "key-1++"  # where a sync reads it back
        assert store.credentials.load("rotating_dest:token") == "tok-1++"
    finally:
        store.close()


def test_check_outside_a_pipeline_stores_nothing_and_still_works():
    USED.clear()
    source = RotatingSource()
    assert source.check({"api_key": "key-9"}).status == protocol.Status.SUCCEEDED
    assert USED == ["key-9"] and isinstance(source.check_context, CheckContext)
