"""The rules file: a sound one loads, and every malformed one is refused with the file, the key path and what to
do — never a traceback, never a secret written into the file."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ledgerlink.alerts import load_alerts, parse_alerts
from ledgerlink.errors import ConfigError

SOUND: dict[str, Any] = {
    "console_url": "https://books.example.com/",
    "timezone": "Europe/Berlin",
    "digest_minutes": 15,
    "quiet_hours": {"start": "22:00", "end": "07:00"},
    "channels": {
        "mail": {"type": "email", "host": "smtp.example.com", "username": "alerts", "password_env": "SMTP_PW",
                 "from": "alerts@example.com", "to": ["books@example.com"]},
        "chat": {"type": "slack", "url_env": "SLACK_URL", "digest_minutes": 0},
        "ops": {"type": "webhook", "url": "https://hooks.example.com/x", "secret_env": "HOOK_SECRET"},
    },
    "rules": [{"name": "all", "events": ["run_failed", "dead_letters"], "channels": ["mail", "chat"]},
              {"events": ["anomaly"], "pipelines": ["shop"], "channels": ["ops"]}],
}


def _with(path: str, value: Any) -> dict[str, Any]:
    rules = copy.deepcopy(SOUND)
    node: Any = rules
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _DELETE:
        del node[keys[-1]]
    elif isinstance(node, list):
        node[int(keys[-1])] = value
    else:
        node[keys[-1]] = value
    return rules


_DELETE = object()


def test_a_sound_file_loads_with_its_defaults():
    config = parse_alerts(SOUND, "alerts.yaml")
    assert config.console_url == "https://books.example.com"
    assert config.channels["mail"].port == 587 and config.channels["mail"].security == "starttls"
    assert config.channel_digest_minutes("mail") == 15 and config.channel_digest_minutes("chat") == 0
    assert config.retry.delay(1) == 30 and config.retry.delay(3) == 120 and config.retry.delay(20) == 3600
    assert config.rules[1].covers("shop") and not config.rules[1].covers("outlet")
    assert config.rules[0].covers("anything")


def test_unquoted_times_of_day_read_as_yaml_numbers_still_mean_hh_mm(tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text("console_url: https://x.example\nquiet_hours: {start: 22:00, end: 7:30}\n"
                    "channels: {ops: {type: webhook, url: 'https://h.example', secret_env: S}}\n")
    config = load_alerts(path)
    assert str(config.quiet_hours.start) == "22:00:00" and str(config.quiet_hours.end) == "07:30:00"


@pytest.mark.parametrize("path, value, where, message, hint", [
    ("channels.mail.prot", 25, "channels.mail.prot", "unknown key 'prot'", "did you mean 'port'?"),
    ("channels.mail.port", "smtp", "channels.mail.port", "valid integer", None),
    ("channels.mail.type", "sms", "channels.mail", "type must be one of email, slack, webhook", None),
    ("channels.mail.password_env", "hunter2!", "channels.mail.password_env", "never write the secret itself", None),
    ("channels.mail.username", _DELETE, "channels.mail", "username and password_env go together", None),
    ("channels.mail.to", ["not an address"], "channels.mail.to", "is not an e-mail address", None),
    ("channels.mail.to", [], "channels.mail.to", "must not be empty", "name at least one address"),
    ("channels.ops.url", "ftp://x", "channels.ops.url", "must be an http:// or https:// URL", None),
    ("channels.chat.url_env", "https://hooks.slack.com/T0/B0/x", "channels.chat.url_env",
     "must name an environment variable", None),
    ("rules.0.events.1", "dead_letter", "rules.0.events.1", "no event named 'dead_letter'", "events: run_failed"),
    ("rules.0.channels.1", "chatt", "rules.0.channels.1", "no channel named 'chatt'", "channels: mail, chat, ops"),
    ("rules.1.pipeline", ["shop"], "rules.1.pipeline", "unknown key 'pipeline'", "did you mean 'pipelines'?"),
    ("rules.0.dead_letters_above", -1, "rules.0.dead_letters_above", "greater than or equal to 0", None),
    ("timezone", "Mars/Olympus", "timezone", "is not a time zone", None),
    ("quiet_hours.start", "10pm", "quiet_hours.start", "is not a time of day", None),
    ("quiet_hours.end", "22:00", "quiet_hours", "start and end are the same time", None),
    ("console_url", _DELETE, "console_url", "required key is missing", None),
    ("consol_url", "x", "consol_url", "unknown key 'consol_url'", "did you mean 'console_url'?"),
    ("retry", {"max_attempts": 0}, "retry.max_attempts", "greater than or equal to 1", None),
])
def test_malformed_rules_name_the_key(path, value, where, message, hint):
    with pytest.raises(ConfigError) as caught:
        parse_alerts(_with(path, value), "ws/alerts.yaml")
    exc = caught.value
    assert exc.where == where
    assert str(exc).startswith(f"ws/alerts.yaml: {where}: ")
    assert message in exc.message
    if hint:
        assert hint in (exc.hint or "")


@pytest.mark.parametrize("text, expected", [
    ("console_url: [unclosed\n", "not valid YAML"),
    ("- just\n- a list\n", "the alert rules are a mapping"),
    ("console_url: a\nconsole_url: b\n", "console_url"),
    ("", "the alert rules are a mapping"),
])
def test_files_that_are_not_rules(tmp_path, text, expected):
    path = tmp_path / "alerts.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_alerts(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)


def test_no_file_means_no_alerts(tmp_path):
    assert load_alerts(tmp_path / "alerts.yaml") is None
    (tmp_path / "alerts.yaml").mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        load_alerts(tmp_path / "alerts.yaml")


def test_the_rules_file_is_not_taken_for_a_pipeline(tmp_path):
    from ledgerlink.console.workspace import pipeline_files

    (tmp_path / "alerts.yaml").write_text("console_url: https://x.example\n")
    (tmp_path / "shop.yaml").write_text("name: shop\nsource: {connector: a}\ndestination: {connector: b}\n")
    assert [p.name for p in pipeline_files(tmp_path)] == ["shop.yaml"]
