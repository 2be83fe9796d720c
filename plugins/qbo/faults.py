"""Reading QuickBooks Online faults, JSON or XML, and deciding what each one means for a retry.

QBO reports errors as a `Fault` with a `type` and `Error` items (`code`, `Message`, `Detail`, `element`).
Validation faults come as JSON; throttling (3001) arrives as XML, sometimes with HTTP 403 rather than 429;
authentication faults use lower-case keys. Untrusted XML is parsed with defusedxml (no entity expansion).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from defusedxml import ElementTree as SafeET

from ledgerlink import json_loads

__all__ = ["FaultError", "Fault", "parse_fault", "parse_fault_text", "fault_from_json", "fault_kind", "classify",
           "describe",
           "THROTTLE_CODE", "SYSTEM_FAULT_CODE", "DUPLICATE_NAME_CODE", "STALE_OBJECT_CODE"]

THROTTLE_CODE = "3001"
SYSTEM_FAULT_CODE = "10000"
DUPLICATE_NAME_CODE = "6240"
STALE_OBJECT_CODE = "5010"
_NS = "{http://schema.intuit.com/finance/v3}"


@dataclass(frozen=True)
class FaultError:
    code: str
    message: str
    detail: str = ""
    element: str = ""

    @property
    def text(self) -> str:
        """Intuit's message, detail and element, without the code."""
        text = self.message
        if self.detail and self.detail != self.message:
            text += f": {self.detail}"
        if self.element:
            text += f" (element {self.element})"
        return text

    def __str__(self) -> str:
        return f"[{self.code}] {self.text}"


@dataclass(frozen=True)
class Fault:
    type: str
    errors: list[FaultError] = field(default_factory=list)

    @property
    def code(self) -> str | None:
        return self.errors[0].code if self.errors else None

    def has(self, code: str) -> bool:
        return any(e.code == code for e in self.errors)

    def __str__(self) -> str:
        return f"{self.type}: " + "; ".join(str(e) for e in self.errors)


def _norm_code(code: Any) -> str:
    text = str(code or "").strip()
    return text.lstrip("0") or text


def _ci(node: dict[str, Any], key: str) -> Any:
    """QBO capitalises keys (`Fault`, `Error`) except in authentication faults (`fault`, `error`)."""
    for k, v in node.items():
        if k.lower() == key.lower():
            return v
    return None


def _from_json(body: Any) -> Fault | None:
    if not isinstance(body, dict):
        return None
    node = _ci(body, "Fault")
    if not isinstance(node, dict):
        return None
    items = _ci(node, "Error") or []
    if isinstance(items, dict):
        items = [items]
    errors = [FaultError(code=_norm_code(_ci(e, "code")), message=str(_ci(e, "Message") or ""),
                         detail=str(_ci(e, "Detail") or ""), element=str(_ci(e, "element") or ""))
              for e in items if isinstance(e, dict)]
    return Fault(type=str(_ci(node, "type") or ""), errors=errors)


def _local(tag: str) -> str:
    return tag[len(_NS):] if tag.startswith(_NS) else tag.split("}")[-1]


def _from_xml(text: str) -> Fault | None:
    try:
        root = SafeET.fromstring(text)
    except Exception:  # noqa: BLE001 - malformed or hostile XML is simply "not a fault we can read"
        return None
    fault = root if _local(root.tag) == "Fault" else next(
        (el for el in root.iter() if _local(el.tag) == "Fault"), None)
    if fault is None:
        return None
    errors = []
    for err in fault:
        if _local(err.tag) != "Error":
            continue
        parts = {_local(child.tag): (child.text or "").strip() for child in err}
        errors.append(FaultError(code=_norm_code(err.get("code")), message=parts.get("Message", ""),
                                 detail=parts.get("Detail", ""), element=err.get("element") or ""))
    return Fault(type=fault.get("type") or "", errors=errors)


def parse_fault_text(text: str | bytes) -> Fault | None:
    """A Fault from a response body in either format, or None when the body is not a QBO fault."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return _from_xml(stripped)
    try:
        return _from_json(json_loads(stripped))
    except ValueError:
        return None


def fault_from_json(body: Any) -> Fault | None:
    """A Fault from a parsed JSON node holding `Fault` (a batch item's answer, or a whole response)."""
    return _from_json(body)


def fault_kind(fault: Fault, status: int = 400) -> str:
    """`throttled`, `transient` or `permanent` for a fault (a batch item's has no status of its own)."""
    if status == 429 or fault.has(THROTTLE_CODE):
        return "throttled"
    if status >= 500 or status == 408 or fault.type.lower() == "systemfault" or fault.has(SYSTEM_FAULT_CODE):
        return "transient"
    return "permanent"


def parse_fault(response: httpx.Response) -> Fault | None:
    return parse_fault_text(response.content) if response.content else None


def classify(response: httpx.Response) -> str:
    """`ok`, `throttled` (429, or fault 3001 whatever the status: QBO sends it with 403 too), `transient`
    (5xx, SystemFault 10000) or `permanent` (validation and everything else: retrying cannot help)."""
    status = response.status_code
    if status < 400:
        return "ok"
    fault = parse_fault(response)
    if fault is None:
        return "throttled" if status == 429 else "transient" if status >= 500 or status == 408 else "permanent"
    return fault_kind(fault, status)


def describe(response: httpx.Response) -> tuple[str | None, str]:
    """(Intuit's code, its message and detail) so a dead letter shows what QuickBooks said."""
    fault = parse_fault(response)
    if fault is None or not fault.errors:
        return None, response.text[:300]
    if len(fault.errors) == 1:  # HttpClient prints the code itself
        return fault.code, fault.errors[0].text
    return fault.code, "; ".join(str(e) for e in fault.errors)
