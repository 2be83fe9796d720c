"""The documentation site builds strictly, every installed connector gets a generated page (a third party's
too), and the worked plugin of the plugin guide really works."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "plugin-example"

needs_mkdocs = pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None,
    reason="mkdocs and mkdocs-material are not installed: pip install -e '.[docs]'")


def install_example_plugin(site: Path) -> Path:
    """Install docs/plugin-example as a distribution (package + dist-info with its entry point) into `site`."""
    shutil.copytree(EXAMPLE / "ledgerlink_myshop", site / "ledgerlink_myshop")
    info = site / "ledgerlink_myshop-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ledgerlink-myshop\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[ledgerlink]\nmyshop = ledgerlink_myshop.plugin\n")
    return site


def env_with(site: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERLINK_")}
    environ["PYTHONPATH"] = os.pathsep.join([str(site)] + ([environ["PYTHONPATH"]] if environ.get("PYTHONPATH") else []))
    environ["NO_MKDOCS_2_WARNING"] = "1"
    return environ


def installed_connectors(environ: dict[str, str]) -> set[str]:
    """Connector names the plugin host finds in a process with this environment."""
    out = subprocess.run([sys.executable, "-c", "from ledgerlink.plugins import PluginHost\n"
                          "print('\\n'.join(PluginHost().connector_roles()))"],
                         env=environ, capture_output=True, text=True, timeout=120, check=True)
    return set(out.stdout.split())


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess, set[str]]:
    """The site built strictly, with the worked third-party plugin installed beside the built-in ones."""
    plugin_site = install_example_plugin(tmp_path_factory.mktemp("plugin-site"))
    out = tmp_path_factory.mktemp("site")
    environ = env_with(plugin_site)
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                           cwd=REPO, env=environ, capture_output=True, text=True, timeout=600)
    return out, build, installed_connectors(environ)


@needs_mkdocs
def test_the_docs_build_strictly(site):
    out, build, _ = site
    assert build.returncode == 0, build.stdout + build.stderr
    assert (out / "index.html").exists()


@needs_mkdocs
def test_every_registered_connector_has_a_generated_page(site):
    out, build, connectors = site
    assert build.returncode == 0, build.stdout + build.stderr
    assert {"qbo", "qb_desktop", "amazon_sp", "bigcommerce", "files", "myshop"} <= connectors
    missing = [name for name in sorted(connectors) if not (out / "connectors" / name / "index.html").exists()]
    assert not missing, f"no generated page for {missing}"
    overview = (out / "connectors" / "index.html").read_text()
    assert all(f'href="{name}/"' in overview for name in connectors)


@needs_mkdocs
def test_a_third_party_connector_page_shows_its_spec_and_sandbox(site):
    out, build, _ = site
    assert build.returncode == 0, build.stdout + build.stderr
    page = (out / "connectors" / "myshop" / "index.html").read_text()
    for text in ("api_key", "page_size", "orders per page", "secret", "ledgerlink-myshop", "ledgerlink sandbox myshop",
                 "seeded orders"):
        assert text in page, f"{text!r} missing from the myshop page"


@needs_mkdocs
def test_a_destination_page_shows_its_options_model_and_shared_sections(site):
    out, build, _ = site
    assert build.returncode == 0, build.stdout + build.stderr
    page = (out / "connectors" / "qbo" / "index.html").read_text()
    for text in ("realm_id", "customer_strategy", "options.settlements", "options.returns", "options.inventory",
                 "restock_account", "drift_threshold"):
        assert text in page, f"{text!r} missing from the qbo page"


def test_the_plugin_guides_example_passes_its_own_tests(tmp_path):
    """The plugin guide shows these files verbatim; their tests must pass as a user would run them."""
    plugin_site = install_example_plugin(tmp_path / "site")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                          str(EXAMPLE / "tests")], cwd=tmp_path, env=env_with(plugin_site),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "6 passed" in run.stdout


def test_the_example_plugin_is_found_through_its_entry_point(tmp_path):
    connectors = installed_connectors(env_with(install_example_plugin(tmp_path / "site")))
    assert "myshop" in connectors


def test_the_readme_keeps_the_two_quickstart_commands():
    text = (REPO / "README.md").read_text()
    assert "pip install -e . && ledgerlink demo\npip install -e '.[test]' && pytest -n 2\n" in text
    assert "mkdocs serve" in text
