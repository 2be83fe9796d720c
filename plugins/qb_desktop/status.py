"""Is the Web Connector still calling? Last contact per company file, and a warning when it went quiet."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

__all__ = ["describe_contact", "status_lines"]


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


def status_lines(state: Any, config: dict[str, Any] | None) -> list[str]:
    """`ledgerlink runs` lines for a pipeline writing to QuickBooks Desktop: the Web Connector's last contact,
    what waits for it, and the warning when it went quiet (nothing for a state file alone, or the stock source)."""
    from pydantic import ValidationError

    from .bridge import CONTACT
    from .config import QbdConfig

    if config is None:
        return []
    try:
        parsed = QbdConfig.model_validate(config)
    except ValidationError:
        return []  # the qb_desktop source's config: it has no Web Connector of its own
    last = state.references("qb_desktop").get(CONTACT, parsed.file_id) or None
    waiting = state.awaiting("qb_desktop").count()
    info = describe_contact(last, waiting, parsed.quiet_after_s, datetime.now(timezone.utc))
    lines = [f"QuickBooks Desktop ({parsed.company_file or 'the open company file'}): Web Connector last contact "
             f"{last or 'never'}; {waiting} write(s) waiting for it"]
    if info["warning"]:
        lines.append(f"warning: {info['warning']}")
    return lines
