"""Settlement account maps and role files are a user's YAML: read with `safe_yaml.load_yaml` like the pipeline
file, so a duplicate key, an alias bomb or a file that is not UTF-8 is a clear error naming file and line."""

from __future__ import annotations

import pytest

from ledgerlink import ConfigError
from ledgerlink.settlements import load_account_map, load_rules


def test_an_account_map_naming_a_role_twice_is_refused_with_its_line(tmp_path):
    path = tmp_path / "accounts.yaml"
    path.write_text("accounts:\n  sales: Amazon Sales\n  fba_fees: FBA\n  sales: Other Sales\n")
    with pytest.raises(ConfigError) as err:
        load_account_map(path)
    assert f"{path}:4" in str(err.value) and "'sales' appears twice" in str(err.value)


def test_an_account_map_still_reads(tmp_path):
    path = tmp_path / "accounts.yaml"
    path.write_text("accounts:\n  sales: Amazon Sales\n  fba_fees: {name: FBA Fees, id: '42'}\n")
    accounts = load_account_map(path)
    assert {role.value: ref.name for role, ref in accounts.accounts.items()} == {"sales": "Amazon Sales",
                                                                                  "fba_fees": "FBA Fees"}


def test_a_role_file_with_an_alias_bomb_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    path = tmp_path / "roles.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as err:
        load_rules(path)
    assert str(path) in str(err.value)


def test_a_role_file_that_is_not_utf8_names_the_byte(tmp_path):
    path = tmp_path / "roles.yaml"
    path.write_bytes(b"rules:\n  - match: {description: caf\xe9}\n    role: sales\n")
    with pytest.raises(ConfigError) as err:
        load_rules(path)
    assert "not UTF-8" in str(err.value) and f"{path}:2" in str(err.value)
