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


def _resolved_imports(path: Path, package_root: Path, package: str) -> set[str]:
    """Modules `path` imports, relative imports resolved against its place in `package`."""
    here = [package, *path.parent.relative_to(package_root).parts]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
    return found


def test_each_plugins_connector_code_never_imports_its_emulator(repo_root):
    """DESIGN §2: a reader knows at a glance what runs against the real vendor. Only registration (plugin.py)
    and the package's re-exports (__init__.py) may reach into sandbox/."""
    problems, seen = [], 0
    for plugin_dir in sorted((repo_root / "plugins").iterdir()):
        if not (plugin_dir / "sandbox" / "__init__.py").exists():
            # a plugin with no remote system to emulate (the `airbyte` source runs local processes) has none
            if "register_sandboxes" in (plugin_dir / "plugin.py").read_text():
                problems.append(f"{plugin_dir.name} has no sandbox/ subpackage")
            continue
        package = f"ledgerlink_{plugin_dir.name}"
        for path in plugin_dir.rglob("*.py"):
            rel = path.relative_to(plugin_dir)
            if rel.parts[0] == "sandbox" or str(rel) in ("__init__.py", "plugin.py"):
                continue
            seen += 1
            bad = sorted(m for m in _resolved_imports(path, plugin_dir, package) if m.startswith(f"{package}.sandbox"))
            if bad:
                problems.append(f"{plugin_dir.name}/{rel} imports its emulator: {bad}")
    assert seen > 30 and not problems, "\n".join(problems)


def test_every_package_folder_is_listed_for_the_wheel(repo_root):
    """A subpackage missing from pyproject's list works in an editable install and is absent from the wheel."""
    import tomllib

    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(project["packages"])
    roots = {name: repo_root / folder for name, folder in project["package-dir"].items()}
    on_disk = set()
    for name, root in roots.items():
        for init in root.rglob("__init__.py"):
            parts = init.parent.relative_to(root).parts
            if "plugin-example" in parts:
                continue
            on_disk.add(".".join([name, *parts]))
    assert on_disk - listed == set(), f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
