"""`ledgerlink_airbyte_source`: any Airbyte source connector (an `airbyte-source-*` package, or any executable
speaking the Airbyte protocol) run as a child process and read as a ledgerlink source.

The user supplies the normalisers that turn its streams into canonical objects; `examples/` maps
`airbyte-source-faker`'s purchases to orders. See docs/guides/airbyte-sources.md."""
