"""Reading Intuit's QBO v3 XSD (a test oracle, read in place from the reference folder) as field names and types.

`Schema.unknown_fields(body)` walks a JSON response from `IntuitResponse` down and returns every key that is
not an element or attribute of the complexType it sits in (through `extension` bases, groups, choices and the
`IntuitObject` substitution group). `Schema.problems(body)` also checks each simple value against its element's
type as Intuit's JSON writes it: xs:decimal/int → number, xs:boolean → true/false, xs:date and xs:dateTime →
strings of that form, strings (and enumerations) → strings, complex types → objects. Element order and
cardinality do not matter to JSON.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # the XSDs are Intuit's published schema, read from disk, not untrusted input
from decimal import Decimal
from pathlib import Path
from typing import Any

XS = "{http://www.w3.org/2001/XMLSchema}"
FILES = ("IntuitBaseTypes.xsd", "IntuitNamesTypes.xsd", "Finance.xsd", "SalesTax.xsd", "Report.xsd",
         "IntuitRestServiceDef.xsd")


_NUMBERS = {"decimal", "int", "integer", "long", "short", "positiveInteger", "nonNegativeInteger", "double", "float"}
_FORMS = {"date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
          "dateTime": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")}


def _local(name: str | None) -> str | None:
    return name.split(":")[-1] if name else None


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__


class Schema:
    def __init__(self, folder: Path):
        self.types: dict[str, ET.Element] = {}
        self.groups: dict[str, ET.Element] = {}
        self.elements: dict[str, str | None] = {}
        self.substitutes: dict[str, list[str]] = {}
        for name in FILES:
            root = ET.parse(folder / name).getroot()
            for node in root:
                kind, node_name = node.tag, node.get("name")
                if kind in (XS + "complexType", XS + "simpleType") and node_name:
                    self.types[node_name] = node
                elif kind == XS + "group" and node_name:
                    self.groups[node_name] = node
                elif kind == XS + "element" and node_name:
                    self.elements[node_name] = _local(node.get("type"))
                    head = _local(node.get("substitutionGroup"))
                    if head:
                        self.substitutes.setdefault(head, []).append(node_name)
        self._cache: dict[str, tuple[dict[str, str | None], bool]] = {}

    def fields(self, type_name: str | None) -> tuple[dict[str, str | None], bool]:
        """(field name → type name, has simple content i.e. a JSON `value`) of a complexType."""
        if type_name is None:
            return {}, False
        if type_name not in self._cache:
            out: dict[str, str | None] = {}
            node = self.types.get(type_name)
            simple = [False]
            if node is not None and node.tag == XS + "complexType":
                self._collect(node, out, simple, type_name)
            self._cache[type_name] = (out, simple[0])
        return self._cache[type_name]

    def _collect(self, node: ET.Element, out: dict[str, str | None], simple: list[bool], owner: str) -> None:
        for child in node:
            tag = child.tag
            if tag == XS + "element":
                ref = _local(child.get("ref"))
                if ref and ref in self.substitutes:
                    for member in self.substitutes[ref]:
                        out[member] = self.elements[member]
                elif ref:
                    out[ref] = self.elements.get(ref)
                else:
                    name = child.get("name") or ""
                    inline = child.find(XS + "complexType")
                    if inline is not None:  # anonymous type: register it under a synthetic name
                        synthetic = f"{owner}.{name}"
                        self.types[synthetic] = inline
                        out[name] = synthetic
                    else:
                        out[name] = _local(child.get("type"))
            elif tag == XS + "attribute" and child.get("name"):
                out[child.get("name") or ""] = _local(child.get("type"))
            elif tag == XS + "group" and child.get("ref"):
                self._collect(self.groups[_local(child.get("ref")) or ""], out, simple, owner)
            elif tag in (XS + "extension", XS + "restriction"):
                base = _local(child.get("base"))
                if base in self.types and self.types[base].tag == XS + "complexType":
                    inherited, base_simple = self.fields(base)
                    out.update(inherited)
                    simple[0] = simple[0] or base_simple
                self._collect(child, out, simple, owner)
            elif tag == XS + "simpleContent":
                simple[0] = True
                self._collect(child, out, simple, owner)
            elif tag in (XS + "sequence", XS + "choice", XS + "all", XS + "complexContent", XS + "group"):
                self._collect(child, out, simple, owner)

    def builtin(self, type_name: str | None) -> str | None:
        """The XML Schema built-in a simple type comes down to (`IdType` → string), or None for a complex type."""
        seen = 0
        while type_name is not None and seen < 20:
            node = self.types.get(type_name)
            if node is None:
                return type_name  # xs:decimal and friends (prefix already stripped)
            if node.tag == XS + "complexType":
                return None
            base = node.find(XS + "restriction")
            type_name = _local(base.get("base")) if base is not None else "string"
            seen += 1
        return type_name

    def value_type(self, type_name: str | None) -> str | None:
        """The built-in of a simple-content complex type's `value` (ReferenceType → id → string)."""
        node = self.types.get(type_name or "")
        while node is not None and node.tag == XS + "complexType":
            base = next((n for n in node.iter() if n.tag in (XS + "extension", XS + "restriction")
                         and n.get("base")), None)
            if base is None:
                return None
            name = _local(base.get("base"))
            node = self.types.get(name or "")
            if node is None or node.tag != XS + "complexType":
                return self.builtin(name)
        return None

    def wrong_type(self, value: Any, type_name: str | None) -> str | None:
        """Why a simple JSON value does not fit its element's type, or None when it does."""
        builtin = self.builtin(type_name)
        kind = _json_kind(value)
        if builtin is None:
            return f"{kind} where {type_name} needs an object"
        expected = "number" if builtin in _NUMBERS else "boolean" if builtin == "boolean" else "string"
        if kind != expected:
            return f"{kind} {value!r} where {type_name} ({builtin}) needs a {expected}"
        form = _FORMS.get(builtin)
        if form is not None and not form.match(value):
            return f"{value!r} is not an xs:{builtin}"
        return None

    def problems(self, body: Any, type_name: str = "IntuitResponse", path: str = "") -> list[str]:
        """Unknown fields and values of the wrong type, each as a dotted path and what is wrong."""
        fields, simple = self.fields(type_name)
        bad: list[str] = []
        if not isinstance(body, dict):
            return bad
        for key, value in body.items():
            where = f"{path}.{key}" if path else key
            if key == "value" and simple:
                why = self.wrong_type(value, self.value_type(type_name))
                bad.extend([f"{where}: {why}"] if why else [])
                continue
            if key not in fields:
                bad.append(f"{where} (not on {type_name})")
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    bad.extend(self.problems(item, fields[key], where))
                elif item is not None:
                    why = self.wrong_type(item, fields[key])
                    bad.extend([f"{where}: {why}"] if why else [])
        return bad

    def unknown_fields(self, body: Any, type_name: str = "IntuitResponse", path: str = "") -> list[str]:
        """Every JSON key, as a dotted path, that the schema does not define where it appears."""
        fields, simple = self.fields(type_name)
        bad: list[str] = []
        if not isinstance(body, dict):
            return bad
        for key, value in body.items():
            where = f"{path}.{key}" if path else key
            if key == "value" and simple:
                continue
            if key not in fields:
                bad.append(f"{where} (not on {type_name})")
                continue
            for item in value if isinstance(value, list) else [value]:
                bad.extend(self.unknown_fields(item, fields[key], where))
        return bad
