"""What the designer does, once, for both of its clients (the console's pages and the JSON API): create a pipeline
from forms, change one section of a served pipeline (posting options, the role grid, the item grid, a mapping
template), preview a template, and accept or reject a suggestion. Every change is first a diff; `save` writes it
all or nothing through `save_pipeline` and hands the served pipeline its new settings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..connect.references import forget_pipeline_secrets, pipeline_secret_name, secret_reference, \
    store_pipeline_secrets
from ..errors import ConfigError, MappingError
from ..secrets import secret_paths
from .create import (CheckOutcome, check_config, connector_schema, new_pipeline_path, serve_new_pipeline,
                     shipped_examples, store_rotated)
from .connection import connection_changes
from .forms import SECRET_KEPT, FormProblem, read_form
from .grids import FileChanges, role_grid_changes, sku_grid_changes
from .options import options_changes, options_schema
from .pipeline_file import edit_pipeline_text, new_pipeline_text, pipeline_diff, save_pipeline
from .preview import preview_template, staged_records, template_names
from .suggestions import accept, inline_suggestions, reject, staged_from_store

__all__ = ["file_version", "Outcome", "create_pipeline", "change_pipeline", "SECTIONS", "decide_suggestion", "form_error"]

SECTIONS = ("options", "roles", "items", "template", "connection")
#: where a pipeline's own template files go, relative to its file
TEMPLATE_FOLDER = "mappings"


@dataclass
class Outcome:
    """A change as the person sees it before (and after) saving."""

    diff: str
    saved: bool = False
    path: str | None = None
    checks: list[CheckOutcome] = field(default_factory=list)
    #: other files the change writes (role file, template file): path → their diff
    files: dict[str, str] = field(default_factory=dict)
    #: the pipeline file's version after a save (the page's next save is made against it)
    base: str | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"diff": self.diff, "saved": self.saved, "path": self.path, "files": self.files, "base": self.base,
                "checks": [{"role": c.role, "connector": c.connector, "ok": c.ok, "message": c.message}
                           for c in self.checks]}


def form_error(exc: FormProblem) -> ConfigError:
    return ConfigError(exc.message, where=f"form.{exc.input_name}", hint="nothing was saved")


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name)
    if isinstance(value, list):
        value = value[-1]
    return "" if value is None else str(value).strip()


def _secret_values(schema: dict[str, Any], config: dict[str, Any]) -> list[str]:
    return [str(config[p[0]]) for p in secret_paths(schema) if len(p) == 1 and config.get(p[0])
            and "${" not in str(config[p[0]])]  # a ${VARIABLE} is no secret: the diff shows it


def create_pipeline(workspace: Any, form: dict[str, Any], *, save: bool, actor: str = "designer") -> Outcome:
    """A new pipeline from the designer's form: `name`, `source`, `destination`, `source.<key>` and
    `destination.<key>` config fields. Both connectors are checked; only when both pass and `save` is asked is the
    file written (and served). A field missing or of the wrong type is a ConfigError naming it."""
    host = workspace.plugin_host
    name = _text(form, "name")
    source, destination = _text(form, "source"), _text(form, "destination")
    for key, value in (("source", source), ("destination", destination)):
        if not value:
            raise ConfigError("is required", where=f"form.{key}", hint=f"choose the {key} connector")
    allowed = {"name", "source", "destination", "csrf_token", "action", "streams", "example"}
    for key in form:
        if key not in allowed and not key.startswith(("source.", "destination.")):
            raise ConfigError(f"unknown field {key!r}", where=f"form.{key}", hint="nothing was saved")
    path = new_pipeline_path(workspace.root, name, set(workspace.services))
    schemas = {"source": connector_schema(host, source, "source"),
               "destination": connector_schema(host, destination, "destination")}
    try:
        configs = {role: read_form(schemas[role], form, role) for role in ("source", "destination")}
    except FormProblem as exc:
        raise form_error(exc) from None
    streams = [s.strip() for s in _text(form, "streams").replace("\n", ",").split(",") if s.strip()] or None
    examples = shipped_examples(source, destination)
    example = _text(form, "example")
    if example and example not in examples:
        raise ConfigError(f"{example!r} is not a shipped example from {source} to {destination}", where="form.example",
                          hint=f"examples: {', '.join(examples) or 'none'}; or leave it empty")
    # every secret typed goes to the encrypted store; the file names it (`${secret:…}`) and never holds it
    typed = {role: typed_secrets(schemas[role], configs[role]) for role in ("source", "destination")}
    stored = {pipeline_secret_name(name, role, key): value for role in typed for key, value in typed[role].items()}
    in_file = {role: {**configs[role], **{key: secret_reference(pipeline_secret_name(name, role, key))
                                          for key in typed[role]}} for role in typed}
    text = new_pipeline_text(name, source, in_file["source"], destination, in_file["destination"], streams=streams,
                             example=examples.get(example))
    secrets = _secret_values(schemas["source"], configs["source"]) + _secret_values(schemas["destination"],
                                                                                   configs["destination"])
    outcome = Outcome(pipeline_diff("", text, path.name, secrets), path=str(path))
    outcome.checks = [check_config(host, "source", source, configs["source"]),
                      check_config(host, "destination", destination, configs["destination"])]
    if save and outcome.ok:
        store_pipeline_secrets(path.parent, name, stored, actor)
        try:
            pipeline = save_pipeline(path, text)
        except BaseException:
            forget_pipeline_secrets(path.parent, name, list(stored))  # nothing saved half-way
            raise
        store_rotated(pipeline.state_path, pipeline.credentials_path, outcome.checks)
        serve_new_pipeline(workspace, path)
        outcome.saved = True
    return outcome


def typed_secrets(schema: dict[str, Any], config: dict[str, Any]) -> dict[str, str]:
    """The secrets of a config typed as values (not `${VARIABLE}` or `${secret:…}` references), by key."""
    return {p[0]: str(config[p[0]]) for p in secret_paths(schema)
            if len(p) == 1 and isinstance(config.get(p[0]), str) and config[p[0]] and "${" not in config[p[0]]}


def _section_changes(service: Any, section: str, form: dict[str, Any]) -> tuple[FileChanges, dict[Path, str]]:
    pipeline = service.pipeline
    options = dict(pipeline.destination.options)
    templates: dict[Path, str] = {}
    if section == "options":
        schema = options_schema(service.plugin_host.connector(pipeline.destination.connector, "destination"))
        try:
            return FileChanges(pipeline=options_changes(schema, options, form)), templates
        except FormProblem as exc:
            raise form_error(exc) from None
    if section == "roles":
        return role_grid_changes(form, options, pipeline.base_dir, pipeline.name), templates
    if section == "items":
        return sku_grid_changes(form, options), templates
    if section == "template":
        name = _text(form, "template")
        if name not in template_names(service):
            raise ConfigError(f"no mapping named {name!r}" if name else "is required", where="form.template",
                              hint=f"mappings: {', '.join(template_names(service))}")
        body = form.get("text")
        if not isinstance(body, str) or not body.strip():
            raise ConfigError("is required", where="form.text", hint="the template's text; nothing was saved")
        named = pipeline.destination.mappings.get(name)
        changes = FileChanges()
        if named:
            target = Path(named) if Path(named).is_absolute() else pipeline.base_dir / named
        else:
            relative = f"{TEMPLATE_FOLDER}/{pipeline.name}/{name}"
            target = pipeline.base_dir / relative
            changes.pipeline[("destination", "mappings", name)] = relative
        templates[target] = body.replace("\r\n", "\n")
        return changes, templates
    raise ConfigError(f"no designer section {section!r}", where="section", hint=f"sections: {', '.join(SECTIONS)}")


def file_version(text: str) -> str:
    """What a page remembers of the file it showed, so a save over someone else's newer save is refused."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def change_pipeline(workspace: Any, service: Any, section: str, form: dict[str, Any], *, save: bool,
                    actor: str = "designer") -> Outcome:
    """One section's change to a served pipeline: the diff of every file it touches, saved when asked."""
    path = Path(service.source_file)
    old = path.read_text(encoding="utf-8")
    form = dict(form)
    base = form.pop("base", None)
    if base and base != file_version(old):
        raise ConfigError(f"{path.name} changed since this page was opened (someone saved, or it was edited)",
                          where="form.base", hint="reload the page to see the file as it is now; nothing was saved")
    connection = None
    if section == "connection":  # connection settings: new secrets to the store, each changed side checked
        connection = connection_changes(service.plugin_host, service.pipeline.name, old, form, path.parent)
        changes, templates = FileChanges(pipeline=connection.changes), {}
    else:
        changes, templates = _section_changes(service, section, form)
    new = edit_pipeline_text(old, changes.pipeline) if changes.pipeline else old
    outcome = Outcome(pipeline_diff(old, new, path.name, connection.hidden if connection else ()), path=str(path))
    if connection is not None:
        outcome.checks = connection.checks
        if connection.secrets:  # what saving stores beside the file (never the values)
            outcome.files["encrypted credential store"] = "".join(
                f"+{name}: {SECRET_KEPT}\n" for name in sorted(connection.secrets))
    extra = {**changes.files, **templates}
    for target, text in extra.items():
        before = target.read_text(encoding="utf-8") if target.exists() else ""
        rel = target.relative_to(path.parent) if target.is_relative_to(path.parent) else target
        outcome.files[str(rel)] = pipeline_diff(before, text, str(rel))
    if save and section == "template":
        _render_staged(service, *next(iter(templates.items())), form)
    if save:
        if not outcome.diff and not any(outcome.files.values()):
            raise ConfigError("nothing to save: the form says what the files already say", where=f"form.{section}")
        if not outcome.ok:
            return outcome  # a failing check is shown; nothing is saved
        for target in templates:
            target.parent.mkdir(parents=True, exist_ok=True)
        secrets = connection.secrets if connection else {}
        store_pipeline_secrets(path.parent, service.pipeline.name, secrets, actor)
        try:
            pipeline = save_pipeline(path, new, extra)
        except BaseException:
            forget_pipeline_secrets(path.parent, service.pipeline.name, list(secrets))
            raise
        if connection is not None:  # what a check rotated goes where the served pipeline reads it (its open state)
            for check in connection.checks:
                for secret, value in check.rotated.items():
                    service.store.credentials.save(secret, value)
        service.pipeline = pipeline  # the next sync uses the saved settings (and replans what they change)
        outcome.saved = True
        outcome.base = file_version(new)
    return outcome


def _render_staged(service: Any, target: Path, text: str, form: dict[str, Any]) -> None:
    """A template is saved only when it renders the staged records it is shown with (an undefined variable is
    found here, not by the next sync): the first problem is a MappingError naming the line."""
    name = _text(form, "template")
    picked = staged_records(service, limit=5)
    result = preview_template(service, name, text, picked, scan=0)
    if result.problem is not None:
        p = result.problem
        raise MappingError(p.message, template=p.template, line=p.line, key=p.record,
                           hint="fix the template and preview it again; nothing was saved")


def decide_suggestion(workspace: Any, service: Any, suggestion_id: str, decision: str) -> Any:
    pipeline = service.pipeline
    report = inline_suggestions(staged_from_store(service.store), dict(pipeline.destination.options),
                                pipeline=pipeline.name, workspace=workspace.root, base_dir=pipeline.base_dir)
    act = accept if decision == "accept" else reject
    return act(report, suggestion_id, pipeline=pipeline.name, workspace=workspace.root)
