"""Small helpers for reading and writing qbXML elements, shared by the company file's request handlers."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from xml.etree import ElementTree as ET

__all__ = ["timestamp", "sub", "add_ref", "find"]


def timestamp() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def sub(parent: ET.Element, name: str, text: Any) -> ET.Element:
    node = ET.SubElement(parent, name)
    if text is not None:
        node.text = str(text)
    return node


def add_ref(parent: ET.Element, name: str, list_id: str | None, full_name: str | None) -> None:
    node = ET.SubElement(parent, name)
    if list_id:
        sub(node, "ListID", list_id)
    if full_name:
        sub(node, "FullName", full_name)


def find(node: ET.Element, path: str) -> str | None:
    found = node.find(path)
    return found.text if found is not None and found.text is not None else None
