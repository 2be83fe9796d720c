"""The package layout the plugin README promises: the connector code that runs against the real QuickBooks
Online never imports the emulator in `ledgerlink_qbo.sandbox`, and the emulator never imports the connector."""

from __future__ import annotations

import ast
from pathlib import Path

import ledgerlink_qbo

PACKAGE = Path(ledgerlink_qbo.__file__).parent
# registration and the package's public re-export are the only doors from the connector to the emulator
DOORS = {"__init__.py", "plugin.py"}


def _absolute_imports(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved against its place in ledgerlink_qbo."""
    here = ["ledgerlink_qbo", *path.parent.relative_to(PACKAGE).parts]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _connector_modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "sandbox" not in p.relative_to(PACKAGE).parts and p.name not in DOORS]


def test_the_connector_code_never_imports_the_emulator():
    modules = _connector_modules()
    assert len(modules) > 10  # the walk found the package, plans/ included
    offenders = {str(p.relative_to(PACKAGE)): sorted(m for m in _absolute_imports(p)
                                                      if m.startswith("ledgerlink_qbo.sandbox"))
                 for p in modules}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_emulator_imports_nothing_of_the_connector():
    emulator = list((PACKAGE / "sandbox").rglob("*.py"))
    assert {p.name for p in emulator} >= {"server.py", "company.py", "seed.py", "query.py"}
    offenders = {p.name: sorted(m for m in _absolute_imports(p)
                                if m.startswith("ledgerlink_qbo.") and not m.startswith("ledgerlink_qbo.sandbox"))
                 for p in emulator}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_import_resolver_sees_relative_imports():
    """Guards the two tests above against passing vacuously: known imports resolve to their absolute names."""
    assert "ledgerlink_qbo.plans.orders" in _absolute_imports(PACKAGE / "destination.py")
    assert "ledgerlink_qbo.sandbox.company" in _absolute_imports(PACKAGE / "sandbox" / "server.py")
    assert "ledgerlink_qbo.sandbox.QuickBooksOnlineSandbox" in _absolute_imports(PACKAGE / "plugin.py")
