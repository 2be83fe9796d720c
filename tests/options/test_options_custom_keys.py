"""A key of the user's own (`x_…`) in `destination.options`: kept, read by their own template as `posting.x_…`,
never taken for a typo; a typo beside it is still refused; a template asking for an `x_` key the file does not
have names it."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

import pytest
from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.options.check import OptionsError, check_options
from ledgerlink.options.model import Options
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, write_shipped


class Section(Options):
    account: str = "Clearing"


class Posting(Options):
    on_cancel: Literal["void", "reverse"] = "void"
    returns: Section = Section()


def test_x_keys_are_kept_at_the_top_and_in_sections_and_typos_are_still_refused() -> None:
    posting = check_options(Posting, {"on_cancel": "reverse", "x_memo_prefix": "AMZ ",
                                      "returns": {"account": "Returns", "x_tag": 7}})
    assert posting.on_cancel == "reverse" and posting.x_memo_prefix == "AMZ " and posting.custom == {"x_memo_prefix": "AMZ "}
    assert posting.returns.x_tag == 7 and posting.returns.account == "Returns"
    with pytest.raises(AttributeError, match="x_missing"):
        _ = posting.x_missing
    with pytest.raises(OptionsError) as refused:
        check_options(Posting, {"x_memo_prefix": "AMZ ", "on_cancle": "void"})
    assert "on_cancle" in str(refused.value) and "did you mean 'on_cancel'" in str(refused.value)
    assert "x_memo_prefix" not in str(refused.value) and "starts with `x_`" in (refused.value.hint or "")
    assert Posting.model_json_schema()["patternProperties"] == {"^x_": {}}


def _pipeline_with_own_template(tmp_path: Path, *, with_key: bool) -> Path:
    builtin = (files("ledgerlink_qbo") / "mappings" / "sales_receipt.json.j2").read_text()
    assert "{{ private_note | truncate_to(4000) }}" in builtin
    (tmp_path / "my-receipt.json.j2").write_text(builtin.replace(
        "{{ private_note | truncate_to(4000) }}", "{{ (posting.x_note_prefix ~ private_note) | truncate_to(4000) }}"))

    def edit(text: str) -> str:
        text = text.replace("    on_cancel: void\n", "    on_cancel: void\n" + ("    x_note_prefix: 'FROM AMAZON: '\n"
                                                                             if with_key else ""))
        return text.replace("  # mappings:\n  #   sales_receipt.json.j2: my-sales-receipt.json.j2",
                            "  mappings:\n    sales_receipt.json.j2: my-receipt.json.j2")
    return write_shipped(tmp_path, "amazon-to-qbo.yaml", edit)


def test_a_users_template_reads_its_own_option_end_to_end(tmp_path: Path) -> None:
    with sandbox_running("amazon_sp", orders=4, uk_orders=0) as (amazon, _), sandbox_running("qbo") as (qbo, sb):
        pipeline = _pipeline_with_own_template(tmp_path, with_key=True)
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon), **qbo_env(qbo)}
        checked = CliRunner().invoke(cli, ["check", "--pipeline", str(pipeline)], env=env)
        assert "x_note_prefix" not in checked.output, checked.output
        synced = CliRunner().invoke(cli, ["sync", str(pipeline)], env=env)
        assert synced.exit_code == 0, synced.output
        with sb.company._lock:
            notes = [r.get("PrivateNote", "") for r in sb.company.entities["SalesReceipt"].values()]
        assert notes and all("\nFROM AMAZON: ledgerlink SalesReceipt:" in n for n in notes), notes  # after the key line


def test_a_template_asking_for_an_x_key_the_file_lacks_names_it(tmp_path: Path) -> None:
    with sandbox_running("amazon_sp", orders=2, uk_orders=0) as (amazon, _), sandbox_running("qbo") as (qbo, sb):
        pipeline = _pipeline_with_own_template(tmp_path, with_key=False)
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon), **qbo_env(qbo)}
        synced = CliRunner().invoke(cli, ["sync", str(pipeline)], env=env)
        assert "Traceback" not in synced.output
        listed = CliRunner().invoke(cli, ["dlq", "list", str(tmp_path / "state.duckdb")], env=env)
        assert "x_note_prefix" in listed.output, listed.output
        with sb.company._lock:
            assert not sb.company.entities["SalesReceipt"]
