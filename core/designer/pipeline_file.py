"""Writing a pipeline file the way a developer would: ruamel.yaml's round trip keeps every comment, the key order
and the quoting of what the console did not touch, so the change is a small diff a person can review and commit.

`save_pipeline` never leaves a half-written workspace: every file is written to a temporary file beside it, the
pipeline is validated by loading the temporary file through the normal loader (and each template compiled), and
only then are the files renamed over the old ones."""

from __future__ import annotations

import difflib
import io
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..errors import ConfigError, MappingError
from ..mapping import MappingEngine
from ..pipeline import Pipeline, load_pipeline
from .forms import SECRET_KEPT

__all__ = ["DELETE", "new_pipeline_text", "edit_pipeline_text", "pipeline_diff", "save_pipeline", "read_tree"]

#: a change that removes the key
DELETE = object()


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a user's long line
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def read_tree(text: str) -> CommentedMap:
    try:
        tree = _yaml().load(text)
    except Exception as exc:  # ruamel's errors carry a mark; the loader explains it better below
        raise ConfigError(f"the pipeline file is not valid YAML: {str(exc).splitlines()[0]}",
                          hint="fix it by hand first; the designer edits valid pipeline files only") from None
    if not isinstance(tree, CommentedMap):
        raise ConfigError("a pipeline file is a mapping with name, source and destination")
    return tree


def _dump(tree: Any) -> str:
    out = io.StringIO()
    _yaml().dump(tree, out)
    return out.getvalue()


def _plain(value: Any) -> Any:
    """A value as ruamel writes it: lists of scalars in flow style (`[a, b]`), as the shipped files do."""
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _plain(v)
        return m
    if isinstance(value, list):
        s = CommentedSeq(_plain(v) for v in value)
        if all(not isinstance(v, (dict, list)) for v in value):
            s.fa.set_flow_style()
        return s
    return value


def example_options(example: str) -> CommentedMap | None:
    """The `destination.options` of a shipped example pipeline, with its comments (what each option means)."""
    tree = read_tree(example)
    options = (tree.get("destination") or {}).get("options")
    return options if isinstance(options, CommentedMap) and options else None


def new_pipeline_text(name: str, source: str, source_config: dict[str, Any], destination: str,
                      destination_config: dict[str, Any], *, state: str | None = None,
                      streams: list[str] | None = None, example: str | None = None) -> str:
    """A new pipeline file, in the shipped files' key order, with a comment saying where it came from; its posting
    options start as the shipped example's (`example`, a pipeline file's text), comments and all."""
    tree = CommentedMap()
    tree["version"] = 1
    tree["name"] = name
    tree["state"] = state or f".ledgerlink/{name}.duckdb"
    tree["source"] = _plain({"connector": source, "config": source_config})
    if streams:
        tree["source"]["streams"] = _plain(streams)
    tree["destination"] = _plain({"connector": destination, "config": destination_config})
    options = example_options(example) if example else None
    if options is not None:
        tree["destination"]["options"] = options
    tree.yaml_set_start_comment(f"{source} → {destination}, made with the console's pipeline designer.\n"
                                "Edit it by hand as any pipeline file: the designer keeps your comments and order.")
    return _dump(tree)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _drop_keys(text: str, paths: list[tuple[str, ...]]) -> str:
    """`text` without the lines of each key in `paths` (the key's line and its value's more indented lines).
    Done on the text, not the tree: ruamel attaches the comments that follow a key to it, and removing the key
    from the tree would take a person's comments about the next one with it."""
    tree = read_tree(text)
    lines = text.splitlines(keepends=True)
    drop: set[int] = set()
    for path in paths:
        node: Any = tree
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, CommentedMap) or path[-1] not in node:
            continue
        line, col = node.lc.key(path[-1])
        end = line + 1
        while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > col):
            end += 1
        while end > line + 1 and not lines[end - 1].strip():
            end -= 1
        drop.update(range(line, end))
    return "".join(text_line for i, text_line in enumerate(lines) if i not in drop)


def _merge(node: CommentedMap, value: dict[str, Any]) -> None:
    for key in [k for k in node if k not in value]:
        node.pop(key)
    for key, v in value.items():
        if isinstance(node.get(key), CommentedMap) and isinstance(v, dict):
            _merge(node[key], v)
        elif key not in node or node[key] != v:
            node[key] = _plain(v)


def edit_pipeline_text(text: str, changes: Mapping[tuple[str, ...], Any]) -> str:
    """`text` with each `path → value` change made (DELETE removes the key; an empty mapping left behind by a
    delete stays, as a person may have commented it)."""
    deletions = [path for path, value in changes.items() if value is DELETE]
    if deletions:
        text = _drop_keys(text, deletions)
    tree = read_tree(text)
    for path, value in changes.items():
        if value is DELETE:
            continue
        node: Any = tree
        for part in path[:-1]:
            child = node.get(part) if isinstance(node, dict) else None
            if not isinstance(child, dict):
                child = CommentedMap()
                node[part] = child
            node = child
        last = path[-1]
        if isinstance(node.get(last), CommentedMap) and isinstance(value, dict):
            _merge(node[last], value)  # a mapping changed key by key keeps its comments
        elif node.get(last) != value or last not in node:
            node[last] = _plain(value)
    return _dump(tree)


def pipeline_diff(old: str, new: str, name: str, secrets: Iterable[str] = ()) -> str:
    """A unified diff of the pipeline file, with every secret value shown as dots."""
    lines = list(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                      fromfile=f"a/{name}", tofile=f"b/{name}"))
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    for secret in sorted({s for s in secrets if isinstance(s, str) and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, SECRET_KEPT)
    return text


def _temp_beside(path: Path, text: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix or ".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)  # a pipeline file may hold a secret typed in the console
    return Path(tmp)


def check_template(name: str, text: str) -> None:
    """Compile a mapping template: a syntax error is a MappingError naming its line."""
    engine = MappingEngine()
    engine.add(name, text)
    engine.template(name)


def save_pipeline(path: Path, text: str, templates: Mapping[Path, str] | None = None,
                  env: Mapping[str, str] | None = None) -> Pipeline:
    """Write the pipeline file (and its template files) all or nothing; returns the pipeline as loaded from what
    was written. A file that does not load is a ConfigError naming the key, and nothing is written."""
    templates = dict(templates or {})
    temps: list[tuple[Path, Path]] = []
    try:
        for target, body in templates.items():
            if target.name.endswith(".j2"):
                check_template(target.name, body)
            temps.append((_temp_beside(target, body), target))
        tmp = _temp_beside(path, text)
        temps.append((tmp, path))
        pipeline = load_pipeline(tmp, env)  # the normal loader: every key, type and option is checked
    except (ConfigError, MappingError) as exc:
        for tmp_path, _ in temps:
            tmp_path.unlink(missing_ok=True)
        if isinstance(exc, ConfigError) and exc.message.startswith(str(temps[-1][0]) if temps else "\x00"):
            exc.message = exc.message.replace(str(temps[-1][0]), path.name, 1)
            exc.args = (exc.message,)
        raise
    except BaseException:
        for tmp_path, _ in temps:
            tmp_path.unlink(missing_ok=True)
        raise
    for tmp_path, target in temps:  # templates first: the pipeline file only ever names complete templates
        os.replace(tmp_path, target)
    pipeline.base_dir = path.resolve().parent
    return pipeline
