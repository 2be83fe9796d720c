"""The plugin guide's options section works as written: the worked third-party plugin declares its options the
same way as the built-in connectors, the guide's code runs, its pipeline loads, and its error text is what
`ledgerlink sync` prints for the typos it shows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from test_docs import env_with, install_example_plugin  # noqa: E402  (the docs tests' own installer)

REPO = Path(__file__).resolve().parents[2]
GUIDE = (REPO / "docs" / "guides" / "plugin.md").read_text()


def _section(title: str) -> str:
    start = GUIDE.index(f"## {title}")
    end = GUIDE.index("\n## ", start + 1)
    return GUIDE[start:end]


def _blocks(text: str, language: str) -> list[str]:
    """Fenced blocks of `language` written in the page itself (not the files it includes), dedented."""
    found = []
    for match in re.finditer(rf"^( *)```{language}[^\n]*\n(.*?)^\1```", text, re.M | re.S):
        indent, body = match.group(1), match.group(2)
        if "--8<--" not in body:
            found.append("".join(line[len(indent):] + "\n" for line in body.splitlines()))
    return found


SECTION = _section("6. A destination and its options")


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    site = install_example_plugin(tmp_path_factory.mktemp("site"))
    work = tmp_path_factory.mktemp("work")
    return work, env_with(site)


def _run(args: list[str], work: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=work, env=env, capture_output=True, text=True, timeout=180)


def test_the_guides_python_runs(plugin):
    work, env = plugin
    [code] = _blocks(SECTION, "python")
    run = _run(["-c", code], work, env)
    assert run.returncode == 0, run.stderr
    assert "destination.options.safety_stok | unknown key 'safety_stok' | did you mean: safety_stock" in run.stdout
    assert "destination.options.count | 'onhand' is not allowed" in run.stdout


def test_the_guides_pipeline_loads_and_its_typos_read_as_the_guide_shows(plugin):
    work, env = plugin
    [pipeline] = _blocks(SECTION, "yaml")
    (work / "shop.yaml").write_text(pipeline)
    loaded = _run(["-c", "import json, ledgerlink\n"
                         "p = ledgerlink.load_pipeline('shop.yaml')\n"
                         "spec = ledgerlink.plugins.host().connector('myshop_stock', 'destination')().spec()\n"
                         "print(json.dumps({'options': p.destination.options,\n"
                         "                  'schema': spec.model_dump()['optionsSpecification']}))"], work, env)
    assert loaded.returncode == 0, loaded.stderr
    found = json.loads(loaded.stdout)
    assert found["options"] == {"safety_stock": 2, "count": "available"}
    assert found["schema"]["properties"]["safety_stock"]["maximum"] == 10_000
    assert found["schema"]["additionalProperties"] is False

    (work / "shop.yaml").write_text(pipeline.replace("safety_stock: 2", "safety_stok: 2")
                                    .replace("count: available", "count: onhand"))
    run = _run(["-m", "ledgerlink", "sync", "shop.yaml"], work, env)
    assert run.returncode == 2, run.stdout + run.stderr
    [shown] = _blocks(SECTION, "text")
    for line in shown.strip().splitlines():
        assert line.strip() in run.stderr, (line, run.stderr)
    assert not (work / ".ledgerlink").exists()  # nothing staged: no state file was even created
