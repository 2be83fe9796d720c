"""What staging can store of a record, and exactly why not when it cannot (one field, one reason); and a
bounded copy of anything, which a dead letter can always store.

A source hands over the remote's own objects, and a remote can send what no JSON column holds: a lone
surrogate ("\\ud800"), a number beyond 64 bits, NaN, JSON nested thousands deep, a record of hundreds of
megabytes. Such a record is a dead letter, never a failed run: otherwise the next run reads it again and fails
the same way, for ever.
"""

from __future__ import annotations

import math
import os
import re
from decimal import Decimal
from typing import Any

from .. import jsonutil
from ..errors import RecordError

__all__ = ["UnstageableRecord", "record_text", "stageable_text", "key_text", "find_problem", "has_nonfinite", "letter_copy", "safe_text",
           "MAX_DEPTH", "max_record_chars", "LETTER_RECORD_CHARS"]

#: deeper than this is refused, with the path to where it goes too deep (the JSON writer stops there anyway,
#: without saying where)
MAX_DEPTH = 254
#: a staged key longer than this is not a key but a mistake (and every look-up would carry it)
MAX_KEY_CHARS = 2048
#: a dead letter keeps a copy of the record up to this size; beyond it a summary and where the record is
LETTER_RECORD_CHARS = 256 << 10
#: the integers the JSON writer (and DuckDB's JSON) holds exactly
INT_MIN, INT_MAX = -(1 << 63), (1 << 64) - 1
_INT_MIN, _INT_MAX = INT_MIN, INT_MAX


def max_record_chars() -> int:
    """The largest record staging takes, in characters of JSON (`LEDGERLINK_MAX_RECORD_MB`, default 256): a
    100,000-row settlement is one record of about 40 MB; a larger one needs ~12× its size of memory to stage."""
    text = os.environ.get("LEDGERLINK_MAX_RECORD_MB", "256")
    try:
        return max(1, int(float(text) * (1 << 20)))
    except ValueError:
        return 256 << 20


class UnstageableRecord(RecordError):
    """A record staging cannot hold as it is: names the field and what is wrong with it."""


def safe_text(text: Any, limit: int | None = None) -> str:
    """Text any UTF-8 store takes: lone surrogates written as `\\udXXX` escapes, cut (on a character) at `limit`."""
    text = text if isinstance(text, str) else str(text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"… ({len(text):,} characters in all)"
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _bad_text(text: str) -> str | None:
    try:
        text.encode("utf-8")
        return None
    except UnicodeEncodeError as exc:
        char = text[exc.start]
        return (f"the text holds a lone surrogate ({char.encode('unicode_escape').decode()} at character "
                f"{exc.start}), which is not valid UTF-8")


def _int_digits(value: int) -> int:
    return max(1, int(abs(value).bit_length() * math.log10(2)) + 1)


def _path(parts: list[Any]) -> str:
    shown = parts if len(parts) <= 12 else parts[:6] + ["…"] + parts[-3:]
    out = ""
    for p in shown:
        if p == "…":
            out += f"…({len(parts) - 9} levels)…"
        elif isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + safe_text(p, 80)
    return out or "(the record)"


_LEAVES = frozenset({str, int, bool, type(None), Decimal})  # non-finite Decimals the JSON writer refuses itself
_BOXES = frozenset({dict, list, tuple})


def has_nonfinite(value: Any) -> bool:
    """Whether a float NaN or infinity hides anywhere in `value`: the JSON writer would quietly make it null.
    A quick walk (no paths kept; ~20 µs for an order of a hundred fields), done only when the JSON has a null."""
    stack = [value if type(value) in _BOXES else [value]]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        for v in (item.values() if isinstance(item, dict) else item):
            t = type(v)
            if t in _LEAVES:
                continue
            if t is float or isinstance(v, float):
                if not math.isfinite(v):
                    return True
            elif t in _BOXES or isinstance(v, (dict, list, tuple)):
                push(v)
    return False


def find_problem(value: Any, *, floats_only: bool = False) -> tuple[str, str] | None:
    """The first field (as a path like `items[3].price`) staging cannot hold, and why; None when all is well.
    Walks without recursion: a record nested 100,000 deep must not stop the walker. `floats_only` looks only
    for NaN and infinities (the JSON writer silently writes those as null; it refuses everything else)."""
    stack: list[tuple[Any, list[Any]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return _path(path), f"{item} is not a JSON number"
            continue
        if isinstance(item, (dict, list, tuple)):
            if len(path) >= MAX_DEPTH:
                return _path(path), f"the record is nested more than {MAX_DEPTH} levels deep"
            if isinstance(item, dict):
                children = list(item.items())
                if not floats_only:
                    for k, _ in children:
                        if isinstance(k, str) and (why := _bad_text(k)):
                            return _path(path + [k]), "the field's name: " + why
                stack.extend((v, path + [k]) for k, v in reversed(children))
            else:
                stack.extend((v, path + [i]) for i, v in reversed(list(enumerate(item))))
            continue
        if floats_only:
            continue
        if isinstance(item, str):
            if why := _bad_text(item):
                return _path(path), why
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not _INT_MIN <= item <= _INT_MAX:
                return _path(path), (f"a number of {_int_digits(item):,} digits is beyond the 64 bits a staged "
                                     f"number holds")
        elif isinstance(item, Decimal):
            if not item.is_finite():
                return _path(path), f"{item} is not a JSON number"
        else:
            try:
                jsonutil.dumps(item)
            except (TypeError, ValueError) as exc:
                return _path(path), f"a {type(item).__name__} is not JSON ({exc})"
    return None


def record_text(data: Any, *, stream: str | None = None, key: str | None = None, limit: int | None = None) -> str:
    """The record as the JSON text staging stores; UnstageableRecord naming the field and the reason when it
    cannot be stored faithfully (rather than a failed batch, or NaN quietly written as null). `limit`: the
    largest record in characters (default `max_record_chars()`; a caller staging many reads it once)."""
    try:
        text = jsonutil.dumps(data)
    except (TypeError, ValueError, RecursionError) as exc:
        where, why = find_problem(data) or ("(the record)", f"cannot be written as JSON: {exc}")
        raise UnstageableRecord(why, stream=stream, key=key, field=where, hint=_HINT) from None
    if "null" in text and has_nonfinite(data):  # NaN and infinities were written as null: say which field
        where, why = find_problem(data, floats_only=True) or ("(the record)", "NaN is not a JSON number")
        raise UnstageableRecord(why, stream=stream, key=key, field=where, hint=_HINT)
    if limit is None:
        limit = max_record_chars()
    if len(text) > limit:
        raise UnstageableRecord(
            f"the record is {len(text) / (1 << 20):,.1f} MB of JSON, more than the {limit / (1 << 20):,.0f} MB "
            f"a staged record may be", stream=stream, key=key, field="(the record)",
            hint="raise LEDGERLINK_MAX_RECORD_MB (and the memory the sync may use) if such records are real, "
                 "then have the source send it again")
    return text


#: a `\uD800`–`\uDFFF` escape: half of a surrogate pair, or a lone one (which no UTF-8 store holds)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def stageable_text(raw: Any) -> str | None:
    """The text of one record's JSON (bytes, or a msgspec `Raw` cut from a page msgspec has read, so the
    JSON is well formed) when staging can store it as it is, else None (decode it and stage the object,
    whose checks name the field at fault): it must be UTF-8, an object, nested less than MAX_DEPTH (counted
    over every bracket, so a deep-looking record takes the careful path) and hold no surrogate escape.
    Numbers are kept as written: the text holds any integer and any decimal exactly."""
    try:
        text = str(raw, "utf-8")
    except (UnicodeError, TypeError):
        return None
    if text[:1] != "{" or text.count("{") + text.count("[") >= MAX_DEPTH:
        return None
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        return None
    return text


_HINT = ("the source sent a record staging cannot hold as it is; the rest of the run went on. Ask the remote "
         "system (or the plugin's authors) to fix the data; `ledgerlink dlq show` has a copy")


def key_text(parts: list[Any], fields: list[str], *, stream: str | None = None) -> str | None:
    """The staged primary key ("a/b" for a composite one), None when a part is missing; UnstageableRecord when a
    part cannot be a key (an object, a list, text that is not UTF-8, thousands of characters)."""
    texts = []
    for name, part in zip(fields, parts):
        if part is None:
            return None
        if isinstance(part, (dict, list, tuple, set)):
            raise UnstageableRecord(f"the primary key is a {type(part).__name__}, not a text or a number",
                                    stream=stream, field=name, hint=_HINT)
        if isinstance(part, int) and not _INT_MIN <= part <= _INT_MAX:
            raise UnstageableRecord(f"the primary key is a number of {_int_digits(part):,} digits",
                                    stream=stream, field=name, hint=_HINT)
        text = str(part)
        if why := _bad_text(text):
            raise UnstageableRecord("the primary key: " + why, stream=stream, key=safe_text(text, 80), field=name,
                                    hint=_HINT)
        texts.append(text)
    key = "/".join(texts)
    if len(key) > MAX_KEY_CHARS:
        raise UnstageableRecord(f"the primary key is {len(key):,} characters long (at most {MAX_KEY_CHARS:,})",
                                stream=stream, key=safe_text(key, 80), field="/".join(fields), hint=_HINT)
    return key


# ----------------------------------------------------------------------------------------- dead-letter copies

_CUT_TEXT = 2000   # characters of one text kept in a bounded copy
_CUT_ITEMS = 50    # items of one list (or keys of one object) kept
_CUT_DEPTH = 24    # levels kept


def letter_copy(record: Any, *, where: dict[str, Any] | None = None, limit: int = LETTER_RECORD_CHARS) -> Any:
    """What a dead letter stores of `record`: the record itself when it is small and valid JSON; otherwise a
    bounded copy (texts, lists and depth cut, invalid values described) with a `_truncated` note saying how big
    the record was and `where` it can still be read in full (its staged stream and key, its outbox key).
    Never raises: this is the error path."""
    try:
        text = jsonutil.dumps(record)
        if len(text) <= limit and not ("null" in text and has_nonfinite(record)):
            return record
        size: int | None = len(text)
    except (TypeError, ValueError, RecursionError):
        size = None
    budget = [max(limit // 2, 1024)]
    copy = _bounded(record, 0, budget)
    note: dict[str, Any] = {"why": "the record is too large to keep in the letter" if size is not None
                            else "the record holds values JSON cannot (shown described)"}
    if size is not None:
        note["chars"] = size
    if where:
        note["where"] = where
    if isinstance(copy, dict):
        return {"_truncated": note, **copy}
    return {"_truncated": note, "record": copy}


def _bounded(value: Any, depth: int, budget: list[int]) -> Any:
    """A copy of `value` within `budget` characters (shared, decremented) that JSON always holds."""
    if budget[0] <= 0:
        return "…"
    if isinstance(value, str):
        text = safe_text(value, _CUT_TEXT)
        budget[0] -= len(text) + 4
        return text
    if value is None or isinstance(value, bool):
        budget[0] -= 5
        return value
    if isinstance(value, int):
        budget[0] -= 12
        return value if _INT_MIN <= value <= _INT_MAX else f"<a number of {_int_digits(value):,} digits>"
    if isinstance(value, float):
        budget[0] -= 12
        return value if math.isfinite(value) else f"<{value}>"
    if isinstance(value, Decimal):
        budget[0] -= 12
        return value if value.is_finite() else f"<{value}>"
    if isinstance(value, (dict, list, tuple)):
        if depth >= _CUT_DEPTH:
            budget[0] -= 30
            return f"<{_nesting(value)} more levels, cut>"
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for i, (k, v) in enumerate(value.items()):
                if i >= _CUT_ITEMS or budget[0] <= 0:
                    out["…"] = f"{len(value) - i:,} more fields"
                    break
                name = safe_text(k, 200)
                budget[0] -= len(name) + 4
                out[name] = _bounded(v, depth + 1, budget)
            return out
        items: list[Any] = []
        for i, v in enumerate(value):
            if i >= _CUT_ITEMS or budget[0] <= 0:
                items.append(f"… and {len(value) - i:,} more items ({len(value):,} in all)")
                break
            items.append(_bounded(v, depth + 1, budget))
        return items
    try:
        jsonutil.dumps(value)
        budget[0] -= 40
        return value
    except (TypeError, ValueError, RecursionError):
        budget[0] -= 40
        return safe_text(f"<{type(value).__name__}>", 200)


def _nesting(value: Any) -> int:
    """How many levels of containers go down from `value` along its first children (no recursion)."""
    levels = 0
    while isinstance(value, (dict, list, tuple)) and value and levels < 1_000_000:
        levels += 1
        value = next(iter(value.values())) if isinstance(value, dict) else value[0]
    return levels
