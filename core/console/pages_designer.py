"""The console's pipeline designer pages: HTML over `ledgerlink.designer` (which holds all the logic). Viewers see
every pipeline's settings read-only; bookkeepers create pipelines, edit posting options and grids, accept or
reject suggestions and edit mapping templates. Every change shows its diff first (`action=diff`), and is written
by `action=save`. Forms work without JavaScript; htmx swaps the diff, the check results and the preview in."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import designer
from ..designer.create import connector_choices, connector_schema, shipped_examples
from ..designer.actions import file_version
from ..designer.forms import form_fields
from ..designer.preview import preview_template, staged_records, template_source
from ..errors import LedgerlinkError
from .auth import Principal
from .errors import ApiError, error_response
from .pages import _context, _error_page, _render, page

__all__ = ["designer_page_routes"]

#: the one form field allowed to be long: a mapping template's text
MAX_TEMPLATE = 200_000


def _outcome_page(request: Request, principal: Principal | None, exc: Exception) -> Response:
    """An action's error, rendered where its result goes (the htmx target), with the API's status."""
    status = error_response(exc).status_code
    if not isinstance(exc, (ApiError, LedgerlinkError)):
        return _error_page(request, exc, principal)
    message = getattr(exc, "message", None) or str(exc)
    where = getattr(exc, "where", None)
    if where and message.startswith(f"{where}: "):
        message = message[len(where) + 2:]
    return _render(request, "designer_outcome.html", code=status, user=principal, error=message, where=where,
                   hint=getattr(exc, "hint", None), outcome=None, can_act=False, pipelines=[])


def designer_page(role: str = "viewer", *, action: bool = False) -> Callable[..., Any]:
    """As pages.page, with the template text allowed beyond the usual field length; an action's error is shown in
    the page's result area."""
    return page(role, action=action, long_fields={"text": MAX_TEMPLATE}, action_error=_outcome_page)


def _workspace(request: Request) -> Any:
    return request.app.state.workspace


def _served(request: Request) -> Any:
    return _workspace(request).service(request.path_params["pipeline"])


def _save_asked(form: dict[str, Any]) -> bool:
    action = form.get("action") or "diff"
    if action not in ("diff", "save"):
        raise ApiError(400, f"no action {str(action)[:40]!r}", where="form.action", hint="diff or save")
    return action == "save"


# -- the list and a new pipeline ---------------------------------------------------------------------------------

@designer_page()
def designer_index(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    host = _workspace(request).plugin_host
    rows = [{"name": s.pipeline.name, "source": s.pipeline.source.connector,
             "destination": s.pipeline.destination.connector, "file": str(s.source_file)}
            for s in (_workspace(request).services[n] for n in sorted(_workspace(request).services))]
    return _render(request, "designer_index.html", **_context(
        request, principal, rows=rows, sources=connector_choices(host, "source"),
        destinations=connector_choices(host, "destination")))


@designer_page("bookkeeper")
def designer_new(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    host = _workspace(request).plugin_host
    source = request.query_params.get("source", "")
    destination = request.query_params.get("destination", "")
    if not source or not destination:
        raise ApiError(400, "choose a source and a destination", where="query parameter " +
                       ("source" if not source else "destination"), hint="pick them on the designer page")
    forms = {"source": form_fields(connector_schema(host, source, "source"), "source"),
             "destination": form_fields(connector_schema(host, destination, "destination"), "destination")}
    return _render(request, "designer_new.html", **_context(request, principal, source=source,
                                                            destination=destination, forms=forms,
                                                            examples=list(shipped_examples(source, destination))))


@designer_page("bookkeeper", action=True)
def designer_create(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    save = _save_asked(form)
    outcome = designer.create_pipeline(_workspace(request), form, save=save, actor=principal.actor)
    if outcome.saved:
        _workspace(request).audit.record(principal.actor, "pipeline created", pipeline=str(form.get("name")),
                                         target=outcome.path)
    return _render(request, "designer_outcome.html", code=200 if outcome.ok else 422,
                   **_context(request, principal, outcome=outcome, created=str(form.get("name"))))


# -- one pipeline ------------------------------------------------------------------------------------------------

@designer_page()
def designer_pipeline(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    service = _served(request)
    view = designer.designer_view(_workspace(request), service, refresh=request.query_params.get("refresh") == "1")
    return _render(request, "designer_pipeline.html", **_context(request, principal, view=view))


def _change(section: str) -> Callable[..., Any]:
    @designer_page("bookkeeper", action=True)
    def change(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
        service = _served(request)
        fields = {k: v for k, v in form.items() if k not in ("csrf_token", "action")}
        save = _save_asked(form)
        outcome = designer.change_pipeline(_workspace(request), service, section, fields, save=save,
                                           actor=principal.actor)
        if outcome.saved:
            _workspace(request).audit.record(principal.actor, f"pipeline {section} saved",
                                             pipeline=service.pipeline.name, target=outcome.path)
        return _render(request, "designer_outcome.html", code=200 if outcome.ok else 422,
                       **_context(request, principal, outcome=outcome, pipeline=service.pipeline.name))

    change.__name__ = f"designer_{section}"
    return change


def _suggestion(decision: str) -> Callable[..., Any]:
    @designer_page("bookkeeper", action=True)
    def decide(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
        service = _served(request)
        chosen = designer.decide_suggestion(_workspace(request), service, request.path_params["suggestion"], decision)
        _workspace(request).audit.record(principal.actor, f"suggestion {decision}ed", pipeline=service.pipeline.name,
                                         target=f"{chosen.subject} → {chosen.target}")
        return RedirectResponse(f"/designer/{quote(service.pipeline.name)}#{chosen.kind}", status_code=303)

    decide.__name__ = f"designer_suggestion_{decision}"
    return decide


# -- templates ---------------------------------------------------------------------------------------------------

@designer_page()
def designer_template(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    service = _served(request)
    name = request.path_params["template"]
    return _render(request, "designer_template.html", **_context(
        request, principal, pipeline=service.pipeline.name, template_name=name, text=template_source(service, name),
        records=staged_records(service), overridden=name in service.pipeline.destination.mappings,
        base=file_version(Path(service.source_file).read_text(encoding="utf-8"))))


def _picked(form: dict[str, Any]) -> list[tuple[str, str]]:
    raw = form.get("records")
    values = raw if isinstance(raw, list) else [] if raw is None else [raw]
    out = []
    for v in values[:20]:
        stream, sep, key = str(v).partition("/")
        if not sep or not stream or not key:
            raise ApiError(400, f"{str(v)[:60]!r} is not a staged record (stream/key)", where="form.records",
                           hint="tick records from the list")
        out.append((stream, key))
    if not out:
        raise ApiError(400, "pick at least one staged record", where="form.records",
                       hint="tick the records to preview the template on")
    return out


@designer_page("bookkeeper", action=True)
def designer_preview(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    service = _served(request)
    text = form.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "is required", where="form.text", hint="the template's text")
    result = preview_template(service, request.path_params["template"], text.replace("\r\n", "\n"), _picked(form))
    return _render(request, "designer_preview.html", code=422 if result.problem else 200,
                   **_context(request, principal, result=result, lines=text.splitlines()))


@designer_page("bookkeeper", action=True)
def designer_template_save(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    fields = {"template": request.path_params["template"], "text": form.get("text"), "base": form.get("base")}
    service = _served(request)
    outcome = designer.change_pipeline(_workspace(request), service, "template", fields, save=_save_asked(form))
    if outcome.saved:
        _workspace(request).audit.record(principal.actor, "mapping template saved", pipeline=service.pipeline.name,
                                         target=request.path_params["template"])
    return _render(request, "designer_outcome.html", **_context(request, principal, outcome=outcome,
                                                                pipeline=service.pipeline.name))


def designer_page_routes() -> list[Route]:
    p = "/designer/{pipeline}"
    return [
        Route("/designer", designer_index, methods=["GET"]),
        Route("/designer/new", designer_new, methods=["GET"]),
        Route("/designer/new", designer_create, methods=["POST"]),
        Route(p, designer_pipeline, methods=["GET"]),
        Route(f"{p}/options", _change("options"), methods=["POST"]),
        Route(f"{p}/roles", _change("roles"), methods=["POST"]),
        Route(f"{p}/items", _change("items"), methods=["POST"]),
        Route(f"{p}/connection", _change("connection"), methods=["POST"]),
        Route(f"{p}/suggestions/{{suggestion}}/accept", _suggestion("accept"), methods=["POST"]),
        Route(f"{p}/suggestions/{{suggestion}}/reject", _suggestion("reject"), methods=["POST"]),
        Route(f"{p}/templates/{{template}}", designer_template, methods=["GET"]),
        Route(f"{p}/templates/{{template}}", designer_template_save, methods=["POST"]),
        Route(f"{p}/templates/{{template}}/preview", designer_preview, methods=["POST"]),
    ]
