"""Post approved documents now, without waiting for the next sync: the write step alone, as a run of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..store import Store

if TYPE_CHECKING:
    from ..pipeline import Pipeline

__all__ = ["post_approved"]


def post_approved(pipeline: "Pipeline", store: Store | None = None, plugin_host: Any = None) -> dict[str, Any]:
    """Run the pipeline's write step once (nothing is read or planned): approved documents post, the rest of the
    queue keeps waiting. Returns the write step's counts (created, awaiting_approval, dead letters…)."""
    from ..errors import LedgerlinkError
    from ..plugins import host as default_host
    from ..runtime.load import load
    from ..store.shared_credentials import share_credentials

    plugins = plugin_host or default_host()
    destination = plugins.connector(pipeline.destination.connector, "destination")()
    config = destination.parse_config(pipeline.destination.config, where="destination.config")
    own = store is None
    store = store or Store(pipeline.state_path)
    share_credentials(store, pipeline.credentials_path)
    run_id = store.runs.start(pipeline.name, False)
    status, counts, error = "failed", {}, None
    try:
        counts = load(destination, config, store, run_id, review=pipeline.review)
        error = counts.get("write_error")
        status = "failed" if error else "succeeded"
        return counts
    except LedgerlinkError as exc:
        error = str(exc)
        raise
    finally:
        store.runs.finish(run_id, status, {"write_only": True, **counts}, {}, error)
        if own:
            store.close()
