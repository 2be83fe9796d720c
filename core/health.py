"""`ledgerlink health`: what a container's HEALTHCHECK (or a person on a shell) asks — can this process write its
data folder, read its secret key, and reach the console it serves? Each check says what failed and where."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from .data_dir import DATA_DIR_ENV, STATE_DIR_ENV, TEMP_DIR_ENV

__all__ = ["HealthCheck", "check_health", "HEALTH_URL_ENV"]

#: the console to ask (`http://127.0.0.1:8700`): its public `/healthz` must answer
HEALTH_URL_ENV = "LEDGERLINK_HEALTH_URL"


@dataclass(frozen=True)
class HealthCheck:
    """One check's verdict, in words."""

    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


def _writable(name: str, folder: Path) -> HealthCheck:
    """A file can be created, written and removed in `folder` (a full or read-only volume fails here)."""
    probe = folder / f".health-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return HealthCheck(name, False, f"cannot write {folder}: {exc.strerror or exc}")
    return HealthCheck(name, True, f"{folder} is writable")


def _secret_key() -> HealthCheck:
    """The key named by the environment has the right shape (the key itself is never printed)."""
    from .errors import LedgerlinkError
    from .secrets import SECRET_KEY_ENV, SECRET_KEY_FILE_ENV, secret_key

    if not os.environ.get(SECRET_KEY_ENV) and not (
            os.environ.get(SECRET_KEY_FILE_ENV) and Path(os.environ[SECRET_KEY_FILE_ENV]).exists()):
        return HealthCheck("secret key", True, "none stored yet (made on first use)")
    try:
        secret_key(None)
    except LedgerlinkError as exc:
        return HealthCheck("secret key", False, str(exc))
    return HealthCheck("secret key", True, "readable and well-formed")


def _console(url: str, timeout: float) -> HealthCheck:
    """The console's `/healthz` answers `{"ok": true}` (public by design: it reveals nothing)."""
    import httpx

    target = url.rstrip("/") + "/healthz"
    try:
        response = httpx.get(target, timeout=timeout)
        ok = response.status_code == 200 and response.json().get("ok") is True
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return HealthCheck("console", False, f"{target}: {type(exc).__name__}: {exc}")
    return HealthCheck("console", ok, f"{target} answered {response.status_code}")


def check_health(url: str | None = None, timeout: float = 5.0) -> list[HealthCheck]:
    """Every check that applies here: the data, state and temporary folders the environment names, the secret
    key, and the console when `url` (or LEDGERLINK_HEALTH_URL) names one."""
    checks: list[HealthCheck] = []
    seen: set[str] = set()
    for variable in (DATA_DIR_ENV, STATE_DIR_ENV, TEMP_DIR_ENV):
        folder = os.environ.get(variable, "").strip()
        if folder and folder not in seen:
            seen.add(folder)
            checks.append(_writable(variable, Path(folder)))
    checks.append(_secret_key())
    url = url or os.environ.get(HEALTH_URL_ENV) or None
    if url:
        checks.append(_console(url, timeout))
    return checks
