"""`ledgerlink connect PIPELINE`: connect a pipeline's account from a terminal, through the `ledgerlink serve`
that holds it (the console's Connections page is the same operation in a browser).

OAuth accounts (QuickBooks Online, Amazon): prints the vendor's consent URL, then waits for the address the
browser was sent back to (pasted, or given with `--callback-url`) and finishes the connection with it. Form
accounts (BigCommerce, QuickBooks Desktop): asks for each field (secrets without echo) or takes `--value`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import click

from ..errors import ConfigError, LedgerlinkError
from .common import fail, served

__all__ = ["connect"]


def _values(given: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--value {item[:40]!r} is not NAME=VALUE", where="--value",
                              hint="e.g. --value application_id=amzn1.sp.solution.…")
        out[name.strip()] = value
    return out


def _callback_params(address: str) -> dict[str, str]:
    params = dict(parse_qsl(urlsplit(address.strip()).query))
    if "state" not in params:
        raise ConfigError("that address carries no state: paste the whole address the browser was sent back to",
                          where="--callback-url", hint="it starts with the redirect URI and ends with …&state=…")
    return params


@click.command("connect")
@click.argument("pipeline", type=click.Path(dir_okay=False))
@click.option("--role", type=click.Choice(["source", "destination"]), default="destination", show_default=True,
              help="Which side's account to connect.")
@click.option("--value", "values", multiple=True, metavar="NAME=VALUE",
              help="A field of the connection (repeatable); fields not given are asked for.")
@click.option("--callback-url", help="The address the vendor sent the browser back to (finishes a started "
                                     "connection without asking).")
@click.option("--redirect-uri", help="Where the vendor should send the browser back (default: the console's "
                                     "/connections/callback).")
def connect(pipeline: str, role: str, values: tuple[str, ...], callback_url: str | None,
            redirect_uri: str | None) -> None:
    """Connect PIPELINE's source or destination account (through the `ledgerlink serve` holding it)."""
    try:
        client = served(pipeline)
        if client is None:
            raise ConfigError(f"no `ledgerlink serve` holds {pipeline}", where="PIPELINE",
                              hint="connecting goes through the console: start `ledgerlink serve --workspace FOLDER` "
                                   "(or on the pipeline file) and run this again, or use its Connections page")
        given = _values(values)
        if callback_url is not None:
            done = client.post("/connections/finish", {"params": _callback_params(callback_url)})
            return _report(done)
        slots = {s["role"]: s for s in client.get("/connections")}
        slot = slots.get(role)
        if slot is None:
            raise ConfigError(f"the {role} of this pipeline has no account to connect", where="--role",
                              hint=f"connectable: {', '.join(sorted(slots)) or 'none'}")
        for field in slot["fields"]:
            if field["name"] not in given:
                given[field["name"]] = click.prompt(field["label"], default=field["default"] or None,
                                                    hide_input=field["secret"], show_default=not field["secret"],
                                                    err=True) if field["required"] or field["default"] else ""
        if slot["kind"] != "oauth":
            return _report(client.post(f"/connections/{role}", {"values": given}))
        body: dict[str, Any] = {"values": given}
        if redirect_uri:
            body["redirect_uri"] = redirect_uri
        started = client.post(f"/connections/{role}/start", body)
        click.echo("Open this address in a browser and allow access:", err=True)
        click.echo(started["authorize_url"])
        click.echo(f"The vendor then sends the browser to {started['redirect_uri']}?…", err=True)
        address = click.prompt("Paste that whole address here", err=True)
        _report(client.post("/connections/finish", {"params": _callback_params(address)}))
    except LedgerlinkError as exc:
        fail(exc)


def _report(done: dict[str, Any]) -> None:
    click.echo(f"{done['label']} is connected; pipelines using it: {', '.join(done['pipelines'])}")
