"""`ledgerlink health`: the container's HEALTHCHECK — exit 0 when every check passes, 1 otherwise."""

from __future__ import annotations

import sys

import click

from .. import jsonutil


@click.command()
@click.option("--url", help="A console to ask (its /healthz); default: LEDGERLINK_HEALTH_URL, else none.")
@click.option("--timeout", type=click.FloatRange(0.1, 60), default=5.0, show_default=True,
              help="Seconds to wait for the console.")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as one JSON line.")
def health(url: str | None, timeout: float, as_json: bool) -> None:
    """Check this process's data folder, secret key and (with --url) console; exit 1 when one fails."""
    from ..health import check_health

    checks = check_health(url, timeout)
    ok = all(c.ok for c in checks)
    if as_json:
        click.echo(jsonutil.dumps({"ok": ok, "checks": [c.to_dict() for c in checks]}))
    else:
        for c in checks:
            click.echo(f"{'ok' if c.ok else 'FAILED'}  {c.name}: {c.detail}")
    sys.exit(0 if ok else 1)
