"""`ledgerlink write qbo` and `ledgerlink check qbo --config`: Intuit rotates the refresh token on every exchange,
so each command prints the updated config as a CONTROL message (as the connector processes do) the moment it
arrives; whoever runs the command keeps it, and the next run with it works. Before, the rotated token was lost and
the next run had only a spent one."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ledgerlink.cli import cli
from sandbox_helpers import sandbox_running


def _config(url: str, sandbox) -> dict:
    o = sandbox.options
    return {"base_url": url, "token_url": f"{url}/oauth2/v1/tokens/bearer", "realm_id": o.realm_id,
            "client_id": o.client_id, "client_secret": o.client_secret, "refresh_token": o.refresh_token}


def _messages(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def _rotated(messages: list[dict], before: dict) -> list[dict]:
    configs = [m["control"]["connectorConfig"]["config"] for m in messages if m["type"] == "CONTROL"]
    for config in configs:  # only the refresh token changed
        assert {k: v for k, v in config.items() if k != "refresh_token"} == \
            {k: v for k, v in before.items() if k != "refresh_token"}
        assert config["refresh_token"] != before["refresh_token"]
    return configs


def test_write_and_check_print_the_rotated_refresh_token_and_the_next_run_uses_it(tmp_path: Path):
    catalog = {"streams": [{"stream": {"name": "Customer", "json_schema": {"type": "object"},
                                       "supported_sync_modes": ["full_refresh"]},
                            "sync_mode": "full_refresh", "destination_sync_mode": "append_dedup",
                            "primary_key": [["DisplayName"]]}]}
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    record = json.dumps({"type": "RECORD", "record": {"stream": "Customer", "emitted_at": 1,
                                                      "data": {"DisplayName": "Rotation Buyer"}}})
    runner = CliRunner()
    with sandbox_running("qbo") as (url, sb):
        first = _config(url, sb)
        (tmp_path / "config.json").write_text(json.dumps(first))
        write = runner.invoke(cli, ["write", "qbo", "--config", str(tmp_path / "config.json"),
                                    "--catalog", str(tmp_path / "catalog.json")], input=record + "\n")
        assert write.exit_code == 0, write.output
        [*_, latest] = _rotated(_messages(write.stdout), first)
        assert first["refresh_token"] not in write.stderr and latest["refresh_token"] not in write.stderr
        # the next run starts from the printed config, and its own rotation is printed before its answer
        (tmp_path / "rotated.json").write_text(json.dumps(latest))
        check = runner.invoke(cli, ["check", "qbo", "--role", "destination", "--config",
                                    str(tmp_path / "rotated.json")])
        assert check.exit_code == 0, check.output
        messages = _messages(check.stdout)
        [again] = _rotated(messages, latest)
        assert [m["type"] for m in messages] == ["CONTROL", "CONNECTION_STATUS"]
        assert messages[1]["connectionStatus"]["status"] == "SUCCEEDED"
        assert again["refresh_token"] != latest["refresh_token"]
