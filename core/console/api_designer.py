"""The designer's JSON API, `/api/v1/designer/...` and `/api/v1/pipelines/{p}/designer/...`: the same operations
the designer's pages run (`ledgerlink.designer`), for scripts. A change is a dry run (its diff) unless the body
says `"save": true`; the fields are the designer form's, e.g. `{"section": "options", "fields": {"options.
income_account": "Sales"}, "save": true}`."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from .. import designer
from ..designer.create import connector_choices, connector_schema
from ..designer.forms import form_fields
from ..designer.preview import preview_template, staged_records
from .api import Call, endpoint
from .errors import ApiError, field

__all__ = ["designer_api_routes"]


def _fields(call: Call) -> dict[str, Any]:
    fields = field(call.body, "fields", dict)
    for key, value in fields.items():
        if not isinstance(value, (str, int, float, bool, list)) or isinstance(value, list) and not all(
                isinstance(v, str) for v in value):
            raise ApiError(400, "must be text, a number, true/false or a list of text", where=f"body.fields.{key}")
    return {k: v if isinstance(v, (str, list)) else ("1" if v is True else "" if v is False else str(v))
            for k, v in fields.items()}


@endpoint("viewer")
def list_connectors(call: Call) -> Any:
    host = call.workspace.plugin_host
    return {role: [{"name": c.name, "title": c.title, "plugin": c.plugin} for c in connector_choices(host, role)]
            for role in ("source", "destination")}


@endpoint("viewer")
def connector_form(call: Call) -> Any:
    role, name = call.request.path_params["role"], call.request.path_params["name"]
    if role not in ("source", "destination"):
        raise ApiError(400, f"no connector role {role[:40]!r}", where="role", hint="source or destination")
    schema = connector_schema(call.workspace.plugin_host, name, role)
    return {"schema": schema, "fields": [{"name": f.name, "input": f.input_name, "kind": f.kind, "required": f.required,
                                          "choices": f.choices, "default": f.default, "description": f.description}
                                         for f in form_fields(schema, role)]}


@endpoint("bookkeeper")
def create(call: Call) -> Any:
    outcome = designer.create_pipeline(call.workspace, _fields(call),
                                       save=field(call.body, "save", bool, required=False, default=False),
                                       actor=call.principal.actor)
    if outcome.saved:
        call.audit("pipeline created", target=outcome.path)
    return outcome.to_dict()


@endpoint("viewer")
def show(call: Call) -> Any:
    return designer.designer_view(call.workspace, call.service()).to_dict()


@endpoint("bookkeeper")
def change(call: Call) -> Any:
    section = field(call.body, "section", str)
    if section not in designer.SECTIONS:
        raise ApiError(400, f"no section {section[:40]!r}", where="body.section",
                       hint=f"sections: {', '.join(designer.SECTIONS)}")
    outcome = designer.change_pipeline(call.workspace, call.service(), section, _fields(call),
                                       save=field(call.body, "save", bool, required=False, default=False),
                                       actor=call.principal.actor)
    if outcome.saved:
        call.audit(f"pipeline {section} saved", target=outcome.path)
    return outcome.to_dict()


@endpoint("bookkeeper")
def preview(call: Call) -> Any:
    service = call.service()
    text = field(call.body, "text", str)
    records = field(call.body, "records", list, required=False, default=None)
    if records is None:
        picked = staged_records(service, limit=3)
    else:
        if not records or len(records) > 20 or not all(isinstance(r, str) and "/" in r for r in records):
            raise ApiError(400, "must be a list of 1 to 20 staged records as stream/key", where="body.records")
        picked = [tuple(r.split("/", 1)) for r in records]
    result = preview_template(service, field(call.body, "template", str), text, picked)  # type: ignore[arg-type]
    problem = result.problem
    return {"problem": None if problem is None else problem.__dict__, "revisions": result.revisions,
            "scanned": result.scanned,
            "documents": [{"record": d.record, "stream": d.stream, "key": d.key, "payload": d.payload, "diff": d.diff,
                           "would_revise": d.would_revise, "posted_status": d.posted_status} for d in result.documents]}


def _decide(decision: str) -> Any:
    @endpoint("bookkeeper")
    def decide(call: Call) -> Any:
        chosen = designer.decide_suggestion(call.workspace, call.service(), call.request.path_params["suggestion"],
                                            decision)
        call.audit(f"suggestion {decision}ed", target=f"{chosen.subject} → {chosen.target}")
        return {"decision": decision, **chosen.to_dict()}

    return decide


def designer_api_routes() -> list[Route]:
    p = "/pipelines/{pipeline}/designer"
    return [
        Route("/designer/connectors", list_connectors, methods=["GET"]),
        Route("/designer/connectors/{role}/{name}", connector_form, methods=["GET"]),
        Route("/designer/pipelines", create, methods=["POST"]),
        Route(p, show, methods=["GET"]),
        Route(f"{p}/changes", change, methods=["POST"]),
        Route(f"{p}/preview", preview, methods=["POST"]),
        Route(f"{p}/suggestions/{{suggestion}}/accept", _decide("accept"), methods=["POST"]),
        Route(f"{p}/suggestions/{{suggestion}}/reject", _decide("reject"), methods=["POST"]),
    ]
