"""Reading a user's YAML file with bounds, so that no file can hang or crash the process.

`yaml.safe_load` builds no objects, but it still accepts a file of gigabytes, a document nested thousands deep
(a RecursionError), an alias bomb (a few lines whose aliases expand to billions of nodes once anything walks
them) and a mapping that names a key twice (the second silently wins). `load_yaml` refuses each with a
`ConfigError` naming the file and line, and bytes that are not UTF-8 with the line and column of the first one.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import ConfigError

__all__ = ["load_yaml", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES"]

#: largest file read (a pipeline file is a few kilobytes)
MAX_BYTES = 1_000_000
#: deepest nesting of mappings and lists, counting what aliases bring in
MAX_DEPTH = 64
#: most nodes once every alias is expanded (what a program walking the result would visit)
MAX_NODES = 100_000


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts, for every node it composes, its depth and its size with aliases expanded."""

    def __init__(self, stream: str, name: str):
        super().__init__(stream)
        self.name = name
        self._depth = 0
        self._size: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, depth) when expanded

    def _fail(self, message: str, node_or_mark: Any, hint: str) -> ConfigError:
        mark = getattr(node_or_mark, "start_mark", node_or_mark)
        where = f"{self.name}:{mark.line + 1}" if mark is not None else self.name
        return ConfigError(message, where=where, hint=hint)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # type: ignore[override]
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise self._fail(f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark,
                                 "a pipeline file is a few levels of keys: check the brackets and the indentation")
            if self.check_event(AliasEvent):
                event = self.peek_event()
                target = self.anchors.get(event.anchor)
                if target is not None and id(target) not in self._size:
                    raise self._fail(f"*{event.anchor} refers to the value it is part of (a loop)", event.start_mark,
                                     "an alias can only repeat a value written out before it")
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None and id(node) not in self._size:
            size, depth = 1, 1
            children: list[Node] = []
            if isinstance(node, SequenceNode):
                children = list(node.value)
            elif isinstance(node, MappingNode):
                children = [n for pair in node.value for n in pair]
            for child in children:
                child_size, child_depth = self._size.get(id(child), (1, 1))
                size += child_size
                depth = max(depth, child_depth + 1)
            if size > MAX_NODES:
                raise self._fail(f"expands to more than {MAX_NODES:,} values (aliases repeating aliases?)", node,
                                 "write the values out, or use fewer levels of &anchor / *alias")
            if depth > MAX_DEPTH:
                raise self._fail(f"nested more than {MAX_DEPTH} levels deep once its aliases are expanded", node,
                                 "use fewer levels of &anchor / *alias")
            self._size[id(node)] = (size, depth)
        return node

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` merges: a key written next to it overrides on purpose
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:
                continue
            if first is not None:
                raise ConfigError(f"key {key!r} appears twice, at lines {first} and {line}",
                                  where=f"{self.name}:{line}", hint="keep one of them: YAML would silently use the "
                                                                    "last one")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _decode(data: bytes, name: str) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise ConfigError(f"not UTF-8: byte {data[exc.start:exc.start + 1]!r} at line {line}, column {column}",
                          where=f"{name}:{line}", hint="save the file as UTF-8 (most editors: 'Save with encoding')") \
            from None


def load_yaml(path: str | Path) -> Any:
    """The YAML document in `path`, within the bounds above; every refusal is a ConfigError naming file:line."""
    p = Path(path)
    name = str(p)
    try:
        if p.is_dir():
            raise ConfigError(f"{p} is a folder, not a file", where=name, hint="name the .yaml file itself")
        with open(p, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {p}: {exc.strerror or exc}", where=name) from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"larger than {MAX_BYTES:,} bytes", where=name,
                          hint="a pipeline file is a few kilobytes: is this the right file?")
    text = _decode(data, name)
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise ConfigError("contains a NUL character (a binary file?)", where=f"{name}:{line}",
                          hint="name the pipeline's .yaml file")
    loader = _BoundedLoader(text, name)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise ConfigError(f"not valid YAML: {exc.problem or exc.context}", where=where) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", where=name) from None
    except RecursionError:  # a bound above should stop it first; never let it out as a traceback
        raise ConfigError(f"nested too deep to read (more than {MAX_DEPTH} levels)", where=name) from None
    finally:
        loader.dispose()
