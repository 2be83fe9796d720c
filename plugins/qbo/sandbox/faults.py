"""A QuickBooks Online fault as the sandbox answers it, and the few faults every entity rule raises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["SandboxFault", "FaultItem", "now_text", "business", "required", "too_long", "stale", "number", "CENT", "TZ"]

CENT = Decimal("0.01")
TZ = ZoneInfo("America/Los_Angeles")  # QBO stamps times in the company's zone; Intuit's samples are Pacific


def now_text(ms: bool = False) -> str:
    now = datetime.now(TZ)
    return now.isoformat(timespec="milliseconds" if ms else "seconds")


@dataclass(frozen=True)
class FaultItem:
    code: str
    message: str
    detail: str
    element: str = ""


class SandboxFault(Exception):
    """A QBO fault to answer with: HTTP status, fault type and its errors."""

    def __init__(self, code: str, message: str, detail: str, element: str = "", *, status: int = 400,
                 fault_type: str = "ValidationFault"):
        super().__init__(f"{code} {message}")
        self.status, self.fault_type = status, fault_type
        self.errors = [FaultItem(code, message, detail, element)]

    def body(self) -> dict[str, Any]:
        return {"Fault": {"Error": [{"Message": e.message, "Detail": e.detail, "code": e.code, "element": e.element}
                                    for e in self.errors], "type": self.fault_type}, "time": now_text(ms=True)}


def stale() -> SandboxFault:
    return SandboxFault("5010", "Stale Object Error",
                        "Stale Object Error : You and ledgerlink sandbox were working on this at the same "
                        "time. ledgerlink sandbox finished before you did, so your work was not saved.")


def business(detail: str, element: str = "") -> SandboxFault:
    """QBO's catch-all 6000 business validation fault."""
    return SandboxFault("6000", "A business validation error has occurred while processing your request",
                        f"Business Validation Error: {detail}", element)


def required(element: str) -> SandboxFault:
    return SandboxFault("2020", "Required param missing, need to supply the required value for the API",
                        f"Required parameter {element} is missing in the request", element)


def too_long(element: str, limit: int) -> SandboxFault:
    return SandboxFault("2050", "Length exceeds limit", f"Length of the field exceeds {limit} chars", element)


def number(value: Any, element: str) -> Decimal:
    try:
        return Decimal(str(value))
    except Exception:  # noqa: BLE001 - any unreadable number is the same fault
        raise SandboxFault("2030", "Invalid ID", f"Invalid number for {element}: {value}", element) from None
