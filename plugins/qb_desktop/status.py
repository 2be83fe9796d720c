"""Is the Web Connector still calling? Last contact per company file, and a warning when it went quiet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["describe_contact"]


def describe_contact(last_contact: str | None, waiting: int, quiet_after_s: int, now: datetime) -> dict[str, Any]:
    warning = None
    if last_contact is None:
        if waiting:
            warning = (f"the Web Connector has never called and {waiting} write(s) wait for it: open the .qwc file "
                       "(`ledgerlink qbd qwc`) in the Web Connector and enter the password")
    else:
        quiet = (now - datetime.fromisoformat(last_contact)).total_seconds()
        if quiet > quiet_after_s:
            hours = quiet / 3600
            warning = (f"the Web Connector has not called for {hours:.1f} hours ({waiting} write(s) waiting): is the "
                       "PC with QuickBooks on, and the Web Connector running with auto-run enabled?")
    return {"last_contact": last_contact, "waiting": waiting, "warning": warning}
