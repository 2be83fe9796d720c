"""The plugin host: entry-point discovery, LEDGERLINK_* selection, the typed façade, documented hooks."""

from __future__ import annotations

import importlib
import json
import inspect
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import ledgerlink
from ledgerlink import ConfigError, MappingEngine, hookspecs
from ledgerlink.plugins import ENTRY_POINT_GROUP, PluginHost

REPO = Path(__file__).resolve().parents[2]

ALPHA = '''
    """A test plugin providing a source, a sandbox and mapping filters."""
    from pydantic import BaseModel

    import ledgerlink
    from ledgerlink import hookimpl


    class AlphaConfig(BaseModel):
        pass


    class AlphaSource(ledgerlink.Source):
        name = "alpha"
        config_model = AlphaConfig


    class AlphaSandbox:
        name = "alpha_sandbox"


    @hookimpl
    def register_connectors(register):
        register(AlphaSource)


    @hookimpl
    def register_sandboxes(register):
        register(AlphaSandbox)


    @hookimpl
    def register_mapping_filters(register):
        register("shout", lambda s: s.upper() + "!")
        register("loud", lambda s: s.isupper(), kind="test")
'''

BETA = '''
    """A test plugin providing a destination and a command."""
    import click
    from pydantic import BaseModel

    import ledgerlink
    from ledgerlink import hookimpl


    class BetaConfig(BaseModel):
        pass


    class BetaDestination(ledgerlink.Destination):
        name = "beta"
        config_model = BetaConfig


    @hookimpl
    def register_connectors(register):
        register(BetaDestination)


    @hookimpl
    def register_commands(cli):
        @cli.command("beta-hello")
        def beta_hello():
            click.echo("hello from beta")
'''

#: our own plugins only: the built-in ones are not this module's subject
OURS = "alpha,beta"


@pytest.fixture(scope="module")
def testkit_site(tmp_path_factory, make_distribution) -> Path:
    return make_distribution(
        tmp_path_factory.mktemp("site"), "ledgerlink-testkit", "2.3.4",
        {"alpha": "ll_testkit_alpha", "beta": "ll_testkit_beta"},
        {"ll_testkit_alpha.py": ALPHA, "ll_testkit_beta.py": BETA})


@pytest.fixture
def testkit(testkit_site, monkeypatch, fresh_host):
    monkeypatch.syspath_prepend(str(testkit_site))
    importlib.invalidate_caches()
    return fresh_host


def names(host: PluginHost) -> list[str]:
    return [p.name for p in host.plugins()]


# ------------------------------------------------------------------------------------- hook contracts


def _hookspecs() -> dict[str, object]:
    return {name: fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(fn, f"{ENTRY_POINT_GROUP}_spec")}


def test_there_are_hookspecs_and_they_match_the_public_contract():
    assert {"register_connectors", "register_sandboxes", "register_mapping_filters",
            "register_commands"} <= set(_hookspecs())


@pytest.mark.parametrize("hook", sorted(_hookspecs()))
def test_every_hookspec_has_a_docstring(hook):
    doc = inspect.getdoc(_hookspecs()[hook])
    assert doc and doc.strip(), f"hookspec {hook} has no docstring: document it for plugin authors"


def test_every_hookspec_is_named_in_the_plugin_guide():
    guide = REPO / "docs" / "guides" / "plugin.md"
    text = guide.read_text()
    match = re.search(r"^##+ [^\n]*hooks[^\n]*$(.*?)(?=^## |\Z)", text, re.I | re.M | re.S)
    assert match, "docs/guides/plugin.md has no section about the hooks"
    missing = [h for h in _hookspecs() if h not in match.group(1)]
    assert not missing, f"the plugin guide's hooks section does not mention: {missing}"


def test_only_the_plugin_host_imports_pluggy():
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "core").rglob("*.py")
                 if p.name != "plugins.py" and re.search(r"^\s*(import|from)\s+pluggy\b", p.read_text(), re.M)]
    assert offenders == []


def test_hookimpl_is_public_api():
    assert "hookimpl" in ledgerlink.__all__ and ledgerlink.hookimpl is ledgerlink.plugins.hookimpl


# ----------------------------------------------------------------------------------------- discovery


def test_plugins_are_found_through_entry_points(testkit, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", OURS)
    host = PluginHost()
    assert names(host) == ["alpha", "beta"]
    assert set(host.connectors()) == {"alpha", "beta"}


def test_load_plugins_loads_only_the_named_ones(testkit, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", " beta ")
    assert names(PluginHost()) == ["beta"]


def test_empty_load_plugins_loads_none(testkit, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", "")
    host = PluginHost()
    assert names(host) == [] and host.connectors() == {}


def test_disable_plugins_skips_the_named_ones(testkit, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", OURS)
    monkeypatch.setenv("LEDGERLINK_DISABLE_PLUGINS", "alpha")
    assert names(PluginHost()) == ["beta"]


def test_disable_plugins_works_without_load_plugins(testkit, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_DISABLE_PLUGINS", "beta,amazon_sp,qbo")
    found = names(PluginHost())
    assert "alpha" in found and "beta" not in found and "qbo" not in found


def test_plugins_lists_name_distribution_version_and_what_each_provides(testkit, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", OURS)
    alpha, beta = PluginHost().plugins()
    assert (alpha.name, alpha.module, alpha.distribution, alpha.version) == \
        ("alpha", "ll_testkit_alpha", "ledgerlink-testkit", "2.3.4")
    assert (alpha.connectors, alpha.sandboxes, alpha.filters) == (["alpha"], ["alpha_sandbox"], ["loud", "shout"])
    assert (beta.connectors, beta.sandboxes, beta.filters) == (["beta"], [], [])


def test_connector_and_sandbox_lookup_by_name(testkit, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", OURS)
    host = PluginHost()
    assert host.connector("alpha").__name__ == "AlphaSource"
    assert issubclass(host.connector("beta"), ledgerlink.Destination)
    assert host.sandbox("alpha_sandbox").__name__ == "AlphaSandbox"


def test_one_name_may_be_a_source_and_a_destination():
    """bigcommerce registers two classes under one name; the host keys them by role."""
    host = PluginHost()
    roles = host.connector_roles()["bigcommerce"]
    assert issubclass(roles["source"], ledgerlink.Source) and not issubclass(roles["source"], ledgerlink.Destination)
    assert issubclass(roles["destination"], ledgerlink.Destination)
    assert host.connector("bigcommerce", "source") is roles["source"]
    assert host.connector("bigcommerce", "destination") is roles["destination"]
    with pytest.raises(ConfigError, match="both a source and a destination") as info:
        host.connector("bigcommerce")
    assert "--role" in info.value.hint
    assert [i.connectors for i in host.plugins() if i.name == "bigcommerce"] == [["bigcommerce"]]


def test_asking_for_a_role_a_connector_lacks_names_what_it_is(testkit, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", OURS)
    host = PluginHost()
    with pytest.raises(ConfigError, match="'alpha' has no destination; it is a source"):
        host.connector("alpha", "destination")
    assert host.connector("alpha", "source").__name__ == "AlphaSource"


def test_unknown_connector_is_a_config_error_listing_what_is_installed(testkit, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", OURS)
    with pytest.raises(ConfigError, match="no connector named 'gamma'") as info:
        PluginHost().connector("gamma")
    assert "alpha, beta" in info.value.hint
    with pytest.raises(ConfigError, match="no sandbox named"):
        PluginHost().sandbox("gamma")


def test_plugin_mapping_filters_work_in_mappings(testkit, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", OURS)
    engine = MappingEngine(extensions=PluginHost().mapping_extensions())
    engine.add("t.json.j2", '[{{ "hi" | shout }}, {{ "HI" is loud }}]')
    assert engine.render("t.json.j2") == ["HI!", True]


def test_plugin_commands_are_added_to_the_cli(testkit, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", OURS)

    @click.group()
    def cli():
        pass

    PluginHost().add_commands(cli)
    result = CliRunner().invoke(cli, ["beta-hello"])
    assert result.exit_code == 0 and result.output == "hello from beta\n"


def test_host_is_loaded_once_and_reset_host_forgets_it(testkit, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", "alpha")
    first = testkit.host()
    assert testkit.host() is first and names(first) == ["alpha"]
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", "beta")
    assert testkit.host() is first
    testkit.reset_host()
    assert names(testkit.host()) == ["beta"]


def test_a_broken_plugin_is_named_with_a_way_out(tmp_path, monkeypatch, fresh_host, make_distribution):
    site = make_distribution(tmp_path / "site", "ledgerlink-broken", "0.0.1", {"broken": "ll_broken_plugin"},
                                {"ll_broken_plugin.py": "import no_such_module_anywhere\n"})
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    monkeypatch.setenv("LEDGERLINK_LOAD_PLUGINS", "broken")
    host = PluginHost()  # the others still load: one broken plugin does not stop every command
    error = host.broken["broken"]
    assert re.search("plugin 'broken'.*ledgerlink-broken.*failed to load.*no_such_module_anywhere", str(error))
    assert "LEDGERLINK_DISABLE_PLUGINS=broken" in error.hint
    with pytest.raises(ConfigError, match="no connector named 'hello'; plugin 'broken'.*failed to load"):
        host.connector("hello")  # what may have needed it fails, naming it
    monkeypatch.setenv("LEDGERLINK_DISABLE_PLUGINS", "broken")
    assert names(PluginHost()) == [] and PluginHost().broken == {}


def test_a_broken_plugin_is_listed_by_the_plugins_command(tmp_path, monkeypatch, fresh_host, make_distribution):
    from click.testing import CliRunner

    from ledgerlink.cli import cli

    site = make_distribution(tmp_path / "site", "ledgerlink-broken", "0.0.1", {"broken": "ll_broken_plugin"},
                                {"ll_broken_plugin.py": "raise RuntimeError('half installed')\n"})
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    monkeypatch.setenv("LEDGERLINK_DISABLE_PLUGINS", "")
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    listed = {p["name"]: p for p in json.loads(result.stdout)}
    assert "half installed" in listed["broken"]["error"] and "qbo" in listed


def test_plugins_can_be_registered_directly(fresh_host):
    class Direct:
        @ledgerlink.hookimpl
        def register_connectors(self, register):
            register(type("Gamma", (ledgerlink.Source,), {"name": "gamma"}))

    host = PluginHost(load_entry_points=False)
    host.register(Direct(), name="direct")
    assert list(host.connectors()) == ["gamma"]
    info, = host.plugins()
    assert (info.name, info.distribution, info.connectors) == ("direct", None, ["gamma"])


def test_a_hookimpl_with_a_wrong_argument_is_refused(fresh_host):
    import pluggy

    class Wrong:
        @ledgerlink.hookimpl
        def register_connectors(self, registrar):
            pass

    host = PluginHost(load_entry_points=False)
    with pytest.raises(pluggy.PluginValidationError):
        host.register(Wrong(), name="wrong")
