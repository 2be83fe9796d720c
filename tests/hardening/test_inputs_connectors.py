"""Bad connector settings in the shipped pipelines (amazon-to-qbo, bigcommerce-to-qbo), set the way a user sets them:
through the environment variables the files name. Each is exit 2 with the key named, before any call goes out;
and every date the Amazon source sends has a 4-digit year and a Z."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from ledgerlink_amazon_sp.timestamps import format_time, parse_time

from inputs_helpers import CLOSED_URL, assert_clear_error, run_sync  # noqa: E402

SPECS = Path(__file__).resolve().parents[2] / "specs" / "pipelines"
CLOSED = {"AMAZON_SP_ENDPOINT": CLOSED_URL, "AMAZON_LWA_ENDPOINT": f"{CLOSED_URL}/auth/o2/token",
          "QBO_BASE_URL": CLOSED_URL, "QBO_TOKEN_URL": f"{CLOSED_URL}/oauth2/v1/tokens/bearer",
          "BIGCOMMERCE_BASE_URL": CLOSED_URL}

#: (pipeline, variable, value, names the error line must contain)
CASES = [
    ("amazon-to-qbo", "AMAZON_START_DATE", "0001-01-01T00:00:00Z", ("source.config.start_date", "1970")),
    ("amazon-to-qbo", "AMAZON_START_DATE", "1969-12-31T23:59:59Z", ("start_date",)),
    ("amazon-to-qbo", "AMAZON_START_DATE", "9999-12-31T00:00:00Z", ("start_date",)),
    ("amazon-to-qbo", "AMAZON_START_DATE", "2150-01-01T00:00:00+02:00", ("start_date",)),
    ("amazon-to-qbo", "AMAZON_START_DATE", "2024-01-01T00:00:00", ("start_date",)),  # no zone
    ("amazon-to-qbo", "AMAZON_START_DATE", "yesterday", ("start_date",)),
    ("amazon-to-qbo", "AMAZON_START_DATE", "2024-13-01T00:00:00Z", ("start_date",)),
    ("amazon-to-qbo", "AMAZON_SP_ENDPOINT", "sellingpartnerapi-na.amazon.com", ("source.config.endpoint", "http")),
    ("amazon-to-qbo", "AMAZON_SP_ENDPOINT", "ftp://sellingpartnerapi-na.amazon.com", ("endpoint", "ftp")),
    ("amazon-to-qbo", "AMAZON_SP_ENDPOINT", "https://", ("endpoint",)),
    ("amazon-to-qbo", "AMAZON_SP_ENDPOINT", "http://127.0.0.1:99999999", ("endpoint",)),
    ("amazon-to-qbo", "AMAZON_LWA_ENDPOINT", "api.amazon.com/auth/o2/token", ("lwa_endpoint",)),
    ("amazon-to-qbo", "AMAZON_LWA_ENDPOINT", "mailto:me@example.com", ("lwa_endpoint",)),
    ("amazon-to-qbo", "QBO_BASE_URL", "quickbooks.api.intuit.com", ("destination.config.base_url",)),
    ("amazon-to-qbo", "QBO_BASE_URL", "gopher://127.0.0.1", ("base_url", "gopher")),
    ("amazon-to-qbo", "QBO_TOKEN_URL", "/oauth2/v1/tokens/bearer", ("token_url",)),
    ("amazon-to-qbo", "QBO_TOKEN_URL", "http://exa mple.com/token", ("token_url",)),
    ("amazon-to-qbo", "QBO_REQUESTS_PER_MINUTE", "1e30", ("requests_per_minute",)),
    ("amazon-to-qbo", "QBO_REQUESTS_PER_MINUTE", "1000000000000000000000000000000", ("requests_per_minute",)),
    ("amazon-to-qbo", "QBO_REQUESTS_PER_MINUTE", "0", ("requests_per_minute",)),
    ("amazon-to-qbo", "QBO_REQUESTS_PER_MINUTE", "-500", ("requests_per_minute",)),
    ("amazon-to-qbo", "QBO_REQUESTS_PER_MINUTE", "lots", ("requests_per_minute",)),
    ("amazon-to-qbo", "QBO_BATCH_REQUESTS_PER_MINUTE", "99999999999", ("batch_requests_per_minute",)),
    ("amazon-to-qbo", "QBO_BATCH_REQUESTS_PER_MINUTE", "4.5", ("batch_requests_per_minute",)),
    ("amazon-to-qbo", "QBO_REALM_ID", "", ("realm_id",)),
    ("amazon-to-qbo", "LEDGERLINK_STATE", "/", ("state", "folder")),
    ("bigcommerce-to-qbo", "BIGCOMMERCE_BASE_URL", "api.bigcommerce.com", ("source.config.base_url",)),
    ("bigcommerce-to-qbo", "BIGCOMMERCE_BASE_URL", "https://api.bigcommerce.com:http", ("base_url",)),
    ("bigcommerce-to-qbo", "BIGCOMMERCE_START_DATE", "0001-01-01", ("start_date",)),
    ("bigcommerce-to-qbo", "BIGCOMMERCE_START_DATE", "0001-01-01T00:00:00Z", ("start_date", "1970")),
    ("bigcommerce-to-qbo", "BIGCOMMERCE_STORE_HASH", "abc 123", ("store_hash",)),
    ("bigcommerce-to-qbo", "BIGCOMMERCE_STORE_HASH", "${", ("store_hash",)),
    ("bigcommerce-to-qbo", "QBO_REQUESTS_PER_MINUTE", "1.0e+30", ("requests_per_minute",)),
    ("bigcommerce-to-qbo", "QBO_REALM_ID", "1" * 5000, ("realm_id",)),  # too long for int(): stays text
    ("bigcommerce-to-qbo", "QBO_BATCH_REQUESTS_PER_MINUTE", "²", ("batch_requests_per_minute",)),
]


@pytest.mark.parametrize("pipeline, variable, value, names", CASES,
                         ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_a_bad_setting_is_named_before_anything_is_called(tmp_path, monkeypatch, pipeline, variable, value, names):
    monkeypatch.chdir(tmp_path)
    env = {**CLOSED, "LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), variable: value}
    outcome = run_sync(SPECS / f"{pipeline}.yaml", env)
    assert_clear_error(outcome, *names)
    assert not (tmp_path / "state.duckdb").exists() or variable == "LEDGERLINK_STATE"  # nothing was opened


# ------------------------------------------------------------------------------------------ dates sent to Amazon

@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)),
                                               timezone(timedelta(hours=-8))])))
def test_every_date_is_iso_8601_with_four_digit_year_and_z(when):
    text = format_time(when)
    assert len(text) == 20 and text[4] == "-" and text.endswith("Z"), text
    assert parse_time(text) == when.replace(microsecond=0)


@pytest.mark.parametrize("when, expected", [
    (datetime(1, 1, 1, tzinfo=timezone.utc), "0001-01-01T00:00:00Z"),
    (datetime(999, 5, 6, 7, 8, 9, tzinfo=timezone.utc), "0999-05-06T07:08:09Z"),
    (datetime(2024, 5, 1, 14, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=2))), "2024-05-01T12:00:00Z"),
    (datetime(2024, 5, 1, 12, 0, 0), "2024-05-01T12:00:00Z"),  # naive: UTC
])
def test_format_time_edges(when, expected):
    assert format_time(when) == expected
