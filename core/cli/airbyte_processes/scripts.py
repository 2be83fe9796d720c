"""The console scripts (`[project.scripts]` in pyproject.toml), one per connector and role."""

from __future__ import annotations

from .names import by_command
from .process import console_script

source_ledgerlink_amazon_sp = console_script(by_command("source-ledgerlink-amazon-sp"))
destination_ledgerlink_amazon_sp = console_script(by_command("destination-ledgerlink-amazon-sp"))
source_ledgerlink_bigcommerce = console_script(by_command("source-ledgerlink-bigcommerce"))
destination_ledgerlink_bigcommerce = console_script(by_command("destination-ledgerlink-bigcommerce"))
source_ledgerlink_qbo = console_script(by_command("source-ledgerlink-qbo"))
destination_ledgerlink_qbo = console_script(by_command("destination-ledgerlink-qbo"))
source_ledgerlink_qbd = console_script(by_command("source-ledgerlink-qbd"))
destination_ledgerlink_qbd = console_script(by_command("destination-ledgerlink-qbd"))
source_ledgerlink_files = console_script(by_command("source-ledgerlink-files"))
