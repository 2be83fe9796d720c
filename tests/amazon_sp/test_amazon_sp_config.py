"""Endpoints: production and Amazon's sandbox per region, this machine's sandbox by default, overrides win."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ledgerlink_amazon_sp.config import AmazonSPConfig

BASE = {"client_id": "amzn1.application-oa2-client.x", "client_secret": "s", "refresh_token": "Atzr|r",
        "marketplace_ids": ["ATVPDKIKX0DER"], "start_date": "2026-01-01T00:00:00Z"}


@pytest.mark.parametrize(("environment", "region", "endpoint"), [
    ("production", "na", "https://sellingpartnerapi-na.amazon.com"),
    ("production", "eu", "https://sellingpartnerapi-eu.amazon.com"),
    ("production", "fe", "https://sellingpartnerapi-fe.amazon.com"),
    ("amazon_sandbox", "na", "https://sandbox.sellingpartnerapi-na.amazon.com"),
    ("amazon_sandbox", "eu", "https://sandbox.sellingpartnerapi-eu.amazon.com"),
    ("amazon_sandbox", "fe", "https://sandbox.sellingpartnerapi-fe.amazon.com"),
])
def test_amazons_endpoints_by_environment_and_region(environment, region, endpoint):
    config = AmazonSPConfig.model_validate({**BASE, "environment": environment, "region": region})
    assert config.endpoint == endpoint
    assert config.lwa_endpoint == "https://api.amazon.com/auth/o2/token"


def test_the_local_sandbox_is_the_default_and_overrides_win():
    local = AmazonSPConfig.model_validate(BASE)
    assert (local.endpoint, local.lwa_endpoint) == ("http://127.0.0.1:8711", "http://127.0.0.1:8711/auth/o2/token")
    moved = AmazonSPConfig.model_validate({**BASE, "endpoint": "http://127.0.0.1:9999/"})
    assert moved.lwa_endpoint == "http://127.0.0.1:9999/auth/o2/token"
    proxied = AmazonSPConfig.model_validate({**BASE, "environment": "production", "region": "eu",
                                             "endpoint": "https://proxy.example/sp", "lwa_endpoint": "https://lwa.example"})
    assert (proxied.endpoint, proxied.lwa_endpoint) == ("https://proxy.example/sp", "https://lwa.example")
    with pytest.raises(ValidationError, match="environment"):
        AmazonSPConfig.model_validate({**BASE, "environment": "prod"})
