"""Forms generated from connectors' JSON Schema specs, and submitted forms read back with their types."""

from __future__ import annotations

import pytest

from ledgerlink.designer.forms import FormProblem, form_fields, read_form
from ledgerlink.plugins import PluginHost


def _schema(name: str, role: str) -> dict:
    return dict(PluginHost().connector(name, role)().spec().connectionSpecification)


def test_a_built_in_connector_gets_a_form_from_its_spec():
    fields = {f.name: f for f in form_fields(_schema("qbo", "destination"), "destination")}
    assert fields["realm_id"].kind == "text" and fields["realm_id"].required
    assert fields["client_secret"].kind == "password" and fields["refresh_token"].kind == "password"
    assert fields["minor_version"].kind == "integer" and fields["minor_version"].default == 75
    assert fields["timeout_s"].kind == "number"
    assert fields["accounts"].kind == "yaml"  # a mapping of objects: a small YAML box
    amazon = {f.name: f for f in form_fields(_schema("amazon_sp", "source"), "source")}
    assert amazon["environment"].kind == "select" and "production" in amazon["environment"].choices
    assert amazon["marketplace_ids"].kind == "list"
    assert amazon["endpoint"].kind == "text" and not amazon["endpoint"].required  # `str | None`


def test_a_third_party_plugin_gets_a_form_for_free():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "plugin-example"))
    import ledgerlink_myshop.plugin as myshop

    host = PluginHost(load_entry_points=False)
    host.register(myshop, name="myshop")
    schema = dict(host.connector("myshop", "source")().spec().connectionSpecification)
    fields = {f.name: f for f in form_fields(schema, "source")}
    assert [f.kind for f in fields.values()] == ["text", "password", "integer", "text", "password"]
    assert read_form(schema, {"source.api_key": "k-1234", "source.page_size": "20"}, "source") == \
        {"api_key": "k-1234", "page_size": 20}


def test_secrets_are_never_shown_and_an_empty_one_keeps_the_file_s():
    schema = _schema("qbo", "destination")
    fields = {f.name: f for f in form_fields(schema, "destination", {"client_secret": "s3cret-value"})}
    assert fields["client_secret"].value == "" and fields["client_secret"].has_secret
    form = {"destination.realm_id": "1", "destination.client_id": "c", "destination.refresh_token": "new-token",
            "destination.client_secret": ""}
    config = read_form(schema, form, "destination", existing={"client_secret": "s3cret-value"})
    assert config["client_secret"] == "s3cret-value" and config["refresh_token"] == "new-token"


@pytest.mark.parametrize("form, field, words", [
    ({"destination.client_id": "c", "destination.client_secret": "s", "destination.refresh_token": "r"},
     "destination.realm_id", "is required"),
    ({"destination.realm_id": "1", "destination.client_id": "c", "destination.client_secret": "s",
      "destination.refresh_token": "r", "destination.minor_version": "seventy"}, "destination.minor_version",
     "not a whole number"),
    ({"destination.realm_id": "1", "destination.client_id": "c", "destination.client_secret": "s",
      "destination.refresh_token": "r", "destination.timeout_s": "fast"}, "destination.timeout_s", "not a number"),
    ({"destination.realm_id": "1", "destination.client_id": "c", "destination.client_secret": "s",
      "destination.refresh_token": "r", "destination.batch_size": "31"}, "destination.batch_size",
     "31 is more than 30, the most allowed"),
    ({"destination.realm_id": "1", "destination.client_id": "c", "destination.client_secret": "s",
      "destination.refresh_token": "r", "destination.timeout_s": "0"}, "destination.timeout_s", "must be more than 0"),
    ({"destination.realm_id": "1", "destination.client_id": "c", "destination.client_secret": "s",
      "destination.refresh_token": "r", "destination.relm_id": "1"}, "destination.relm_id", "unknown field"),
    ({"destination.realm_id": "1", "destination.client_id": "c", "destination.client_secret": "s",
      "destination.refresh_token": "r", "destination.accounts": "a: [b"}, "destination.accounts", "not valid YAML"),
])
def test_a_bad_form_names_the_field(form, field, words):
    with pytest.raises(FormProblem) as info:
        read_form(_schema("qbo", "destination"), form, "destination")
    assert info.value.input_name == field and words in info.value.message


def test_a_choice_outside_the_enum_is_refused():
    schema = _schema("amazon_sp", "source")
    with pytest.raises(FormProblem, match="not one of"):
        read_form(schema, {"source.client_id": "c", "source.client_secret": "s", "source.refresh_token": "r",
                           "source.marketplace_ids": "A", "source.start_date": "2026-01-01T00:00:00Z",
                           "source.environment": "moon"}, "source")
    config = read_form(schema, {"source.client_id": "c", "source.client_secret": "s", "source.refresh_token": "r",
                                "source.marketplace_ids": "A1, A2", "source.start_date": "2026-01-01T00:00:00Z",
                                "source.environment": "local"}, "source")
    assert config["marketplace_ids"] == ["A1", "A2"] and config["environment"] == "local"
