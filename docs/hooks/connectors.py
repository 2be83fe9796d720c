"""MkDocs hook: add a generated page per installed connector (and an overview) to the site and its nav.

Pages are rendered by `connector_pages` from the connectors' specs and options models at build time, so
they cannot drift from the code. Registered in mkdocs.yml under `hooks:`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import connector_pages  # noqa: E402  (lives beside this hook, not in an installed package)

_pages: dict[str, str] = {}


def on_config(config: Any) -> Any:
    """Render every connector page and list them under "Connectors" in the nav."""
    docs = connector_pages.collect()
    _pages.clear()
    _pages["connectors/index.md"] = connector_pages.render_index(docs)
    for doc in docs:
        _pages[f"connectors/{doc.name}.md"] = connector_pages.render_page(doc)
    entries: list[Any] = ["connectors/index.md"] + [{doc.name: f"connectors/{doc.name}.md"} for doc in docs]
    nav = config["nav"]
    if nav is not None:
        for i, item in enumerate(nav):
            if isinstance(item, dict) and "Connectors" in item:
                nav[i] = {"Connectors": entries}
                break
        else:
            nav.append({"Connectors": entries})
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for path, content in _pages.items():
        files.append(File.generated(config, path, content=content))
    return files
