"""A third party's plugin, installed as its own distribution, is found and run by the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HELLO_PLUGIN = '''
    """ledgerlink-hello: the smallest useful ledgerlink plugin."""
    from typing import Any, Iterator

    import click
    from pydantic import BaseModel, Field

    import ledgerlink
    from ledgerlink import hookimpl


    class HelloConfig(BaseModel):
        greeting: str = "hello"
        count: int = 3
        api_key: str = Field("not-a-real-key", json_schema_extra={"airbyte_secret": True})


    class Greetings(ledgerlink.Stream):
        name = "greetings"
        primary_key = "id"
        cursor_field = "id"

        def read_records(self, state: dict[str, Any]) -> Iterator[Any]:
            start = int(state.get("id", 0))
            for i in range(start + 1, start + 1 + self.config.count):
                record = {"id": i, "text": f"{self.config.greeting} #{i}"}
                self.observe(record)
                yield record
            yield ledgerlink.CHECKPOINT


    class HelloSource(ledgerlink.Source):
        name = "hello"
        config_model = HelloConfig

        def streams(self, config: HelloConfig) -> list[ledgerlink.Stream]:
            return [Greetings(config)]

        def stream_classes(self) -> list[type[ledgerlink.Stream]]:
            return [Greetings]


    @hookimpl
    def register_connectors(register):
        register(HelloSource)


    @hookimpl
    def register_commands(cli):
        @cli.command()
        @click.option("--name", default="world")
        def hello(name):
            """Say hello (from the ledgerlink-hello plugin)."""
            click.echo(f"hello, {name}, from a plugin")
'''


@pytest.fixture(scope="module")
def hello_site(tmp_path_factory, make_distribution) -> Path:
    return make_distribution(tmp_path_factory.mktemp("hello") / "site", "ledgerlink-hello", "0.1.0",
                             {"hello": "ledgerlink_hello.plugin"},
                             {"ledgerlink_hello/__init__.py": "", "ledgerlink_hello/plugin.py": HELLO_PLUGIN})


def run_cli(site: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERLINK_")}
    environ["PYTHONPATH"] = os.pathsep.join([str(site)] + ([environ["PYTHONPATH"]] if environ.get("PYTHONPATH") else []))
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "ledgerlink", *args], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=120)


def test_third_party_plugin_is_listed_by_ledgerlink_plugins(hello_site, tmp_path):
    result = run_cli(hello_site, tmp_path, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    hello = plugins["hello"]
    assert {k: hello[k] for k in ("name", "distribution", "version", "connectors", "sandboxes", "filters")} == {
        "name": "hello", "distribution": "ledgerlink-hello", "version": "0.1.0", "connectors": ["hello"],
        "sandboxes": [], "filters": []}


def test_third_party_plugin_can_be_disabled(hello_site, tmp_path):
    result = run_cli(hello_site, tmp_path, "plugins", "--json", LEDGERLINK_DISABLE_PLUGINS="hello")
    assert result.returncode == 0, result.stderr
    assert "hello" not in {p["name"] for p in json.loads(result.stdout)}


def test_third_party_source_runs_under_the_airbyte_commands(hello_site, tmp_path, airbyte_validator):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"greeting": "hi", "api_key": "hello-secret-123"}))

    spec = run_cli(hello_site, tmp_path, "spec", "hello", LEDGERLINK_LOAD_PLUGINS="hello")
    assert spec.returncode == 0, spec.stderr
    spec_message = json.loads(spec.stdout)
    airbyte_validator(spec_message)
    assert spec_message["spec"]["connectionSpecification"]["properties"]["api_key"]["airbyte_secret"] is True

    read = run_cli(hello_site, tmp_path, "read", "hello", "--config", str(config), LEDGERLINK_LOAD_PLUGINS="hello")
    assert read.returncode == 0, read.stderr
    messages = [json.loads(line) for line in read.stdout.splitlines() if line.strip()]
    for message in messages:
        airbyte_validator(message)
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert [(r["stream"], r["data"]) for r in records] == [
        ("greetings", {"id": 1, "text": "hi #1"}), ("greetings", {"id": 2, "text": "hi #2"}),
        ("greetings", {"id": 3, "text": "hi #3"})]
    states = [m["state"] for m in messages if m["type"] == "STATE"]
    assert states and states[-1]["stream"]["stream_state"] == {"id": 3}
    assert "hello-secret-123" not in read.stdout + read.stderr

    # Resuming from the last STATE reads the next three.
    state = tmp_path / "state.json"
    state.write_text(json.dumps([states[-1]]))
    again = run_cli(hello_site, tmp_path, "read", "hello", "--config", str(config), "--state", str(state),
                    LEDGERLINK_LOAD_PLUGINS="hello")
    assert again.returncode == 0, again.stderr
    ids = [json.loads(line)["record"]["data"]["id"] for line in again.stdout.splitlines()
           if line.strip() and json.loads(line)["type"] == "RECORD"]
    assert ids == [4, 5, 6]


def test_third_party_plugin_adds_a_cli_command(hello_site, tmp_path):
    result = run_cli(hello_site, tmp_path, "hello", "--name", "Ada", LEDGERLINK_LOAD_PLUGINS="hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello, Ada, from a plugin\n"
