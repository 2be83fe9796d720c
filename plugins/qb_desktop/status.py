"""Is the Web Connector still calling? Last contact per company file, and a warning when it went quiet."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

__all__ = ["describe_contact", "describe_logins", "status_lines"]


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


def describe_logins(recorded: str | None, now: datetime) -> dict[str, Any]:
    """The Web Connector user's failed logins as the service recorded them (bridge.LOGINS): how many in the
    window, the last one and where from, and a warning while the user is locked out."""
    from ledgerlink import json_loads

    try:
        report = json_loads(recorded) if recorded else {}
    except ValueError:
        report = {}
    report = report if isinstance(report, dict) else {}
    failures = report.get("recent_failures")
    failures = failures if isinstance(failures, int) else 0
    locked_until = report.get("locked_until")
    try:
        locked = bool(locked_until) and datetime.fromisoformat(str(locked_until)) > now
    except ValueError:
        locked = False
    summary = "no failed logins recorded" if not (failures or locked or report.get("last_failure_at")) else (
        f"{failures} failed in the last {report.get('window_minutes', 15)} min; last failure "
        f"{report.get('last_failure_at') or 'none'} from {report.get('last_failure_from') or 'an unknown address'}")
    warning = (f"the Web Connector user is locked out until {locked_until} after repeated failed logins: check the "
               "password in the Web Connector (or whoever is guessing it); the lockout ends by itself"
               if locked else None)
    return {"recent_failures": failures, "last_failure_at": report.get("last_failure_at"),
            "last_failure_from": report.get("last_failure_from"), "locked_until": locked_until if locked else None,
            "summary": summary + (f"; locked out until {locked_until}" if locked else ""), "warning": warning}


def status_lines(state: Any, config: dict[str, Any] | None) -> list[str]:
    """`ledgerlink runs` lines for a pipeline writing to QuickBooks Desktop: the Web Connector's last contact,
    what waits for it, the warning when it went quiet, and recent failed logins or a lockout (nothing for a state
    file alone, or the stock source)."""
    from pydantic import ValidationError

    from .bridge import CONTACT, LOGINS
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
    logins = describe_logins(state.references("qb_desktop").get(LOGINS, parsed.username), datetime.now(timezone.utc))
    if logins["recent_failures"] or logins["locked_until"]:
        lines.append(f"Web Connector logins: {logins['summary']}")
    if logins["warning"]:
        lines.append(f"warning: {logins['warning']}")
    return lines
