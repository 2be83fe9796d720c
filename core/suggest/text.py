"""How suggestions compare words: case, spacing and punctuation never matter; pack sizes are read as numbers so
"Widget 2-Pack", "widget (pack of 2)" and "WIDGET 2PK" agree, and a 2-pack is never a 4-pack."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["plain", "compact", "pack_size", "tokens", "percent"]

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^\w%]+", re.UNICODE)
_PACK = re.compile(
    r"(?:\bpack\s*of\s*(\d+)\b)|(?:\b(\d+)\s*[- ]?\s*(?:pack|pk|pcs|pc|count|ct|er[- ]?pack|stk|stück|unidades|pz)\b)"
    r"|(?:\bx\s*(\d+)\b)|(?:\b(\d+)\s*x\b)", re.IGNORECASE)
_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s*%")


def plain(text: str | None) -> str:
    """Lower-case words separated by single spaces, camelCase split, accents kept (Gebühren ≠ Gebuhren is fine:
    both sides go through the same function)."""
    s = unicodedata.normalize("NFKC", text or "")
    s = _CAMEL.sub(" ", s)
    s = s.replace("&", " and ")
    return " ".join(_NOT_WORD.sub(" ", s.casefold()).replace("_", " ").split())


def compact(text: str | None) -> str:
    """`plain` without spaces: what the role table compares (FBA_Fee = fba-fee = FBAFee)."""
    return plain(text).replace(" ", "")


def pack_size(text: str | None) -> int | None:
    """The pack size a name states (2 for "2-Pack", "Pack of 2", "x2"), or None."""
    m = _PACK.search(text or "")
    if not m:
        return None
    return int(next(g for g in m.groups() if g))


def tokens(text: str | None) -> list[str]:
    """The words of a name, pack-size phrases removed (they are compared as numbers, not letters)."""
    return plain(_PACK.sub(" ", text or "")).split()


def percent(text: str | None) -> str | None:
    """The rate a tax name states ("VAT 20%" → "20"), normalised ("20.0" → "20"), or None."""
    m = _PERCENT.search(text or "")
    if not m:
        return None
    value = m.group(1).replace(",", ".")
    return value.rstrip("0").rstrip(".") if "." in value else value
