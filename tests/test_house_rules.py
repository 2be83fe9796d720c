"""DESIGN §2, read from the imports: plugins use only ledgerlink's public API and never each other;
the core never imports a plugin; one core module touches pluggy."""

from __future__ import annotations

import ast
from pathlib import Path

import ledgerlink


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def test_plugins_import_only_the_public_api_and_not_each_other(repo_root):
    problems = []
    for plugin_dir in sorted((repo_root / "plugins").iterdir()):
        own = f"ledgerlink_{plugin_dir.name}"
        for path in plugin_dir.rglob("*.py"):
            for module in _imports(path):
                if module.startswith("ledgerlink.") and module != "ledgerlink.protocol":
                    problems.append(f"{path.relative_to(repo_root)} imports private {module}")
                if module.startswith("ledgerlink_") and module.split(".")[0] != own:
                    problems.append(f"{path.relative_to(repo_root)} imports another plugin: {module}")
    assert not problems, "\n".join(problems)


def test_core_never_imports_a_plugin_and_one_module_owns_pluggy(repo_root):
    core = repo_root / "core"
    plugin_imports = [str(p.relative_to(repo_root)) for p in core.rglob("*.py")
                      if any(m.startswith("ledgerlink_") for m in _imports(p))]
    pluggy_users = sorted(str(p.relative_to(core)) for p in core.rglob("*.py") if "pluggy" in _imports(p))
    assert plugin_imports == [] and pluggy_users == ["plugins.py"]


def test_the_public_api_is_explicit():
    assert all(hasattr(ledgerlink, name) for name in ledgerlink.__all__)
