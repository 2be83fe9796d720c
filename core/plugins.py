"""The plugin host: the one module that touches pluggy.

Plugins are found through the entry-point group `ledgerlink`, built-in ones exactly as a third party's.
`LEDGERLINK_LOAD_PLUGINS=a,b` loads only the named plugins (empty: none); `LEDGERLINK_DISABLE_PLUGINS=a,b`
skips those. Everything else in ledgerlink calls the typed `PluginHost` façade, never `pm.hook`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Callable

import logging

import pluggy

from .errors import ConfigError

__all__ = ["hookimpl", "hookspec", "PluginHost", "PluginInfo", "host", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "ledgerlink"
log = logging.getLogger("ledgerlink.plugins")
hookspec = pluggy.HookspecMarker("ledgerlink")
hookimpl = pluggy.HookimplMarker("ledgerlink")


@dataclass
class PluginInfo:
    name: str
    module: str
    distribution: str | None
    version: str | None
    connectors: list[str] = field(default_factory=list)
    sandboxes: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)
    web_routes: list[str] = field(default_factory=list)
    #: why the plugin could not be loaded (it provides nothing then)
    error: str | None = None


def _names(env: str) -> set[str] | None:
    value = os.environ.get(env)
    if value is None:
        return None
    return {n.strip() for n in value.split(",") if n.strip()}


class PluginHost:
    """Loads plugins and answers typed questions about what they provide."""

    def __init__(self, *, load_entry_points: bool = True):
        from . import hookspecs  # imported here: hookspecs imports the markers from this module

        self._pm = pluggy.PluginManager("ledgerlink")
        self._pm.add_hookspecs(hookspecs)
        self._dists: dict[str, tuple[str | None, str | None]] = {}
        #: plugins whose entry point failed to import, with the error naming them
        self.broken: dict[str, ConfigError] = {}
        self._broken_info: dict[str, PluginInfo] = {}
        if load_entry_points:
            self._load_entry_points()

    def _load_entry_points(self) -> None:
        only, disabled = _names("LEDGERLINK_LOAD_PLUGINS"), _names("LEDGERLINK_DISABLE_PLUGINS") or set()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if (only is not None and ep.name not in only) or ep.name in disabled:
                continue
            if self._pm.get_plugin(ep.name) is not None:
                continue
            try:
                module = ep.load()
            except Exception as exc:  # a broken third-party plugin: say which, and how to run without it
                dist = ep.dist.name if ep.dist else "unknown distribution"
                error = ConfigError(f"plugin {ep.name!r} ({ep.value}, from {dist}) failed to load: "
                                    f"{type(exc).__name__}: {exc}",
                                    hint=f"fix or uninstall it, or set LEDGERLINK_DISABLE_PLUGINS={ep.name}")
                # the other plugins still work; what needed this one fails later, naming it
                self.broken[ep.name] = error
                self._broken_info[ep.name] = PluginInfo(
                    name=ep.name, module=ep.value, distribution=ep.dist.name if ep.dist else None,
                    version=ep.dist.version if ep.dist else None, error=str(error))
                log.warning("%s", error)
                continue
            self._pm.register(module, name=ep.name)
            dist = ep.dist
            self._dists[ep.name] = (dist.name if dist else None, dist.version if dist else None)

    def register(self, plugin: ModuleType | object, name: str | None = None) -> None:
        """Register a plugin object directly (tests, embedding applications)."""
        self._pm.register(plugin, name=name)

    def _collect(self, hook: str, plugin: Any = None) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """Call a `register_*` hook (on every plugin, or on one) and return what it registered."""
        found: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

        def register(*args: Any, **kwargs: Any) -> None:
            found.append((args, kwargs))

        caller = getattr(self._pm.hook, hook)
        if plugin is None:
            caller(register=register)
        else:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin:
                    impl.function(register=register)
        return found

    def _classes(self, hook: str, plugin: Any = None) -> list[type]:
        return [args[0] for args, _ in self._collect(hook, plugin)]

    def connectors(self) -> dict[str, type]:
        """Name → class. A name with both a source and a destination class maps to its source here; use
        `connector_roles` (or `connector(name, role)`) to reach both."""
        return {name: roles.get("source") or roles["destination"] for name, roles in self.connector_roles().items()}

    def connector_roles(self) -> dict[str, dict[str, type]]:
        """Name → {"source": cls, "destination": cls}: a plugin may register a source and a destination under
        one name (`qbo` reads and writes QuickBooks Online); a class that is both fills both roles."""
        from .connectors import Destination, Source  # connectors imports nothing from here; lazy for start-up

        out: dict[str, dict[str, type]] = {}
        for cls in self._classes("register_connectors"):
            roles = out.setdefault(cls.name, {})
            if issubclass(cls, Source):
                roles["source"] = cls
            if issubclass(cls, Destination):
                roles["destination"] = cls
            if not issubclass(cls, (Source, Destination)):
                roles.setdefault("source", cls)  # a bare Connector: treat as the name's only class
        return out

    def connector(self, name: str, role: str | None = None) -> type:
        """The class registered as `name`, in `role` ("source" or "destination") when given. Without a role
        a name with two classes is ambiguous and refused, naming the choice."""
        known = self.connector_roles()
        if name not in known:
            broken = "".join(f"; {err}" for err in self.broken.values())
            raise ConfigError(f"no connector named {name!r}{broken}",
                              hint=f"installed connectors: {', '.join(sorted(known)) or 'none'}; "
                                   "see `ledgerlink plugins`")
        roles = known[name]
        if role is not None:
            if role not in ("source", "destination"):
                raise ConfigError(f"unknown connector role {role!r}", hint="use source or destination")
            if role not in roles:
                other = next(iter(roles))
                raise ConfigError(f"connector {name!r} has no {role}; it is a {other}",
                                  hint=f"use a connector that can be a {role}; see `ledgerlink plugins`")
            return roles[role]
        classes = set(roles.values())
        if len(classes) > 1:
            raise ConfigError(f"connector {name!r} is both a source and a destination",
                              hint="say which with --role source or --role destination")
        return classes.pop()

    def sandboxes(self) -> dict[str, type]:
        return {cls.name: cls for cls in self._classes("register_sandboxes")}

    def sandbox(self, name: str) -> type:
        known = self.sandboxes()
        if name not in known:
            raise ConfigError(f"no sandbox named {name!r}", hint=f"available: {', '.join(sorted(known)) or 'none'}")
        return known[name]

    def mapping_extensions(self) -> list[tuple[str, Callable[..., Any], str]]:
        out = []
        for args, kwargs in self._collect("register_mapping_filters"):
            name, func = args[0], args[1]
            kind = kwargs.get("kind", args[2] if len(args) > 2 else "filter")
            out.append((name, func, kind))
        return out

    def web_routes(self) -> list[tuple[str, Callable[[Any], Any], str]]:
        """(path, app factory, plugin name) for everything plugins mount under `ledgerlink serve`."""
        out = []
        for impl in self._pm.hook.register_web_routes.get_hookimpls():
            found: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
            impl.function(register=lambda *a, **k: found.append((a, k)))
            out.extend((a[0], a[1], impl.plugin_name) for a, _ in found)
        return out

    def status_providers(self) -> list[tuple[str, Callable[..., Any], str]]:
        """(connector name, status function, plugin name) for every `register_status_lines` registration."""
        out = []
        for impl in self._pm.hook.register_status_lines.get_hookimpls():
            found: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
            impl.function(register=lambda *a, **k: found.append((a, k)))
            out.extend((a[0], a[1], impl.plugin_name) for a, _ in found)
        return out

    def status_lines(self, state: Any, connectors: list[tuple[str, dict[str, Any] | None]] | None) -> list[str]:
        """What plugins say about a pipeline's state (`ledgerlink runs`): `connectors` lists the pipeline's
        (connector name, config) pairs, source first; a provider speaks once per pair naming its connector. None
        (only a state file is known) asks every provider once, with no config. A provider that fails gives one
        line saying so, never an exception."""
        lines: list[str] = []
        for connector, function, plugin in self.status_providers():
            configs = [None] if connectors is None else [cfg for name, cfg in connectors if name == connector]
            for config in configs:
                try:
                    lines.extend(str(line) for line in function(state, config) or [])
                except Exception as exc:  # a plugin's status never breaks `runs`
                    log.warning("plugin %s: status for %s failed: %s", plugin, connector, exc)
                    lines.append(f"{connector}: status unavailable ({type(exc).__name__}: {exc})")
        return lines

    def add_commands(self, cli: Any) -> None:
        self._pm.hook.register_commands(cli=cli)

    def plugins(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in self._pm.list_name_plugin():
            dist, version = self._dists.get(name, (None, None))
            info = PluginInfo(name=name, module=getattr(plugin, "__name__", type(plugin).__name__),
                              distribution=dist, version=version)
            hooks = {h.name for h in self._pm.get_hookcallers(plugin) or []}
            if "register_connectors" in hooks:
                info.connectors = sorted({c.name for c in self._classes("register_connectors", plugin)})
            if "register_sandboxes" in hooks:
                info.sandboxes = sorted(c.name for c in self._classes("register_sandboxes", plugin))
            if "register_web_routes" in hooks:
                info.web_routes = sorted(a[0] for a, _ in self._collect("register_web_routes", plugin))
            if "register_mapping_filters" in hooks:
                info.filters = sorted(a[0] for a, _ in self._collect("register_mapping_filters", plugin))
            infos.append(info)
        infos.extend(self._broken_info.values())
        return sorted(infos, key=lambda i: i.name)


_host: PluginHost | None = None


def host() -> PluginHost:
    """The process-wide plugin host, loaded on first use."""
    global _host
    if _host is None:
        _host = PluginHost()
    return _host


def reset_host() -> None:
    """Forget the loaded plugins (tests that change LEDGERLINK_* variables)."""
    global _host
    _host = None
