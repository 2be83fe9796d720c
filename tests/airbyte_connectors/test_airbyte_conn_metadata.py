"""Each connector process has what a self-hosted Airbyte needs to add it as a custom connector: a console script
(pyproject), a `connectors/<name>/metadata.yaml` in the registry's format (metadataSpecVersion 1.0), and a
Dockerfile from the ledgerlink base image whose ENTRYPOINT is that script; all agree with the one table
(`ledgerlink.cli.airbyte_processes.names`)."""

from __future__ import annotations

import re
import tomllib
import uuid
from datetime import date
from importlib.metadata import entry_points, version
from urllib.parse import urlparse

import yaml

from airbyte_conn_helpers import REPO
from ledgerlink.cli.airbyte_processes import ENTRY_POINTS
from ledgerlink.plugins import host

CONNECTORS = REPO / "connectors"
#: the `data` keys Airbyte's ConnectorMetadataDefinitionV0 requires, and the values its enums allow
REQUIRED = {"name", "definitionId", "connectorType", "dockerRepository", "dockerImageTag", "license",
            "documentationUrl", "githubIssueLabel", "connectorSubtype", "releaseStage"}
SUBTYPES = {"api", "database", "datalake", "file", "custom", "message_queue", "unknown", "vectorstore"}
RELEASE_STAGES = {"alpha", "beta", "generally_available", "custom"}
SUPPORT_LEVELS = {"community", "certified", "archived"}


#: built-in connectors that are not offered as Airbyte connector processes: the `airbyte` source runs an Airbyte
#: source connector itself (wrapping it again would hand Airbyte its own connector back)
NOT_WRAPPED = {("airbyte", "source")}


def test_every_connector_and_role_has_an_entry_point():
    roles = {(name, role) for name, classes in host().connector_roles().items() for role in classes} - NOT_WRAPPED
    assert {(e.connector, e.role) for e in ENTRY_POINTS} == roles
    assert len({e.command for e in ENTRY_POINTS}) == len(ENTRY_POINTS)
    for entry in ENTRY_POINTS:
        assert entry.command.startswith(f"{entry.role}-ledgerlink-")


def test_the_console_scripts_are_declared_and_installed():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    installed = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    for entry in ENTRY_POINTS:
        target = f"ledgerlink.cli.airbyte_processes.scripts:{entry.command.replace('-', '_')}"
        assert declared[entry.command] == target
        assert installed.get(entry.command) == target, "reinstall: pip install -e ."


def test_metadata_yaml_is_in_the_registry_format():
    folders = sorted(p.name for p in CONNECTORS.iterdir() if p.is_dir())
    assert folders == sorted(e.command for e in ENTRY_POINTS)
    seen_ids = set()
    for entry in ENTRY_POINTS:
        doc = yaml.safe_load((CONNECTORS / entry.command / "metadata.yaml").read_text())
        assert set(doc) == {"metadataSpecVersion", "data"} and doc["metadataSpecVersion"] == "1.0"
        data = doc["data"]
        assert REQUIRED <= set(data), REQUIRED - set(data)
        assert data["connectorType"] == entry.role and data["name"] == entry.title
        assert data["dockerRepository"] == f"ledgerlink/{entry.command}"
        assert data["dockerImageTag"] == version("ledgerlink")
        assert data["githubIssueLabel"] == entry.command
        assert data["connectorSubtype"] in SUBTYPES and data["releaseStage"] in RELEASE_STAGES
        assert data.get("supportLevel", "community") in SUPPORT_LEVELS
        # stable: derived from the name, so it never changes between releases (Airbyte keys connections by it)
        assert data["definitionId"] == str(uuid.uuid5(uuid.NAMESPACE_URL, f"ledgerlink:{entry.command}"))
        seen_ids.add(data["definitionId"])
        url = urlparse(data["documentationUrl"])
        assert url.scheme == "https" and url.netloc
        own = host().connector(entry.connector, entry.role)().spec().documentationUrl
        if own:
            assert data["documentationUrl"] == str(own), "the same page the SPEC names"
        for host_name in data.get("allowedHosts", {}).get("hosts", []):
            assert re.fullmatch(r"[a-z0-9.-]+", host_name), host_name
        if "releaseDate" in data:
            date.fromisoformat(data["releaseDate"])
    assert len(seen_ids) == len(ENTRY_POINTS)


def test_each_dockerfile_runs_its_entry_point_from_the_base_image():
    for entry in ENTRY_POINTS:
        text = (CONNECTORS / entry.command / "Dockerfile").read_text()
        instructions = [line for line in text.splitlines() if line and not line.startswith("#")]
        assert instructions[0] == "FROM ledgerlink:latest"
        assert "USER ledgerlink" in instructions
        assert f'ENTRYPOINT ["{entry.command}"]' in instructions
        # Airbyte's platform reads these to run and label a custom connector's image
        assert f'ENV AIRBYTE_ENTRYPOINT="{entry.command}"' in instructions
        assert f'io.airbyte.name="ledgerlink/{entry.command}"' in text
        assert f'io.airbyte.version="{version("ledgerlink")}"' in text
