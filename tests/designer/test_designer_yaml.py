"""Pipeline files written keeping comments and key order, and saved all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerlink.designer.pipeline_file import (DELETE, edit_pipeline_text, new_pipeline_text, pipeline_diff,
                                               save_pipeline)
from ledgerlink.errors import ConfigError, MappingError

SHIPPED = Path(__file__).resolve().parents[2] / "core" / "data" / "amazon-to-qbo.yaml"


def test_no_change_is_the_file_byte_for_byte():
    text = SHIPPED.read_text()
    assert edit_pipeline_text(text, {}) == text


def test_a_change_is_a_small_diff_keeping_comments_and_order():
    text = SHIPPED.read_text()
    new = edit_pipeline_text(text, {("destination", "options", "income_account"): "Amazon Sales",
                                    ("destination", "options", "on_cancel"): DELETE})
    diff = pipeline_diff(text, new, "amazon-to-qbo.yaml")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-    income_account: Sales of Product Income", "+    income_account: Amazon Sales",
                       "-    on_cancel: void"]
    assert "# one customer per marketplace and currency" in new  # comments stay
    keys = [line.split(":")[0].strip() for line in new.splitlines() if line.startswith("    ") and ":" in line
            and not line.strip().startswith("#")]
    assert keys.index("customer_strategy") < keys.index("income_account") < keys.index("deposit_account")


def test_a_new_pipeline_file_loads_and_its_secrets_never_show_in_the_diff(tmp_path):
    text = new_pipeline_text("shop", "fake_source", {"orders": 2, "api_key": "k-secret-1"}, "fake_dest",
                             {"token": "t-secret-2"})
    diff = pipeline_diff("", text, "shop.yaml", ["k-secret-1", "t-secret-2"])
    assert "k-secret-1" not in diff and "t-secret-2" not in diff and "••••••" in diff
    pipeline = save_pipeline(tmp_path / "shop.yaml", text)
    assert pipeline.name == "shop" and pipeline.source.config == {"orders": 2, "api_key": "k-secret-1"}
    assert (tmp_path / "shop.yaml").stat().st_mode & 0o077 == 0  # it may hold a secret: owner only


def test_a_file_that_does_not_load_is_not_saved(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_text("name: shop\nsource: {connector: a}\ndestination: {connector: b}\n")
    before = path.read_text()
    bad = edit_pipeline_text(before, {("destination", "optoins"): {"x": 1}})
    with pytest.raises(ConfigError) as info:
        save_pipeline(path, bad)
    said = f"{info.value.message} {info.value.hint}"
    assert "unknown key 'optoins'" in info.value.message and "did you mean 'options'" in said
    assert "shop.yaml" in info.value.message and ".shop.yaml." not in info.value.message
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.yaml"]  # no temporary file left behind


def test_a_template_with_a_syntax_error_saves_nothing(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_text("name: shop\nsource: {connector: a}\ndestination: {connector: b}\n")
    template = tmp_path / "receipt.json.j2"
    new = edit_pipeline_text(path.read_text(), {("destination", "mappings", "receipt.json.j2"): "receipt.json.j2"})
    with pytest.raises(MappingError) as info:
        save_pipeline(path, new, {template: '{\n  "a": {{ order.id }},\n  {% if x %}\n}\n'})
    assert info.value.line == 4 and "receipt.json.j2" in str(info.value)
    assert not template.exists() and "mappings" not in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.yaml"]


def test_a_mapping_changed_key_by_key_keeps_its_comments():
    text = "name: a\nsource: {connector: s}\ndestination:\n  connector: d\n  options:\n    items:\n      sku_map:\n" \
           "        # the kit is sold as one item\n        KIT-1: Kit\n        OLD: Gone\n"
    new = edit_pipeline_text(text, {("destination", "options", "items", "sku_map"): {"KIT-1": "Kit", "NEW": "New"}})
    assert "# the kit is sold as one item\n        KIT-1: Kit\n" in new
    assert "OLD" not in new and "NEW: New" in new
