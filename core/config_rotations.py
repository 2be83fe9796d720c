"""A secret the remote rotates while a connector process (or `ledgerlink check --config`, `ledgerlink write`) runs
(QuickBooks Online's refresh token rotates on every exchange; Amazon's LWA may rotate its own) as an Airbyte
CONTROL message carrying the updated config, the moment it arrives: Airbyte (or whoever runs the command) stores
it for the next run, where ledgerlink's runtime would store it in its encrypted credential store. The old token
may stop working any time, so it is never held back until the run ends."""

from __future__ import annotations

from typing import Any, Callable

from . import protocol
from .connectors import CheckContext, WriteContext
from .secrets import secret_paths

__all__ = ["ConfigRotations"]


class ConfigRotations:
    """Turns the connector's `save_credential(name, value)` / `rotated(field, value)` calls into CONTROL messages.

    A credential name's last part (`qbo:9130…:refresh_token`) is the config field it replaces; only the config's
    own top-level secret fields count (an expiry time a connector also keeps is not a config field)."""

    def __init__(self, connector: Any, config: dict[str, Any], emit: Callable[[protocol.Message], None]):
        self.config = dict(config)
        self._emit = emit
        self._fields = {path[0] for path in secret_paths(connector.config_schema()) if len(path) == 1}
        self._latest: dict[str, str] = {}
        #: how many CONTROL messages were sent
        self.sent = 0

    def _field(self, name: str) -> str | None:
        field = name.rsplit(":", 1)[-1]
        return field if field in self._fields else None

    def rotated(self, field: str, value: str) -> None:
        """The config's secret `field` is now `value`: say so with the whole updated config."""
        if field not in self._fields or self.config.get(field) == value:
            return
        self._latest[field] = value
        self.config[field] = value
        self.sent += 1
        self._emit(protocol.control_config(dict(self.config)))

    def save_credential(self, name: str, value: str) -> None:
        field = self._field(name)
        if field is not None:
            self.rotated(field, value)

    def load_credential(self, name: str) -> str | None:
        """The newest value this run was handed (the old one may no longer work), else None: the config's."""
        field = self._field(name)
        return self._latest.get(field) if field else None

    def write_context(self) -> WriteContext:
        return WriteContext(save_credential=self.save_credential, load_credential=self.load_credential)

    def check_context(self) -> CheckContext:
        return CheckContext(save_credential=self.save_credential, load_credential=self.load_credential,
                            rotated=self.rotated)
