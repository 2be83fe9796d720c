"""The options contract: every built-in destination declares its options as a strict typed model, the spec
publishes it, the shared sections are the engines' own models, every shipped pipeline loads, and a problem
reads well (key path, what is wrong, did-you-mean)."""

from __future__ import annotations

import json
import sys
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).parent))

from options_cases import BUILTIN_DESTINATIONS, builtin_options_models, groups  # noqa: E402

import ledgerlink  # noqa: E402
from ledgerlink import ConfigError, OptionsError, check_options, load_pipeline  # noqa: E402
from ledgerlink.options import did_you_mean  # noqa: E402
from ledgerlink.plugins import PluginHost  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
QBO = builtin_options_models()["qbo"]


def test_every_builtin_destination_declares_strict_options():
    roles = PluginHost().connector_roles()
    writers = {name for name, by_role in roles.items() if "destination" in by_role}
    assert writers == set(BUILTIN_DESTINATIONS)
    for name, model in builtin_options_models().items():
        for _, group in groups(model):
            assert group.model_config.get("extra") == "forbid", (name, group.__name__)
            assert group.model_config.get("allow_inf_nan") is False, (name, group.__name__)


def test_money_and_rates_are_decimals_never_floats():
    """Decimal for amounts and rates; a float annotation anywhere in an options model would round them."""
    from decimal import Decimal

    for name, model in builtin_options_models().items():
        for _, group in groups(model):
            if group.__module__.startswith("ledgerlink.anomalies"):
                continue  # anomaly thresholds are statistics (robust z-scores, ages, shares), never amounts posted
            for field, info in group.model_fields.items():
                if any(w in field for w in ("rate", "deposit", "amount", "threshold")):
                    assert "float" not in repr(info.annotation), (name, group.__name__, field)
    parsed = check_options(QBO, {"exchange_rates": {"CAD": 0.73}, "tax": {"rates": {"GST": "13"}},
                                 "settlements": {"deposits": {"1": "742.10"}, "exchange_rates": {"CAD": "0.7312"}}})
    assert parsed.exchange_rates["CAD"] == Decimal("0.73") and parsed.tax.rates["GST"] == Decimal("13")
    assert parsed.settlements.deposits["1"] == Decimal("742.10")
    with pytest.raises(OptionsError, match="write the amount in quotes"):
        check_options(QBO, {"settlements": {"deposits": {"1": 742.10}}})


@pytest.mark.parametrize("name", BUILTIN_DESTINATIONS)
def test_the_spec_carries_the_options_schema_and_specs_has_it(name):
    cls = PluginHost().connector(name, "destination")
    spec = json.loads(ledgerlink.protocol.dumps(ledgerlink.protocol.Message(type="SPEC", spec=cls().spec())))
    schema = spec["spec"]["optionsSpecification"]
    assert schema["additionalProperties"] is False and set(schema["properties"]) >= {"inventory"}
    checked_in = json.loads((REPO / "specs" / "schemas" / "connectors" / f"{name}.options.json").read_text())
    assert checked_in == schema


def test_a_destination_without_a_model_has_no_options_specification():
    class PlainConfig(BaseModel):
        url: str = "http://127.0.0.1:1"

    class Plain(ledgerlink.Destination):
        name = "plain"
        config_model = PlainConfig

    assert Plain.options_schema() is None and "optionsSpecification" not in Plain().spec().model_dump()


def test_the_ledger_sections_are_the_engines_own_models_with_the_same_defaults():
    """One model per group: what the load-time check fills in is what each engine reads for an empty section."""
    empty = QBO()
    assert empty.settlements == ledgerlink.settlements.parse_settlement_options({})
    assert empty.returns == ledgerlink.posting.parse_returns_options({})
    assert empty.inventory == ledgerlink.inventory.parse_inventory_options({})
    for section in ("settlements", "returns", "inventory", "reconcile"):
        assert getattr(QBO(**{section: None}), section) == getattr(empty, section)  # `section:` left empty


def _shipped_pipelines() -> list[Path]:
    found = sorted((REPO / "core" / "data").glob("*.yaml")) + sorted((REPO / "specs" / "pipelines").glob("*.yaml"))
    return found + sorted((REPO / "docs").rglob("*.yaml"))


@pytest.mark.parametrize("path", _shipped_pipelines(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_pipeline_still_loads(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pipeline = load_pipeline(path, env={})
    model = builtin_options_models().get(pipeline.destination.connector)
    if model is not None:
        check_options(model, pipeline.destination.options)


@pytest.mark.parametrize("wrong, allowed, expected", [
    ("customer_stratgy", ["customer_strategy", "on_cancel"], "customer_strategy"),
    ("voyd", ["void", "reverse"], "void"),
    ("Void", ["void", "reverse"], "void"),
    ("first-run", ["always", "first_run", "never"], "first_run"),
    ("recipt", ["sales_receipt", "invoice", "skip"], "sales_receipt"),
    ("banana", ["void", "reverse"], None),
])
def test_did_you_mean(wrong, allowed, expected):
    assert did_you_mean(wrong, allowed) == expected


def test_the_issue_example_reads_as_one_error_with_both_keys(tmp_path):
    path = tmp_path / "shop.yaml"
    text = (REPO / "core" / "data" / "amazon-to-qbo.yaml").read_text()
    path.write_text(text.replace("customer_strategy: per_marketplace", "customer_stratgy: per_marketplace")
                    .replace("on_cancel: void", "on_cancel: voyd"))
    with pytest.raises(OptionsError) as err:
        load_pipeline(path, env={})
    message = str(err.value)
    assert message.startswith(f"{path}: 2 problems (destination.options.on_cancel, "
                              "destination.options.customer_stratgy):")
    assert ("destination.options.on_cancel: 'voyd' is not allowed; choose one of: void, reverse "
            "(did you mean 'void'?)") in message
    assert ("destination.options.customer_stratgy: unknown key 'customer_stratgy' "
            "(did you mean 'customer_strategy'?)") in message
    assert "hint: `ledgerlink spec qbo --role destination`" in message
    as_json = err.value.to_dict()
    assert as_json["file"] == str(path) and {p["path"] for p in as_json["problems"]} == {
        "destination.options.on_cancel", "destination.options.customer_stratgy"}
    assert isinstance(err.value, ConfigError)
    page = (REPO / "docs" / "concepts" / "pipeline.md").read_text()
    shown = page[page.index("```text", page.index("### Options are checked")) + 8:]
    for line in shown[:shown.index("```")].strip().splitlines():  # the concept page shows what a user gets
        line = line.strip().removeprefix("error: ").replace("amazon-to-qbo.yaml", str(path))
        assert line in message, line


def test_one_problem_keeps_the_short_form_with_the_allowed_keys(tmp_path):
    with pytest.raises(OptionsError) as err:
        check_options(QBO, {"tax": {"moed": "codes"}})
    assert str(err.value).startswith("destination.options.tax.moed: unknown key 'moed' (did you mean 'mode'?)")
    assert "allowed keys there: mode, taxable_code" in str(err.value)
    assert err.value.where == "destination.options.tax.moed"


@pytest.mark.parametrize("raw, expected", [
    ({"on_cancel": True}, "true/false is not allowed (YAML reads yes/no/on/off as true/false: quote the word)"),
    ({"drift_threshold": 1}, "did you mean 'inventory.drift_threshold'?"),
    ({"documents": [{"when": {"channel": [1]}, "post_as": "invoice"}]},
     "destination.options.documents[0].when.channel[0]: expected text, not 1"),
    ({"documents": [{"when": {"marketplace": 5}, "post_as": "invoice"}]},
     "destination.options.documents[0].when.marketplace: expected text or a list, not 5"),
    ({"stores": {"Amazon.com": {"clas": "Online"}}}, 'destination.options.stores."Amazon.com".clas'),
    ({"time_zone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({"settlements": {"accounts": {"seller_fee": "Fees"}}}, "unknown role 'seller_fee' (did you mean 'selling_fees'?)"),
    ({"exchange_rates": {"CAD": "nan"}}, "destination.options.exchange_rates.CAD"),
    ({"reconcile": {"settlement_gap_seconds": "5"}}, "expected a number, not '5'"),
])
def test_problems_read_well(raw, expected):
    with pytest.raises(OptionsError) as err:
        check_options(QBO, raw)
    assert expected in str(err.value)


def test_a_secret_value_is_never_echoed():
    class Config(ledgerlink.Options):
        token: int = ledgerlink.options.model.Field(0, json_schema_extra={"airbyte_secret": True})
        level: int = 0

    with pytest.raises(OptionsError) as err:
        check_options(Config, {"token": "s3cret-value", "level": "high"}, where="config")
    assert "s3cret-value" not in str(err.value) and "'high'" in str(err.value)


def test_a_third_party_destination_without_a_model_takes_its_options_unchecked(tmp_path):
    """Stability for plugins written before the contract: no `options_model`, no check (the run reads them)."""
    from ledgerlink.options import check_pipeline_options

    class Legacy(ledgerlink.Destination):
        name = "legacy_dest"
        config_model = BaseModel

    class Plugin:
        @ledgerlink.hookimpl
        def register_connectors(self, register):
            register(Legacy)

    host = PluginHost(load_entry_points=False)
    host.register(Plugin())
    pipeline = typing.cast(typing.Any, type("P", (), {"destination": type("D", (), {
        "connector": "legacy_dest", "options": {"anything": 1}})()})())
    check_pipeline_options(pipeline, plugin_host=host)  # no error
