"""Secrets never appear in logs: registration, masking, the logging filter, and spec-driven redaction."""

from __future__ import annotations

import io
import logging
from typing import Iterator

import pytest
from pydantic import BaseModel, Field, SecretStr

import ledgerlink
from ledgerlink.secrets import (
    SECRET, MaskSecrets, install_log_masking, mask, redact_config, register_config_secrets, register_secret,
    secret_paths,
)


@pytest.fixture
def log_output(isolated_secrets) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger whose handler masks secrets, and the text it wrote."""
    stream = io.StringIO()
    logger = logging.getLogger(f"ledgerlink.test.secrets.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    install_log_masking(logger)
    yield logger, stream
    logger.removeHandler(handler)


def test_registered_secret_is_masked_everywhere_in_a_text(isolated_secrets):
    register_secret("hunter2-token")
    assert mask("token=hunter2-token; again hunter2-token") == f"token={SECRET}; again {SECRET}"


def test_mask_leaves_text_alone_when_nothing_is_registered(isolated_secrets):
    isolated_secrets._values.clear()
    isolated_secrets._pattern = None
    assert mask("nothing to hide") == "nothing to hide"
    assert mask("") == ""


def test_the_longest_secret_wins_when_secrets_overlap(isolated_secrets):
    register_secret("abcd1234")
    register_secret("abcd")
    assert mask("xabcd1234x") == f"x{SECRET}x"


def test_secrets_with_regex_characters_are_matched_literally(isolated_secrets):
    register_secret("a+b(c)*[d]")
    assert mask("k=a+b(c)*[d]") == f"k={SECRET}"
    assert mask("k=aab(c)d") == "k=aab(c)d"


@pytest.mark.parametrize("value", [None, "", "abc", 12345, b"bytes-secret"])
def test_short_or_non_text_values_are_not_registered(isolated_secrets, value):
    before = set(isolated_secrets._values)
    register_secret(value)
    assert isolated_secrets._values == before


def test_log_filter_masks_the_formatted_message_including_percent_args(log_output):
    logger, out = log_output
    register_secret("sk_live_51Habc")
    logger.info("calling with key %s for %s", "sk_live_51Habc", "store-1")
    logger.info("inline sk_live_51Habc")
    logger.info("dict %(key)s", {"key": "sk_live_51Habc"})
    text = out.getvalue()
    assert "sk_live_51Habc" not in text
    assert text.splitlines() == [f"INFO calling with key {SECRET} for store-1", f"INFO inline {SECRET}",
                                 f"INFO dict {SECRET}"]


def test_log_filter_masks_secrets_in_tracebacks(log_output):
    logger, out = log_output
    register_secret("refresh-XYZ-987")
    try:
        raise RuntimeError("token refresh-XYZ-987 was refused")
    except RuntimeError:
        logger.exception("refresh failed")
    text = out.getvalue()
    assert "RuntimeError" in text and "refresh failed" in text
    assert "refresh-XYZ-987" not in text


def test_log_filter_masks_secrets_registered_after_it_was_installed(log_output):
    logger, out = log_output
    register_secret("late-secret-value")
    logger.warning("%s", "late-secret-value")
    assert out.getvalue().strip() == f"WARNING {SECRET}"


def test_mask_secrets_filter_works_with_caplog(isolated_secrets, caplog):
    caplog.handler.addFilter(MaskSecrets())
    register_secret("pa55w0rd!")
    logging.getLogger("ledgerlink.test").warning("login with %r", "pa55w0rd!")
    assert "pa55w0rd!" not in caplog.text and SECRET in caplog.text


def test_install_log_masking_is_idempotent(log_output):
    logger, _ = log_output
    install_log_masking(logger)
    assert sum(isinstance(f, MaskSecrets) for f in logger.filters) == 1
    assert sum(isinstance(f, MaskSecrets) for f in logger.handlers[0].filters) == 1


# -------------------------------------------------------------------------------------- spec-driven

AIRBYTE_SPEC = {
    "type": "object",
    "properties": {
        "store_hash": {"type": "string"},
        "access_token": {"type": "string", "airbyte_secret": True},
        "credentials": {
            "type": "object",
            "oneOf": [
                {"title": "OAuth", "properties": {"auth_type": {"const": "oauth"},
                                                  "client_secret": {"type": "string", "airbyte_secret": True},
                                                  "refresh_token": {"type": "string", "airbyte_secret": True}}},
                {"title": "API key", "properties": {"auth_type": {"const": "key"},
                                                    "api_key": {"type": "string", "airbyte_secret": True}}},
            ],
        },
        "advanced": {"type": "object", "properties": {
            "proxy": {"type": "object", "properties": {"password": {"type": "string", "airbyte_secret": True},
                                                       "user": {"type": "string"}}}}},
    },
}


def test_secret_paths_finds_nested_and_one_of_fields():
    assert set(secret_paths(AIRBYTE_SPEC)) == {
        ("access_token",), ("credentials", "client_secret"), ("credentials", "refresh_token"),
        ("credentials", "api_key"), ("advanced", "proxy", "password"),
    }


class _Creds(BaseModel):
    client_id: str
    refresh_token: str = Field(json_schema_extra={"airbyte_secret": True})


class _Config(BaseModel):
    realm_id: str
    client_secret: str = Field(json_schema_extra={"airbyte_secret": True})
    credentials: _Creds
    backup: _Creds | None = None
    webhook_key: SecretStr | None = None


def test_secret_paths_follows_pydantic_defs_and_secret_str():
    assert set(secret_paths(_Config.model_json_schema())) == {
        ("client_secret",), ("credentials", "refresh_token"), ("backup", "refresh_token"), ("webhook_key",),
    }


def test_secret_paths_survives_recursive_models():
    class Node(BaseModel):
        token: str = Field(json_schema_extra={"airbyte_secret": True})
        child: "Node | None" = None

    assert ("token",) in secret_paths(Node.model_json_schema())


def test_redact_config_replaces_only_secret_fields_and_leaves_the_original_untouched():
    config = {"store_hash": "abc123", "access_token": "tok-1",
              "credentials": {"auth_type": "oauth", "client_secret": "cs-1", "refresh_token": "rt-1"},
              "advanced": {"proxy": {"user": "bob", "password": "pw-1"}}}
    redacted = redact_config(config, AIRBYTE_SPEC)
    assert redacted == {"store_hash": "abc123", "access_token": SECRET,
                        "credentials": {"auth_type": "oauth", "client_secret": SECRET, "refresh_token": SECRET},
                        "advanced": {"proxy": {"user": "bob", "password": SECRET}}}
    assert config["access_token"] == "tok-1" and config["advanced"]["proxy"]["password"] == "pw-1"


def test_redact_config_ignores_missing_and_non_object_branches():
    assert redact_config({"advanced": "not-an-object"}, AIRBYTE_SPEC) == {"advanced": "not-an-object"}


def test_register_config_secrets_registers_every_secret_value(isolated_secrets):
    register_config_secrets({"store_hash": "store-abc", "access_token": "tok-aaaa",
                             "credentials": {"api_key": "key-bbbb"}}, AIRBYTE_SPEC)
    assert mask("store-abc tok-aaaa key-bbbb") == f"store-abc {SECRET} {SECRET}"


class HelloConfig(BaseModel):
    base_url: str = "https://api.example.com"
    api_token: str = Field(json_schema_extra={"airbyte_secret": True})
    oauth: _Creds


class HelloSource(ledgerlink.Source):
    name = "secret-hello"
    config_model = HelloConfig

    def streams(self, config):
        return []


def test_connector_spec_secrets_are_masked_in_log_output_end_to_end(log_output):
    logger, out = log_output
    config = {"api_token": "tok_live_0001", "oauth": {"client_id": "cid-visible", "refresh_token": "rt_live_0002"}}
    source = HelloSource()
    spec = source.spec()
    assert set(secret_paths(spec.connectionSpecification)) == {("api_token",), ("oauth", "refresh_token")}
    source.parse_config(config)
    logger.info("loaded config %s", config)
    logger.error("remote said: invalid token rt_live_0002")
    text = out.getvalue()
    assert "tok_live_0001" not in text and "rt_live_0002" not in text
    assert "cid-visible" in text and text.count(SECRET) == 3
