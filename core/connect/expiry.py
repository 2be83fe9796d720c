"""When connected credentials stop working, recorded beside them so the console can say so and the
`token_expiring` alert can warn before it happens.

Two records, each a stored credential named after the secret it is about (a public convention, from `ledgerlink`):
`<name>:expires_at` — when the vendor says the secret expires (Intuit: `x_refresh_token_expires_in` at connect
and on every refresh, a rolling 100 days), and `<name>:authorised_at` — when the person authorised it, for a vendor
whose authorisations last a fixed time from then (Amazon: 365 days, whatever the refresh token does)."""

from __future__ import annotations

import time
from typing import Any, Callable

__all__ = ["expiry_name", "authorised_name", "slot_expiries", "ConnectExpiryFeed"]

_EXPIRES, _AUTHORISED = ":expires_at", ":authorised_at"


def expiry_name(credential: str) -> str:
    """The stored record of when `credential` expires (a Unix time, as text)."""
    return credential + _EXPIRES


def authorised_name(credential: str) -> str:
    """The stored record of when `credential` was authorised (a Unix time, as text)."""
    return credential + _AUTHORISED


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def slot_expiries(workspace: Any, s: Any) -> list[dict[str, Any]]:
    """Each of a slot's secrets with a known end: {what, expires_at, why}."""
    from ..store.shared_credentials import SharedCredentials
    from .accounts import store_path

    path = store_path(workspace, s.pipeline)
    if s.account is None or not path.exists():
        return []
    store = SharedCredentials(path)
    out = []
    for name in s.flow.credential_names(s.config):
        if store.load(name) is None:
            continue  # not connected: nothing expires
        what = f"{s.flow.title} {s.account}"
        expires = _number(store.load(expiry_name(name)))
        if expires is not None:
            out.append({"what": f"{what} refresh token", "expires_at": expires, "why": "the vendor's expiry, "
                        "renewed at every refresh"})
        days = getattr(s.flow, "authorisation_valid_days", None)
        authorised = _number(store.load(authorised_name(name)))
        if days and authorised is not None:
            out.append({"what": f"{what} authorisation", "expires_at": authorised + days * 86400,
                        "why": f"authorised {time.strftime('%Y-%m-%d', time.gmtime(authorised))}, valid {days:g} "
                               "days"})
    return out


class ConnectExpiryFeed:
    """A `TokenExpirySource` for the alerts: the connected secrets of a served pipeline that expire."""

    def __init__(self, workspace: Any | Callable[[], Any]):
        self._workspace = workspace

    def __call__(self, service: Any) -> list[tuple[str, float]]:
        from .accounts import slots

        workspace = self._workspace() if callable(self._workspace) else self._workspace
        name = service.pipeline.name
        return [(e["what"], e["expires_at"]) for s in slots(workspace) if s.pipeline == name
                for e in slot_expiries(workspace, s)]
