"""The `.qwc` file a user opens in the QuickBooks Web Connector to add this service."""

from __future__ import annotations

from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from ledgerlink import ConfigError

from .config import QbdConfig

__all__ = ["qwc_file", "service_url"]


def service_url(url: str) -> str:
    """The AppURL: https (the Web Connector refuses plain http except for localhost), ending in `/` so a POST is
    not redirected by the mount."""
    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ConfigError(f"--url {url!r}: the Web Connector needs https (plain http only for localhost)")
    if parts.query or parts.fragment:
        raise ConfigError(f"--url {url!r}: give the service address without a query or fragment")
    return url if url.endswith("/") else url + "/"


def qwc_file(config: QbdConfig, url: str, *, description: str = "", support_url: str | None = None) -> str:
    app_url = service_url(url)
    fields = [
        ("AppName", config.app_name), ("AppID", ""), ("AppURL", app_url),
        ("AppDescription", description or f"ledgerlink posts sales into {config.company_file or 'this company file'}"),
        ("AppSupport", support_url or app_url + "?wsdl"), ("UserName", config.username),
        ("OwnerID", config.owner_id), ("FileID", config.file_id), ("QBType", "QBFS"),
    ]
    body = "".join(f"  <{k}>{escape(v)}</{k}>\n" for k, v in fields)
    return ('<?xml version="1.0"?>\n<QBWCXML>\n' + body
            + f"  <Scheduler>\n    <RunEveryNMinutes>{config.run_every_minutes}</RunEveryNMinutes>\n  </Scheduler>\n"
            "  <IsReadOnly>false</IsReadOnly>\n</QBWCXML>\n")
