"""Small helpers shared by the core tests: a fake clock, the Airbyte schema, isolated secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
AIRBYTE_YAML = REFERENCE / "airbyte-protocol" / "airbyte_protocol.v0.yaml"


class FakeClock:
    """A monotonic clock that only moves when told to, or when `sleep` is called."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def airbyte_schema() -> dict:
    yaml = pytest.importorskip("yaml")
    if not AIRBYTE_YAML.exists():
        pytest.skip(f"reference schema missing: {AIRBYTE_YAML}")
    return yaml.safe_load(AIRBYTE_YAML.read_text())


@pytest.fixture(scope="session")
def airbyte_validator(airbyte_schema):
    """validate(instance, definition="AirbyteMessage"): raises with every schema error listed."""
    import jsonschema

    cls = jsonschema.validators.validator_for(airbyte_schema)
    validators = {}

    def validate(instance, definition: str = "AirbyteMessage") -> None:
        if definition not in validators:
            # The whole document is the root, so `#/definitions/...` refs resolve.
            root = {k: v for k, v in airbyte_schema.items() if k not in ("properties", "type", "title")}
            root["$ref"] = f"#/definitions/{definition}"
            validators[definition] = cls(root)
        errors = sorted(validators[definition].iter_errors(instance), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)

    return validate


@pytest.fixture
def isolated_secrets(monkeypatch):
    """Secrets registered during the test are forgotten afterwards (the registry is process-wide)."""
    from ledgerlink import secrets

    monkeypatch.setattr(secrets, "_values", set(secrets._values))
    monkeypatch.setattr(secrets, "_pattern", secrets._pattern)
    return secrets


def install_distribution(site: Path, name: str, version: str, entry_points: dict[str, str],
                         files: dict[str, str]) -> Path:
    """Lay out an installed distribution in `site` as pip would: its modules plus a `*.dist-info` with
    METADATA and `entry_points.txt` (group `ledgerlink`), so importlib.metadata finds it on sys.path /
    PYTHONPATH without touching the real site-packages."""
    import textwrap

    site.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(
        "[ledgerlink]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))
    (info / "top_level.txt").write_text("\n".join(sorted({r.split("/")[0] for r in files})) + "\n")
    return site


@pytest.fixture(scope="session")
def make_distribution():
    """`install_distribution` as a fixture, so test modules need not import this conftest by name."""
    return install_distribution


@pytest.fixture
def fresh_host(monkeypatch):
    """The process-wide plugin host is forgotten before and after the test."""
    from ledgerlink import plugins

    for var in ("LEDGERLINK_LOAD_PLUGINS", "LEDGERLINK_DISABLE_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    plugins.reset_host()
    yield plugins
    plugins.reset_host()
