"""Checking options against their model before anything runs, every problem at once.

`check_options` validates one mapping (a destination's `options`, a connector's config) and raises an
`OptionsError` listing every wrong key and value, each with its key path and, when it looks misspelt, the
closest allowed name. `check_pipeline_options` does it for a loaded pipeline's `destination.options` with the
destination's declared `options_model`; `load_pipeline` calls it, so `sync`, `serve`, `check`, `review` and the
console refuse a bad option before a record is staged or a document planned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from .explain import OptionProblem, explain

__all__ = ["OptionsError", "check_options", "check_pipeline_options", "options_model_of", "options_schema"]

M = TypeVar("M", bound=BaseModel)


class OptionsError(ConfigError):
    """Options (or a config) that do not fit their model: `problems` lists every one, each with its key path,
    what is wrong and a did-you-mean; the message shows them all, one a line."""

    def __init__(self, problems: list[OptionProblem], *, file: str | Path | None = None, hint: str | None = None):
        self.problems = list(problems)
        lead = f"{file}: " if file else ""
        if len(self.problems) == 1:
            message = lead + str(self.problems[0])
        else:
            at = ", ".join(dict.fromkeys(p.path for p in self.problems))  # the first line names every key
            message = f"{lead}{len(self.problems)} problems ({at}):" + "".join(f"\n  - {p}" for p in self.problems)
        first = self.problems[0] if self.problems else None
        hints = [hint] if hint else []
        if len(self.problems) == 1 and first is not None and first.message.startswith("unknown key") and first.allowed:
            hints.insert(0, f"allowed keys there: {', '.join(first.allowed)} (a key of your own, for your own "
                            "templates, starts with `x_`)")
        super().__init__(message, hint="; ".join(hints) or None)
        self.where = first.path if first else None
        self.file = str(file) if file else None

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "where": self.where, "file": self.file,
                "problems": [p.to_dict() for p in self.problems]}


def check_options(model: type[M], raw: Any, *, where: str = "destination.options", file: str | Path | None = None,
                  hint: str | None = None) -> M:
    """`raw` validated by `model`; an OptionsError naming every problem (paths start with `where`) otherwise.
    An empty section (`options:` with nothing after it) is an empty mapping."""
    try:
        return model.model_validate({} if raw is None else raw)
    except ValidationError as exc:
        raise OptionsError(explain(exc, model, where), file=file, hint=hint) from None


def options_model_of(connector: type) -> type[BaseModel] | None:
    """The model a connector class declares for its pipeline options (`options_model`), if any."""
    model = getattr(connector, "options_model", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def options_schema(model: type[BaseModel], title: str | None = None) -> dict[str, Any]:
    """The JSON Schema of an options model, as a connector's spec carries it (a form can be generated from it)."""
    schema = model.model_json_schema()
    if title:
        schema.setdefault("title", title)
    return schema


def check_pipeline_options(pipeline: Any, file: str | Path | None = None, plugin_host: Any = None) -> None:
    """Validate `pipeline.destination.options` with its destination's `options_model`. A destination that is not
    installed is left to the run, which names it; one that declares no model takes its options unchecked."""
    from ..plugins import host

    plugins = plugin_host or host()
    destination = plugins.connector_roles().get(pipeline.destination.connector, {}).get("destination")
    model = options_model_of(destination) if destination is not None else None
    if model is None:
        return
    check_options(model, pipeline.destination.options, where="destination.options", file=file,
                  hint=f"`ledgerlink spec {pipeline.destination.connector} --role destination` lists the options "
                       f"(optionsSpecification)")
