"""Every connector command the docs show (`ledgerlink spec|check|discover|read|write CONNECTOR …` in a code block)
is one ledgerlink accepts: a connector registered as both source and destination is given its `--role`, the
options a command requires are there, and a `read A … | write B …` pipe only where B writes a stream A reads (a
source's raw records go to a ledger through `ledgerlink sync`, and `write` refuses them)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ledgerlink.plugins import host

DOCS = Path(__file__).resolve().parents[2] / "docs"
INLINE = re.compile(r"`(ledgerlink [^`]+)`")
VERBS = ("spec", "check", "discover", "read", "write")
#: what each verb cannot run without (check may take --pipeline instead)
REQUIRED = {"check": ("--config", "--pipeline"), "discover": ("--config",), "read": ("--config",),
            "write": ("--config",)}


def _lines(page: Path) -> list[tuple[str, bool]]:
    """The page's command lines, each with whether it is in a code block (a command to run as shown) or an
    inline code span in the prose (naming a command: its files may be left out)."""
    out, fenced = [], False
    for line in page.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif fenced:
            out.append((line.strip(), True))
        else:
            out.extend((span, False) for span in INLINE.findall(line))
    return out


def commands() -> list[tuple[str, list[list[str]], bool]]:
    """(where, the pipe's commands as words, in a code block) for each `ledgerlink VERB CONNECTOR` the docs show."""
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        for line, runnable in _lines(page):
            text = line.split("  #")[0].split(" # ")[0].strip()
            if not re.match(rf"^ledgerlink ({'|'.join(VERBS)}) [a-z]", text) or "…" in text or "..." in text:
                continue
            parts = [shlex.split(re.sub(r"\[[^\]]*\]", "", p)) for p in text.split("|")]
            found.append((f"{page.relative_to(DOCS)}: {text}", parts, runnable))
    return found


def roles(name: str) -> set[str]:
    """The roles `name` is registered in (empty: not a built-in connector, e.g. the plugin guide's example)."""
    out = set()
    for role in ("source", "destination"):
        try:
            host().connector(name, role)
        except Exception:  # noqa: BLE001 - not registered in that role
            continue
        out.add(role)
    return out


def test_the_docs_show_connector_commands():
    assert len(commands()) >= 8


@pytest.mark.parametrize("where, pipe, runnable", commands(), ids=[w for w, _, _ in commands()])
def test_a_documented_command_is_one_ledgerlink_accepts(where: str, pipe: list[list[str]], runnable: bool):
    for words in pipe:
        if words[:1] != ["ledgerlink"] or len(words) < 3 or words[1] not in VERBS:
            continue
        verb, name = words[1], words[2]
        if name.isupper() or not roles(name):
            continue  # a placeholder (CONNECTOR) or a plugin the reader writes
        if verb in ("spec", "check", "discover") and roles(name) == {"source", "destination"}:
            assert "--role" in words, f"{where}: {name} is both a source and a destination: give --role"
        if runnable and verb in REQUIRED:
            assert any(option in words for option in REQUIRED[verb]), f"{where}: {verb} needs {REQUIRED[verb]}"
    ledger = [w for w in pipe if w[:2] == ["ledgerlink", "read"]], [w for w in pipe if w[:2] == ["ledgerlink", "write"]]
    for reader in ledger[0]:
        for writer in ledger[1]:
            source, destination = host().connector(reader[2], "source")(), host().connector(writer[2], "destination")()
            reads = {cls.name for cls in source.stream_classes()}
            writes = {op.object_name for op in destination.discover(None).operations}
            assert reads & writes, f"{where}: {writer[2]} writes none of the streams {reader[2]} reads"
