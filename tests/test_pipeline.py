"""Pipeline files: validation that points at the bad key, ${ENV} interpolation, secrets not echoed."""

from __future__ import annotations

import pytest

from ledgerlink.errors import ConfigError
from ledgerlink.pipeline import interpolate, load_pipeline

GOOD = """
name: shop
source:
  connector: fake_source
  config: {orders: 3, api_key: "${SHOP_KEY}"}
destination:
  connector: fake_dest
  config: {token: "${DEST_TOKEN:-fallback-token}"}
"""


def write(tmp_path, text):
    p = tmp_path / "pipeline.yaml"
    p.write_text(text)
    return p


def test_env_interpolation_with_defaults(tmp_path):
    p = load_pipeline(write(tmp_path, GOOD), env={"SHOP_KEY": "k-123"})
    assert p.source.config["api_key"] == "k-123"
    assert p.destination.config["token"] == "fallback-token"
    assert p.state_path.name == "shop.duckdb" and p.base_dir == tmp_path.resolve()


def test_missing_env_var_names_the_key(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_pipeline(write(tmp_path, GOOD), env={})
    assert "source.config.api_key" in str(err.value) and "SHOP_KEY" in str(err.value)


def test_unknown_key_suggests_the_right_one(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_pipeline(write(tmp_path, GOOD.replace("destination:", "destnation:")), env={"SHOP_KEY": "x"})
    text = str(err.value)
    assert "destnation" in text and "did you mean 'destination'" in text


def test_nested_unknown_key(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_pipeline(write(tmp_path, GOOD.replace("  connector: fake_dest", "  conector: fake_dest")),
                      env={"SHOP_KEY": "x"})
    assert "destination.conector" in str(err.value) and "did you mean 'connector'" in str(err.value)


def test_yaml_syntax_error_gives_line(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_pipeline(write(tmp_path, "name: shop\nsource: [unclosed\n"), env={})
    assert "pipeline.yaml:3" in str(err.value) or "pipeline.yaml:2" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_pipeline(tmp_path / "nope.yaml")


def test_interpolate_keeps_non_strings():
    assert interpolate({"a": [1, "${X}"], "b": True}, {"X": "y"}) == {"a": [1, "y"], "b": True}
