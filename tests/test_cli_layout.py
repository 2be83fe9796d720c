"""The CLI package's layout, read from the imports: one module per command group, the shared helpers in
`common`, no import circles (a group module never imports another, `common` imports no group, and nothing in
the core outside the CLI imports it)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest


def _cli_imports(path: Path) -> set[str]:
    """The `ledgerlink.cli` modules `path` imports (relative or absolute, at any depth of the module)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:  # from .common import x / from . import dlq
                out.update([node.module] if node.module else [a.name for a in node.names])
            elif node.level == 0 and (node.module or "").startswith("ledgerlink.cli"):
                rest = node.module.removeprefix("ledgerlink.cli").lstrip(".")
                out.update([rest.split(".")[0]] if rest else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[2] for a in node.names if a.name.startswith("ledgerlink.cli."))
    return out


@pytest.fixture(scope="module")
def cli_dir(repo_root) -> Path:
    return repo_root / "core" / "cli"


def test_the_cli_is_a_package_of_command_groups(repo_root, cli_dir):
    assert not (repo_root / "core" / "cli.py").exists() and not (repo_root / "core" / "cli_settlements.py").exists()
    groups = {p.stem for p in cli_dir.glob("*.py")} - {"__init__", "common"}
    assert {"connector", "sync", "dlq", "reconcile", "revisions", "runs", "trace", "settlements"} <= groups
    # the root group adds every group module (and takes its error guard from `common`)
    assert _cli_imports(cli_dir / "__init__.py") - {"common"} == groups


def test_group_modules_import_only_the_shared_helpers(cli_dir):
    problems = []
    for path in sorted(cli_dir.glob("*.py")):
        if path.name == "__init__.py":
            continue
        allowed = set() if path.stem == "common" else {"common"}
        extra = _cli_imports(path) - allowed
        if extra:
            problems.append(f"{path.name} imports {', '.join(sorted(extra))}")
    assert not problems, "\n".join(problems)


def _absolute_imports(path: Path, core: Path) -> list[str]:
    """Every module `path` imports, relative imports resolved against its package inside `ledgerlink`."""
    package = ["ledgerlink", *path.parent.relative_to(core).parts]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            out.extend([module] + [f"{module}.{a.name}" for a in node.names])
    return out


def test_nothing_else_in_the_core_imports_the_cli(repo_root):
    """The CLI sits on top: the core below it never reaches back up (only `python -m ledgerlink` starts it)."""
    core = repo_root / "core"
    importers = [str(path.relative_to(repo_root)) for path in core.rglob("*.py")
                 if path.relative_to(core).parts[0] not in ("cli", "__main__.py")
                 and any(m == "ledgerlink.cli" or m.startswith("ledgerlink.cli.") for m in _absolute_imports(path, core))]
    assert importers == []


def test_a_fresh_interpreter_loads_every_group_and_the_console_script_entry(cli_dir):
    groups = sorted(p.stem for p in cli_dir.glob("*.py") if p.stem != "__init__")
    code = ("import sys; from ledgerlink.cli import cli, main; "
            f"missing = [g for g in {groups!r} if 'ledgerlink.cli.' + g not in sys.modules]; "
            "assert not missing, missing; assert callable(main); print(len(cli.commands))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == 27  # the built-in commands (plugins add theirs in main); issue 21 added health and fleet, issue 19 cogs
