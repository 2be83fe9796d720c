"""Jinja mappings: canonical objects → destination payloads.

A default mapping may also be written as Python (`register_native_mapping`): it returns the very payload its
template would (tested value for value), without rendering JSON text in the sandbox and parsing it back, and
it is used only while the template is the plugin's own: a user's override always renders in the sandbox.

Templates run in Jinja's immutable sandbox, are compiled once, and escape every `{{ value }}` for the
format they produce: `*.json.j2` outputs JSON literals (strings quoted, Decimals as exact numbers, None as
null), `*.xml.j2` outputs XML-escaped text. Loop commas are template text: `{% if not loop.last %},{% endif %}`.
A failing template raises MappingError naming the template, the line and the record.
"""

from __future__ import annotations

import sys
import traceback
from datetime import date, datetime, timezone
from decimal import Decimal
from importlib import resources
from json.encoder import encode_basestring as _encode_str
from pathlib import Path
from typing import Any, Callable
from xml.sax.saxutils import escape as xml_escape
from zoneinfo import ZoneInfo

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from . import jsonutil
from .errors import MappingError
from .money import Money, quantize, to_decimal
from .secrets import mask

__all__ = ["MappingEngine", "raw", "BUILTIN_FILTERS", "register_native_mapping", "mapping_value"]


def raw(text: str) -> Markup:
    """Mark text as already escaped for the template's format."""
    return Markup(text)


def _json_literal(value: Any) -> Any:
    if type(value) is str:  # the common case first, with the C string encoder
        return _encode_str(value)
    if isinstance(value, Markup):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        raise TypeError(f"float {value!r} reached a mapping; amounts must be Decimal")
    if isinstance(value, Money):
        return str(quantize(value.amount, value.currency))
    if isinstance(value, (datetime, date)):
        return jsonutil.dumps(value.isoformat())
    if hasattr(value, "model_dump"):
        return jsonutil.dumps(value.model_dump(mode="python"))
    return jsonutil.dumps(value)


def _xml_text(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        raise TypeError(f"float {value!r} reached a mapping; amounts must be Decimal")
    if isinstance(value, Money):
        return str(quantize(value.amount, value.currency))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return xml_escape(str(value), {'"': "&quot;", "'": "&apos;"})


def mapping_value(value: Any) -> Any:
    """What `{{ value }}` in a JSON template becomes once the rendered text is parsed back: the same string,
    number (an int when it has no point or exponent, else a Decimal), bool or null. A native mapping builds its
    payload from these, so it equals the template's value for value."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is Decimal:
        text = str(value)
        if not value.is_finite():
            raise ValueError(f"{text} is not a JSON number")
        return Decimal(text) if ("." in text or "E" in text or "e" in text) else int(text)
    return jsonutil.loads(_json_literal(value))


#: default mappings written as Python, by (package, resource) of the template each stands for
_NATIVE: dict[tuple[str, str], Callable[..., Any]] = {}


def register_native_mapping(package: str, resource: str, build: Callable[..., Any]) -> None:
    """Say that `build(**variables)` returns exactly what the template `resource` of `package` renders and
    parses to. The engine calls it instead of the template while that template is the default one; if it
    raises, the template renders instead, so errors read as the template's own."""
    _NATIVE[(package, resource)] = build


# ---------------------------------------------------------------------------------------------- filters


def f_money(value: Any, currency: str | None = None) -> Decimal:
    """An amount rounded to its currency's minor unit (Money, or a number with `currency`)."""
    if isinstance(value, Money):
        return quantize(value.amount, value.currency)
    return quantize(to_decimal(value), currency or "USD")


def f_amount(value: Money | None) -> Decimal:
    return Decimal(0) if value is None else value.amount


def f_date(value: datetime | date | str, tz: str | None = None) -> str:
    """YYYY-MM-DD, in `tz` when given (an order placed at 23:30 UTC may belong to tomorrow in Sydney)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if tz:
            value = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(ZoneInfo(tz))
        return value.date().isoformat()
    return value.isoformat()


def f_datetime(value: datetime | str, tz: str | None = None) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if tz:
        value = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(ZoneInfo(tz))
    return value.isoformat()


def f_truncate_to(value: Any, limit: int, marker: str = "") -> Any:
    """Cut text to a destination's field limit (e.g. QBO DocNumber 21, qbXML Name 41)."""
    if value is None:
        return None
    text = str(value)
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(marker))] + marker


def f_neg(value: Any) -> Any:
    if isinstance(value, Money):
        return -value
    return -to_decimal(value)


BUILTIN_FILTERS: dict[str, Callable[..., Any]] = {
    "money": f_money, "amount": f_amount, "date": f_date, "datetime": f_datetime,
    "truncate_to": f_truncate_to, "neg": f_neg, "decimal": to_decimal,
}


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with its verdict on each attribute cached by (type, name). The verdict
    depends on nothing else (underscore names, internal attributes of functions and frames, mutating methods
    of known container types), and checking it on every access was a large share of a template's cost."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._safe_attributes: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        key = (type(obj), attr)
        verdict = self._safe_attributes.get(key)
        if verdict is None:
            verdict = self._safe_attributes[key] = super().is_safe_attribute(obj, attr, value)
        return verdict


class _Loader(jinja2.BaseLoader):
    def __init__(self, sources: dict[str, Callable[[], str]]):
        self.sources = sources

    def get_source(self, environment: jinja2.Environment, template: str):
        if template not in self.sources:
            raise jinja2.TemplateNotFound(template)
        return self.sources[template](), template, lambda: True


class MappingEngine:
    """Compiles named templates once and renders them into payload dicts."""

    def __init__(self, extensions: list[tuple[str, Callable[..., Any], str]] | None = None,
                 lookup: Callable[[str, str], Any] | None = None, *, native: bool = True):
        self._sources: dict[str, Callable[[], str]] = {}
        self._compiled: dict[str, jinja2.Template] = {}
        self._envs: dict[str, jinja2.Environment] = {}
        self._extensions = extensions or []
        self._lookup = lookup
        #: templates rendered by a native mapping instead; none when an extension replaces a built-in filter
        #: or global (the native mapping would not see it)
        self._native: dict[str, Callable[..., Any]] = {}
        #: renders a native mapping handed over to its template (it raised), by template: for tests and benchmarks
        self.native_fallbacks: dict[str, int] = {}
        self._use_native = native and not any(
            name in BUILTIN_FILTERS or name in ("raw", "lookup") for name, _, _ in self._extensions)

    def _env(self, fmt: str) -> jinja2.Environment:
        env = self._envs.get(fmt)
        if env is None:
            env = _Sandbox(
                loader=_Loader(self._sources), undefined=jinja2.StrictUndefined, autoescape=False,
                finalize=_json_literal if fmt == "json" else _xml_text, keep_trailing_newline=True,
                trim_blocks=True, lstrip_blocks=True)
            env.filters.update(BUILTIN_FILTERS)
            env.globals["raw"] = raw
            env.globals["lookup"] = self._lookup_global
            for name, func, kind in self._extensions:
                {"filter": env.filters, "test": env.tests, "global": env.globals}[kind][name] = func
            self._envs[fmt] = env
        return env

    def set_lookup(self, lookup: Callable[[str, str], Any] | None) -> None:
        """Where `lookup(table, key)` in a template reads from (the runtime points it at staged tables)."""
        self._lookup = lookup

    def _lookup_global(self, table: str, key: str) -> Any:
        if self._lookup is None:
            raise LookupError("no reference tables are available to this mapping")
        return self._lookup(table, key)

    @staticmethod
    def _format(name: str) -> str:
        return "xml" if name.endswith(".xml.j2") else "json"

    def add(self, name: str, source: str) -> None:
        self._set_source(name, lambda: source)

    def add_file(self, name: str, path: str | Path) -> None:
        p = Path(path)
        self._set_source(name, p.read_text)

    def add_resource(self, name: str, package: str, resource: str) -> None:
        self._set_source(name, lambda: resources.files(package).joinpath(resource).read_text())
        build = _NATIVE.get((package, resource))
        if build is not None and self._use_native:
            self._native[name] = build

    def is_native(self, name: str) -> bool:
        """Whether `render(name)` runs a native mapping (the default template, written as Python)."""
        return name in self._native

    def _set_source(self, name: str, source: Callable[[], str]) -> None:
        # Replacing a template (a user's override of a default mapping) must take effect: forget our
        # compiled copy and Jinja's own cache, which also holds templates that `{% include %}` it.
        self._sources[name] = source
        self._native.pop(name, None)
        self._compiled.clear()
        for env in self._envs.values():
            if env.cache is not None:
                env.cache.clear()

    def names(self) -> list[str]:
        return sorted(self._sources)

    def source(self, name: str) -> str:
        return self._sources[name]()

    def template(self, name: str) -> jinja2.Template:
        tpl = self._compiled.get(name)
        if tpl is None:
            try:
                tpl = self._env(self._format(name)).get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise MappingError(exc.message or "syntax error", template=name, line=exc.lineno) from None
            except jinja2.TemplateNotFound:
                raise MappingError("no such mapping", template=name,
                                   hint=f"known mappings: {', '.join(self.names())}") from None
            self._compiled[name] = tpl
        return tpl

    def render_text(self, name: str, /, record_key: str | None = None, **variables: Any) -> str:
        tpl = self.template(name)
        try:
            return tpl.render(**variables)
        except Exception as exc:  # template code is user code: name where it broke
            where, line = _template_location(name, self._sources)
            message = _describe(exc)
            if where != name:
                message = f"{message} (in {where}" + (f", line {line}" if line else "") + ")"
                line = _template_line(name)
            raise MappingError(mask(message), template=name, line=line, key=record_key) from None

    def render(self, name: str, /, record_key: str | None = None, **variables: Any) -> Any:
        """Render a template and parse its output (JSON into dicts with Decimal numbers)."""
        build = self._native.get(name)
        if build is not None:
            try:
                return build(**variables)
            except Exception:  # noqa: BLE001 - the template says what is wrong, as it would have without us
                self.native_fallbacks[name] = self.native_fallbacks.get(name, 0) + 1
        text = self.render_text(name, record_key, **variables)
        if self._format(name) == "xml":
            return text
        try:
            return jsonutil.loads(text)
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            raise MappingError(f"output is not valid JSON ({exc}); check commas and quoting",
                               template=name, line=None, key=record_key,
                               hint=f"rendered output line {line}: "
                                    f"{text.splitlines()[line - 1].strip()[:120] if line else ''}") from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined value: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


def _template_line(name: str) -> int | None:
    """The line of the template where the current exception was raised. Jinja rewrites the traceback so
    that each template frame's code carries the template's name as its file and the template's line."""
    tb = sys.exc_info()[2]
    line = None
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename == name:
            line = lineno
    return line


def _template_location(name: str, known: Any) -> tuple[str, int | None]:
    """(template, line) of the innermost template frame of the current exception: the rendered template,
    or one it includes, imports or extends."""
    where, line = name, None
    for frame, lineno in traceback.walk_tb(sys.exc_info()[2]):
        filename = frame.f_code.co_filename
        if filename == name or filename in known:
            where, line = filename, lineno
    return where, line
