"""The `ledgerlink` command line (placeholder until the runtime lands)."""

import click


@click.group()
def cli() -> None:
    """ledgerlink: keeps an online store's books right."""


def main() -> None:
    cli()
