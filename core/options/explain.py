"""Turning a pydantic ValidationError into problems a person can act on.

Each problem names the key path as it is written in the pipeline file (`destination.options.items.unmatched`,
`destination.options.documents[0].when.chanel`), says what is wrong in plain words, and, for a misspelt key or
value, the closest allowed one. Every problem of one validation is listed, not only the first.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from rapidfuzz import fuzz, process

__all__ = ["OptionProblem", "explain", "did_you_mean", "allowed_keys", "allowed_values"]

#: how close (0-100, see `_closeness`) a misspelling must be to an allowed name to be suggested
SUGGEST_CUTOFF = 72
_SHOWN_INPUT = 40


@dataclass(frozen=True)
class OptionProblem:
    """One thing wrong in a validated mapping: where, what, and the closest allowed name if it looks misspelt."""

    #: the key path as written in the file, e.g. `destination.options.on_cancel`
    path: str
    message: str
    #: the allowed key or value the wrong one most looks like
    suggestion: str | None = None
    #: every allowed key (unknown key) or value (a choice), for a form or a hint
    allowed: tuple[str, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        return text + (f" (did you mean {self.suggestion!r}?)" if self.suggestion else "")

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message, "suggestion": self.suggestion,
                "allowed": list(self.allowed)}


def _norm(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _closeness(a: str, b: str, **_: Any) -> float:
    """A typo (`voyd`, `seller_fee`) is close by plain edit ratio; a fragment (`recipt` for `sales_receipt`) by
    rapidfuzz's weighted ratio. The better of the two."""
    return max(fuzz.ratio(a, b), fuzz.WRatio(a, b))


def did_you_mean(wrong: str, allowed: Iterable[str]) -> str | None:
    """The allowed name `wrong` most looks like (case, `-`/space for `_`, then a fuzzy match), or None."""
    choices = [str(a) for a in allowed]
    if not choices:
        return None
    by_norm = {_norm(c): c for c in choices}
    if _norm(wrong) in by_norm:
        return by_norm[_norm(wrong)]
    found = process.extractOne(_norm(wrong), list(by_norm), scorer=_closeness, score_cutoff=SUGGEST_CUTOFF)
    return by_norm[found[0]] if found else None


# ------------------------------------------------------------------------------------------ walking a model

def _strip(tp: Any) -> Any:
    """The type without Annotated wrappers and without a None member."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if _is_union(tp):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return _strip(members[0])
    return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _model_field(model: type[BaseModel], key: str) -> tuple[str, FieldInfo] | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return name, info
    return None


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts as written in a file (aliases where a field has one), in declaration order."""
    return [info.alias or name for name, info in model.model_fields.items() if not info.exclude]


def allowed_values(tp: Any) -> list[Any] | None:
    """The values a Literal or Enum type allows (None for any other type)."""
    tp = _strip(tp)
    if typing.get_origin(tp) is typing.Literal:
        return list(typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return [m.value for m in tp]
    if _is_union(tp):
        values = [allowed_values(a) for a in typing.get_args(tp) if a is not type(None)]
        if values and all(v is not None for v in values):
            return [x for v in values for x in v]  # type: ignore[union-attr]
    return None


def _union_tag(member: Any) -> str:
    """How pydantic names a union member in an error's location (`str`, `list[str]`, `dict[str,any]`, `Model`)."""
    member = _strip(member)
    if _is_model(member) or (isinstance(member, type) and typing.get_origin(member) is None):
        return member.__name__
    return re.sub(r"\s+|typing\.", "", repr(member)).lower()


@dataclass
class _Step:
    """Where a location leads in the model: the type there, the field's info, and the path as written."""

    tp: Any
    info: FieldInfo | None
    parts: list[str]
    parent: Any = None
    #: the path (as written) of the union whose member this location went into, if any
    union_at: str | None = None


def _walk(model: type[BaseModel], loc: Sequence[str | int]) -> _Step:
    step = _Step(tp=model, info=None, parts=[])
    for segment in loc:
        tp = _strip(step.tp)
        if _is_union(tp):  # pydantic names the member it tried; that name is not part of the file's path
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            step.tp = next((m for m in members if _union_tag(m) == str(segment)), None)
            step.union_at = "".join(step.parts)
            continue
        step.parent = tp
        if _is_model(tp) and isinstance(segment, str):
            found = _model_field(tp, segment)
            step.info = found[1] if found else None
            step.tp = found[1].annotation if found else None
            step.parts.append(_key(segment))
        elif typing.get_origin(tp) in (dict, typing.Dict) or tp is dict:
            args = typing.get_args(tp)
            step.tp = args[1] if len(args) == 2 else None
            step.parts.append(_key(str(segment)))
        elif isinstance(segment, int):
            args = typing.get_args(tp)
            step.tp = args[0] if args else None
            step.parts.append(f"[{segment}]")
        else:
            step.tp = None
            step.parts.append(_key(str(segment)) if not isinstance(segment, int) else f"[{segment}]")
    return step


def _key(key: str) -> str:
    """A key as it reads in a path: bare when it is a plain name, quoted otherwise (`stores."Amazon.com"`)."""
    return f".{key}" if re.fullmatch(r"[A-Za-z0-9_\-*]+", key) else f'."{key}"'


def _join(prefix: str, parts: list[str]) -> str:
    text = prefix + "".join(parts)
    return text[1:] if text.startswith(".") else text


# ----------------------------------------------------------------------------------------------- the words

_EXPECTED = {
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number", "decimal_type": "a decimal number",
    "decimal_parsing": "a decimal number", "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "text", "list_type": "a list", "tuple_type": "a list", "set_type": "a list",
    "dict_type": "a mapping (key: value)", "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)", "datetime_type": "a date and time",
    "datetime_parsing": "a date and time", "date_type": "a date", "date_parsing": "a date",
}


def _shown(value: Any, secret: bool) -> str | None:
    """The wrong value as it may be echoed: short scalars only, never a secret's."""
    if secret or isinstance(value, (dict, list, tuple, set)) or value is None:
        return None
    text = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= _SHOWN_INPUT else text[:_SHOWN_INPUT] + "…"


def _is_secret(info: FieldInfo | None) -> bool:
    extra = info.json_schema_extra if info is not None else None
    return bool(isinstance(extra, dict) and extra.get("airbyte_secret"))


def _problem(error: dict[str, Any], model: type[BaseModel], prefix: str) -> tuple[OptionProblem, str | None]:
    """The problem one error describes, and the path of the union it went into (None outside unions)."""
    problem, step = _describe(error, model, prefix)
    return problem, None if step.union_at is None else _join(prefix, [step.union_at])


def _describe(error: dict[str, Any], model: type[BaseModel], prefix: str) -> tuple[OptionProblem, _Step]:
    loc = error["loc"]
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "extra_forbidden":
        parent = _walk(model, loc[:-1])
        bad = str(loc[-1])
        path = _join(prefix, parent.parts + [_key(bad)])
        owner = _strip(parent.tp)
        keys = allowed_keys(owner) if _is_model(owner) else []
        suggestion = did_you_mean(bad, keys) or _nested_home(owner, bad)
        return OptionProblem(path, f"unknown key {bad!r}", suggestion, tuple(keys)), parent
    step = _walk(model, loc)
    path = _join(prefix, step.parts)
    value = error.get("input")
    shown = _shown(value, _is_secret(step.info))
    if kind == "missing":
        return OptionProblem(path, "required key is missing"), step
    if kind in ("literal_error", "enum"):
        values = allowed_values(step.tp) or []
        names = tuple(str(v) for v in values)
        wrong = "true/false" if isinstance(value, bool) else shown or "this value"
        extra = " (YAML reads yes/no/on/off as true/false: quote the word)" if isinstance(value, bool) else ""
        suggestion = did_you_mean(str(value), names) if isinstance(value, str) else None
        listed = ", ".join(names) if names else ctx.get("expected", "")
        return OptionProblem(path, f"{wrong} is not allowed{extra}; choose one of: {listed}", suggestion, names), step
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return OptionProblem(path, str(ctx["error"])), step
    bound = {"greater_than_equal": "at least {ge}", "greater_than": "more than {gt}",
             "less_than_equal": "at most {le}", "less_than": "less than {lt}"}.get(kind)
    if bound:
        got = f", not {shown}" if shown else ""
        return OptionProblem(path, "must be " + bound.format(**{k: _plain(v) for k, v in ctx.items()}) + got), step
    if kind in _EXPECTED:
        got = f", not {shown}" if shown else ""
        return OptionProblem(path, f"expected {_EXPECTED[kind]}{got}"), step
    if kind == "finite_number":
        return OptionProblem(path, "must be a finite number (not nan or inf)"), step
    return OptionProblem(path, error["msg"]), step


def _plain(value: Any) -> str:
    return format(value, "f").rstrip("0").rstrip(".") if hasattr(value, "as_tuple") and "." in str(value) \
        else str(value)


def _nested_home(owner: Any, bad: str) -> str | None:
    """`drift_threshold` written at the top level is `inventory.drift_threshold`: a key one level down."""
    if not _is_model(owner):
        return None
    homes = []
    for name, info in owner.model_fields.items():
        sub = _strip(info.annotation)
        if _is_model(sub) and _model_field(sub, bad) is not None:
            homes.append(f"{info.alias or name}.{bad}")
    return homes[0] if len(homes) == 1 else None


def explain(exc: ValidationError, model: type[BaseModel], prefix: str = "") -> list[OptionProblem]:
    """Every problem of `exc` (raised validating `model`), paths prefixed with `prefix` (e.g.
    `destination.options`). What the members of a union refuse is one problem: the member the value got
    furthest into speaks for it, else "expected text or a list". A required key reported missing beside the
    misspelling suggested for it is left out (the misspelling is the useful message)."""
    found = [_problem(error, model, prefix) for error in exc.errors()]
    deeper = {union for problem, union in found if union is not None and problem.path != union}
    problems: list[OptionProblem] = []
    by_path: dict[str, int] = {}
    for problem, union in found:
        if union is not None and problem.path == union and union in deeper:
            continue  # the value has the shape of another member, whose own problem is reported
        if problem.path in by_path and problem.message.startswith("expected "):
            earlier = problems[by_path[problem.path]]
            if earlier.message.startswith("expected "):
                what = problem.message.removeprefix("expected ").split(", not ")[0]
                head, _, tail = earlier.message.partition(", not ")
                merged = f"{head} or {what}" + (f", not {tail}" if tail else "")
                problems[by_path[problem.path]] = OptionProblem(problem.path, merged)
                continue
        by_path.setdefault(problem.path, len(problems))
        problems.append(problem)
    suggested = {p.path.rsplit(".", 1)[0] + "." + p.suggestion for p in problems
                 if p.suggestion and p.message.startswith("unknown key") and "." in p.path}
    suggested |= {p.suggestion for p in problems if p.suggestion and "." not in p.path}
    return [p for p in problems if not (p.message == "required key is missing" and p.path in suggested)]
