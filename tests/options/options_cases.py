"""Bad-input cases generated from the built-in connectors' options models: for every option group (a model
reachable from a destination's `options_model`) an unknown key, a value of the wrong type, each bounded number
out of range and each choice misspelt. Generated, so a group added later is covered without a new test."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ledgerlink.options import allowed_values
from ledgerlink.plugins import PluginHost

#: the connectors shipped with ledgerlink that write (every one declares its options)
BUILTIN_DESTINATIONS = ("amazon_sp", "bigcommerce", "qb_desktop", "qbo")

Step = tuple[str, Any]  # ("key", name) | ("index", 0) | ("entry", "X")


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, __import__("types").UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        return models[0] if models else (members[0] if len(members) == 1 else tp)
    return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def groups(model: type[BaseModel], path: tuple[Step, ...] = ()) -> list[tuple[tuple[Step, ...], type[BaseModel]]]:
    """Every option group under `model`, with the steps that reach it (a list's first item, a map's entry X)."""
    found = [(path, model)]
    for name, info in model.model_fields.items():
        key = info.alias or name
        tp = _strip(info.annotation)
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if _is_model(tp):
            found += groups(tp, path + (("key", key),))
        elif origin is list and args and _is_model(_strip(args[0])):
            found += groups(_strip(args[0]), path + (("key", key), ("index", 0)))
        elif origin is dict and len(args) == 2 and _is_model(_strip(args[1])):
            found += groups(_strip(args[1]), path + (("key", key), ("entry", "X")))
    return found


def minimal(model: type[BaseModel]) -> dict[str, Any]:
    """The required keys of `model` with valid values (so a case's own mistake is the only one)."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            values = allowed_values(info.annotation)
            out[info.alias or name] = values[0] if values else "SKU-1"
    return out


def embed(root: type[BaseModel], path: tuple[Step, ...], group: type[BaseModel], values: dict[str, Any]) -> Any:
    """Raw options with `values` (merged into the group's minimal keys) at `path` under `root`."""
    node: Any = {**minimal(group), **values}
    models = [root] + [m for _, m in _models_along(root, path)]
    for depth in range(len(path) - 1, -1, -1):
        kind, key = path[depth]
        if kind == "index":
            node = [node]
        elif kind == "entry":
            node = {key: node}
        else:
            node = {**minimal(models[_model_depth(path, depth)]), key: node}
    return node


def _models_along(root: type[BaseModel], path: tuple[Step, ...]) -> list[tuple[int, type[BaseModel]]]:
    out, model = [], root
    for depth, (kind, key) in enumerate(path):
        if kind == "key":
            info = next(i for n, i in model.model_fields.items() if key in (n, i.alias))
            tp = _strip(info.annotation)
            args = typing.get_args(tp)
            model = tp if _is_model(tp) else _strip(args[-1])
            out.append((depth, model))
    return out


def _model_depth(path: tuple[Step, ...], depth: int) -> int:
    """Index into [root, models after each key step] of the model that holds the key at `depth`."""
    return sum(1 for kind, _ in path[:depth] if kind == "key")


def dotted(path: tuple[Step, ...]) -> str:
    text = ""
    for kind, key in path:
        text += f"[{key}]" if kind == "index" else f".{key}"
    return text


@dataclass(frozen=True)
class Case:
    connector: str
    group: str
    kind: str
    key: str
    raw: Any
    #: the key path the error must name, and words it must contain
    path: str
    expect: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.connector}:{self.group or '(top)'}:{self.kind}:{self.key}"


def _bounds(info: FieldInfo) -> list[tuple[str, Any]]:
    found = []
    metadata = list(info.metadata)
    tp = info.annotation
    if typing.get_origin(tp) is dict:  # a map of bounded values (exchange rates): the bound of each value
        tp = typing.get_args(tp)[1]
    if typing.get_origin(tp) is typing.Annotated:
        for arg in typing.get_args(tp)[1:]:
            metadata += list(getattr(arg, "metadata", [])) + [arg]
    for m in metadata:
        for attr, kind in (("ge", "ge"), ("gt", "gt"), ("le", "le"), ("lt", "lt")):
            if isinstance(m, getattr(annotated_types, attr.capitalize())):
                found.append((kind, getattr(m, attr)))
    return found


def _misspelt(word: str) -> str:
    """A typo a person makes: a letter dropped from the middle (`customer_stratgy`), or one added to a short word."""
    return word[: len(word) // 2] + word[len(word) // 2 + 1:] if len(word) > 4 else word + "x"


def _outside(kind: str, bound: Any) -> Any:
    step = Decimal(1) if isinstance(bound, Decimal) else 1
    value = {"ge": bound - step, "gt": bound, "le": bound + step, "lt": bound}[kind]
    return str(value) if isinstance(value, Decimal) else value


def cases_for(connector: str, model: type[BaseModel]) -> list[Case]:
    out: list[Case] = []
    for path, group in groups(model):
        where = "destination.options" + dotted(path)
        group_name = dotted(path).lstrip(".")
        keys = [(info.alias or name, name, info) for name, info in group.model_fields.items() if not info.exclude]
        longest = max((k for k, _, _ in keys), key=len)
        wrong = _misspelt(longest)
        out.append(Case(connector, group_name, "unknown_key", wrong, embed(model, path, group, {wrong: "x"}),
                        f"{where}.{wrong}", ("unknown key", f"did you mean '{longest}'")))
        typed = False
        for key, name, info in keys:
            values = allowed_values(info.annotation)
            scalar = _strip(info.annotation) in (bool, int, float, str, Decimal) or values is not None
            if values is not None and all(isinstance(v, str) for v in values):
                typo = _misspelt(values[0])
                out.append(Case(connector, group_name, "bad_choice", key, embed(model, path, group, {key: typo}),
                                f"{where}.{key}", (f"{typo!r} is not allowed", f"did you mean '{values[0]}'")))
            for kind, bound in _bounds(info):
                value = _outside(kind, bound)
                is_map = typing.get_origin(info.annotation) is dict
                raw = {key: {"X": value}} if is_map else {key: value}
                words = {"ge": "must be at least", "gt": "must be more than", "le": "must be at most",
                         "lt": "must be less than"}[kind]
                out.append(Case(connector, group_name, f"out_of_range_{kind}", key, embed(model, path, group, raw),
                                f"{where}.{key}" + (".X" if is_map else ""), (words,)))
            if scalar and (not typed or _strip(info.annotation) in (bool, int, float, Decimal)):
                typed = True
                out.append(Case(connector, group_name, "wrong_type", key,
                                embed(model, path, group, {key: {"nested": ["not", "a", "value"]}}),
                                f"{where}.{key}", ("expected", "not allowed", "not a number")))
        if not typed:  # a group of sections only: a section given as a plain value
            key = keys[0][0]
            out.append(Case(connector, group_name, "wrong_type", key, embed(model, path, group, {key: 5}),
                            f"{where}.{key}", ("expected a mapping",)))
    return out


def builtin_options_models() -> dict[str, type[BaseModel]]:
    roles = PluginHost().connector_roles()
    return {name: roles[name]["destination"].options_model for name in BUILTIN_DESTINATIONS}


def all_cases() -> list[Case]:
    return [case for name, model in builtin_options_models().items() for case in cases_for(name, model)]
