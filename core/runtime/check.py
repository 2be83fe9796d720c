"""`check` for a pipeline's source or destination, with the pipeline's credential store: the newest stored
secret is the one checked, and a secret the remote rotates during the check is stored before it is lost."""

from __future__ import annotations

from typing import Any

from .. import protocol
from ..connectors import CheckContext, Source
from ..errors import ConfigError
from ..pipeline import Pipeline
from ..plugins import PluginHost, host as default_host
from ..store import Store
from ..store.shared_credentials import share_credentials
from .extract import apply_stored_credentials, credential_name

__all__ = ["check_pipeline"]


def check_pipeline(pipeline: Pipeline, role: str, *, plugin_host: PluginHost | None = None,
                   store: Store | None = None) -> protocol.ConnectionStatus:
    """Check the pipeline's `role` ("source" or "destination") connector against its state file's credentials."""
    if role not in ("source", "destination"):
        raise ConfigError(f"unknown connector role {role!r}", hint="use source or destination")
    section = pipeline.source if role == "source" else pipeline.destination
    connector: Any = (plugin_host or default_host()).connector(section.connector, role)()
    own_store = store is None
    store = store or Store(pipeline.state_path)
    try:
        share_credentials(store, pipeline.credentials_path)
        raw = dict(section.config)
        # a source's rotated secrets are stored under the runtime's names (a destination reads its own)
        config = apply_stored_credentials(connector, raw, store) if isinstance(connector, Source) else raw

        def rotated(field: str, value: str) -> None:
            store.credentials.save(credential_name(connector, raw, field), value)

        context = CheckContext(save_credential=store.credentials.save, load_credential=store.credentials.load,
                               rotated=rotated)
        return connector.check(config, context)
    finally:
        if own_store:
            store.close()
