"""The anomaly checks by name, in the order they run, and running them: each check is a function of an
`AnomalyContext` yielding findings, or raising NotApplicable with the reason."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, Iterable

from ..errors import ConfigError
from .model import AnomalyFinding, AnomalyReport, NotApplicable

if TYPE_CHECKING:
    from .context import AnomalyContext

__all__ = ["CHECKS", "register", "run_checks", "check_names"]

log = logging.getLogger("ledgerlink.anomalies")

Check = Callable[["AnomalyContext"], Iterable[AnomalyFinding]]
CHECKS: dict[str, Check] = {}


def register(name: str) -> Callable[[Check], Check]:
    def add(func: Check) -> Check:
        CHECKS[name] = func
        return func
    return add


def check_names(only: Iterable[str] | None) -> list[str]:
    """The checks asked for (all when none); an unknown name is a ConfigError listing the real ones."""
    _load()
    wanted = list(only or [])
    unknown = [c for c in wanted if c not in CHECKS]
    if unknown:
        raise ConfigError(f"no anomaly check named {', '.join(unknown)}", where="check",
                          hint=f"checks: {', '.join(CHECKS)}")
    return wanted or list(CHECKS)


def run_checks(ctx: "AnomalyContext", only: Iterable[str] | None = None) -> AnomalyReport:
    """Run the checks; a check that fails is reported as failed with its error, the others still run."""
    names = check_names(only)
    findings: list[AnomalyFinding] = []
    not_applicable: dict[str, str] = {}
    failed: dict[str, str] = {}
    for name in names:
        if name in ctx.options.disabled:
            not_applicable[name] = "disabled in the pipeline's anomalies options"
            continue
        try:
            findings.extend(CHECKS[name](ctx))
        except NotApplicable as why:
            not_applicable[name] = str(why)
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others' findings
            log.exception("anomaly check %s failed", name)
            failed[name] = f"{type(exc).__name__}: {exc}"
    return AnomalyReport(ctx.pipeline, names, findings, not_applicable, failed, ctx.now.isoformat())


def _load() -> None:
    """Import the check modules (they register themselves)."""
    from . import checks_fees  # noqa: F401
    from . import checks_settlements  # noqa: F401
    from . import checks_tax  # noqa: F401
    from . import checks_margin  # noqa: F401
    from . import checks_operations  # noqa: F401
