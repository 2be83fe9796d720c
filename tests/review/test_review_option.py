"""The pipeline option `review`: its place in the file, its default, and clear errors for what it is not."""

from __future__ import annotations

import pytest

from ledgerlink.errors import ConfigError
from ledgerlink.pipeline import load_pipeline

BASE = """name: shop
source: {connector: amazon_sp}
destination: {connector: qbo}
"""


def pipeline_file(tmp_path, extra: str):
    path = tmp_path / "p.yaml"
    path.write_text(BASE + extra)
    return path


@pytest.mark.parametrize("mode", ["always", "first_run", "never"])
def test_each_mode_is_read(tmp_path, mode):
    assert load_pipeline(pipeline_file(tmp_path, f"review: {mode}\n")).review == mode


def test_review_is_off_unless_asked(tmp_path):
    assert load_pipeline(pipeline_file(tmp_path, "")).review == "never"


@pytest.mark.parametrize("value, expected", [
    ("firstrun", "did you mean 'first_run'"),
    ("first-run", "did you mean 'first_run'"),
    ("Always", "did you mean 'always'"),
    ("sometimes", "review: 'sometimes' is not a review mode: allowed: always, first_run, never"),
    ("off", "false is not a review mode (YAML reads on/off/yes/no as true/false): write one of always, "
            "first_run, never"),
    ("[always]", "is not a review mode"),
])
def test_a_mode_that_is_not_one_is_a_clear_error(tmp_path, value, expected):
    with pytest.raises(ConfigError) as err:
        load_pipeline(pipeline_file(tmp_path, f"review: {value}\n"))
    assert expected in str(err.value) and "review" in str(err.value)


def test_a_misspelt_key_suggests_review(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_pipeline(pipeline_file(tmp_path, "reveiw: always\n"))
    assert "unknown key 'reveiw'" in str(err.value) and "did you mean 'review'" in str(err.value)


def test_review_is_a_pipeline_key_not_a_destination_option(tmp_path):
    """Turning review on or off must not re-plan posted documents: destination options are part of the plan's
    fingerprint, the pipeline's review mode is not."""
    from ledgerlink.runtime.sync import plan_fingerprint

    class Engine:
        def names(self):
            return []

    on, off = (load_pipeline(pipeline_file(tmp_path, f"review: {m}\n")) for m in ("always", "never"))
    assert plan_fingerprint(on, Engine()) == plan_fingerprint(off, Engine())
