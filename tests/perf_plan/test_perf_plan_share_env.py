"""LEDGERLINK_COLUMNAR_PARENT_SHARE, the benchmarks' knob for the planning split: a share between 0 and 1 is kept
and fixed; a typo, a share outside (0, 1) or NaN is named in a warning and the default is used, moving as usual,
so no command fails at import over it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from ledgerlink.runtime.plan_workers import columnar_share_from_env


def test_a_share_between_0_and_1_is_kept_fixed_and_none_set_moves_from_the_default():
    assert columnar_share_from_env("0.45") == (0.45, True)
    assert columnar_share_from_env(None) == (0.3, False) and columnar_share_from_env("") == (0.3, False)


@pytest.mark.parametrize("value", ["abc", "0", "1", "1.5", "-0.2", "nan", "inf"])
def test_a_bad_share_is_named_and_the_default_used(value, caplog):
    with caplog.at_level(logging.WARNING, logger="ledgerlink.normalise"):
        assert columnar_share_from_env(value) == (0.3, False)
    assert "LEDGERLINK_COLUMNAR_PARENT_SHARE" in caplog.text and repr(value) in caplog.text


def test_a_bad_share_does_not_stop_the_cli():
    out = subprocess.run([sys.executable, "-m", "ledgerlink", "plugins"], capture_output=True, text=True,
                         env={**os.environ, "LEDGERLINK_COLUMNAR_PARENT_SHARE": "abc"}, timeout=60)
    assert out.returncode == 0 and "Traceback" not in out.stderr
