"""Bad pipeline files, as a user or a fuzzer writes them: each is refused by `ledgerlink sync` with exit 2 and one
`error:` line naming the key (or file:line), never a traceback or a hang; and the clean pipeline still syncs.

A hand-written table covers every defect issue 14 names (bytes that are not UTF-8, nesting thousands deep, alias
bombs, duplicate keys, an unknown version, an unclosed ${VAR, absurd numbers, a state or credentials path that
is a folder, URLs that are not http(s), a secret key of the wrong shape); hypothesis adds random key typos,
random wrong types per field, random nesting and invalid bytes at random places."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from inputs_helpers import (  # noqa: E402
    CLOSED_URL, HEADER, assert_clear_error, bigcommerce_store, good_pipeline, report, run_sync, write_pipeline,
)

FUZZ = settings(max_examples=25, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def place(tmp_path: Path) -> dict[str, Any]:
    """A working folder with an empty 3PL export and the clean pipeline's tree."""
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "3pl.csv").write_text(HEADER)
    tree = good_pipeline(tmp_path / "state" / "hardening.duckdb", str(tmp_path / "drop" / "*.csv"))
    return {"dir": tmp_path, "tree": tree, "file": tmp_path / "pipeline.yaml"}


def _text(place: dict[str, Any]) -> str:
    return yaml.safe_dump(place["tree"], sort_keys=False)


def _clean_run_succeeds(place: dict[str, Any], url: str = CLOSED_URL) -> None:
    tree = copy.deepcopy(place["tree"])
    tree["destination"]["config"]["base_url"] = url
    outcome = run_sync(write_pipeline(place["dir"] / "clean.yaml", tree), None, "--json")
    assert outcome.code == 0, outcome.output
    assert report(outcome)["status"] == "succeeded"


# ------------------------------------------------------------------------------------------ the hand-written table

def _bomb(levels: int, width: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _merge_bomb(levels: int) -> str:
    lines = ["k0: &k0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}"]
    for i in range(1, levels):
        lines.append(f"k{i}: &k{i} [" + ", ".join([f"*k{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


#: (id, edit of the pipeline text, what the error line must name)
TEXT_CASES: list[tuple[str, Any, tuple[str, ...]]] = [
    # bytes that are not UTF-8, NULs, sizes
    ("latin1-comment", lambda t: t.encode() + b"# caf\xe9\n", ("not UTF-8", "line")),
    ("ff-byte-first", lambda t: b"\xff" + t.encode(), ("not UTF-8", "line 1")),
    ("utf16", lambda t: t.encode("utf-16"), ("not UTF-8",)),
    ("lone-surrogate", lambda t: t.encode() + b"# \xed\xa0\x80\n", ("not UTF-8",)),
    ("truncated-utf8", lambda t: t.encode() + b"# \xe2\x82\n", ("not UTF-8",)),
    ("overlong", lambda t: t.encode() + b"# \xc0\xaf\n", ("not UTF-8",)),
    ("nul-byte", lambda t: t + "# \x00\n", ("NUL",)),
    ("too-big", lambda t: t + "#" + "x" * 1_100_000 + "\n", ("larger than",)),
    ("bom-is-fine-but-bad-version", lambda t: b"\xef\xbb\xbf" + t.replace("version: 1", "version: 2").encode(),
     ("version",)),
    # nesting
    ("flow-lists-5000", lambda t: t + "x: " + "[" * 5000 + "]" * 5000 + "\n", ("nested",)),
    ("flow-maps-3000", lambda t: t + "x: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", ("nested",)),
    ("block-maps-200", lambda t: t + "x:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)), ("nested",)),
    ("block-lists-300", lambda t: t + "x:\n" + "".join("  " * i + "-\n" for i in range(1, 300)), ("nested",)),
    ("unclosed-flow-10000", lambda t: t + "x: " + "[" * 10000 + "\n", ("nested",)),
    ("nested-under-config", lambda t: t.replace("store_hash: abc123", "store_hash: " + "[" * 200 + "]" * 200),
     ("nested",)),
    # alias bombs
    ("bomb-9", lambda t: t + _bomb(9), ("expands",)),
    ("bomb-6", lambda t: t + _bomb(6), ("expands",)),
    ("bomb-wide", lambda t: t + _bomb(4, 120), ("expands",)),
    ("bomb-merge", lambda t: t + _merge_bomb(7), ("expands",)),
    ("bomb-deep-aliases", lambda t: t + "".join(
        f"d{i}: &d{i} [[[[[[[[[[*d{i - 1}]]]]]]]]]]\n" if i else "d0: &d0 [1]\n" for i in range(12)), ("nested",)),
    ("bomb-as-option", lambda t: _bomb(8) + t.replace("store_hash: abc123", "store_hash: *a7"), ("expands",)),
    # YAML that is not a pipeline
    ("empty", lambda t: "", ("a pipeline file is a mapping",)),
    ("a-list", lambda t: "- 1\n- 2\n", ("a pipeline file is a mapping",)),
    ("a-scalar", lambda t: "hello\n", ("a pipeline file is a mapping",)),
    ("tab-indent", lambda t: t.replace("  connector: files", "\tconnector: files"), ("not valid YAML",)),
    ("unclosed-quote", lambda t: t.replace("store_hash: abc123", 'store_hash: "abc123'), ("not valid YAML",)),
    ("two-documents", lambda t: t + "---\nname: other\n", ("not valid YAML",)),
    ("python-tag", lambda t: t + "x: !!python/object/apply:os.system ['true']\n", ("not valid YAML",)),
    ("recursive-anchor", lambda t: t + "x: &x [*x]\n", ("loop",)),
    ("recursive-map-anchor", lambda t: t + "x: &x {a: *x}\n", ("loop",)),
    # duplicate keys
    ("dup-top", lambda t: t + "name: other\n", ("'name' appears twice",)),
    ("dup-source", lambda t: t.replace("source:\n", "source:\n  connector: files\n", 1), ("'connector' appears twice",)),
    ("dup-config", lambda t: t.replace("    store_hash: abc123\n", "    store_hash: abc123\n    store_hash: x\n"),
     ("'store_hash' appears twice",)),
    ("dup-flow", lambda t: t + "x: {a: 1, a: 2}\n", ("'a' appears twice",)),
    ("dup-int-keys", lambda t: t + "x: {1: a, 1: b}\n", ("appears twice",)),
    # versions
    ("version-0", lambda t: t.replace("version: 1", "version: 0"), ("version",)),
    ("version-2", lambda t: t.replace("version: 1", "version: 2"), ("version", "1")),
    ("version-text", lambda t: t.replace("version: 1", "version: one"), ("version",)),
    ("version-float", lambda t: t.replace("version: 1", "version: 1.5"), ("version",)),
    ("version-true", lambda t: t.replace("version: 1", "version: true"), ("version",)),
    ("version-list", lambda t: t.replace("version: 1", "version: [1]"), ("version",)),
    ("version-huge", lambda t: t.replace("version: 1", "version: 99999999999999999999999"), ("version",)),
    # ${VAR}
    ("var-unclosed", lambda t: t.replace("store_hash: abc123", "store_hash: ${STORE"), ("store_hash", "${STORE")),
    ("var-unclosed-default", lambda t: t.replace("store_hash: abc123", "store_hash: ${STORE:-abc"),
     ("store_hash", "not closed")),
    ("var-digit-name", lambda t: t.replace("store_hash: abc123", "store_hash: ${1STORE}"), ("store_hash", "valid")),
    ("var-empty-name", lambda t: t.replace("store_hash: abc123", "store_hash: ${}"), ("store_hash",)),
    ("var-space", lambda t: t.replace("store_hash: abc123", "store_hash: ${ STORE }"), ("store_hash",)),
    ("var-unset", lambda t: t.replace("store_hash: abc123", "store_hash: ${HARDENING_NEVER_SET_VAR}"),
     ("store_hash", "HARDENING_NEVER_SET_VAR")),
    ("var-in-list", lambda t: t.replace("normalise: shipments", "normalise: shipments\n      primary_key: ['${X']"),
     ("primary_key",)),
    ("var-second-unclosed", lambda t: t.replace("store_hash: abc123", "store_hash: ${A:-a}${B"), ("store_hash",)),
    # absurd numbers
    ("rps-1e30", lambda t: t.replace("requests_per_second: 1000", "requests_per_second: 1.0e+30"),
     ("requests_per_second",)),
    ("rps-inf", lambda t: t.replace("requests_per_second: 1000", "requests_per_second: .inf"),
     ("requests_per_second",)),
    ("rps-nan", lambda t: t.replace("requests_per_second: 1000", "requests_per_second: .nan"),
     ("requests_per_second",)),
    ("rps-zero", lambda t: t.replace("requests_per_second: 1000", "requests_per_second: 0"), ("requests_per_second",)),
    ("rps-negative", lambda t: t.replace("requests_per_second: 1000", "requests_per_second: -5"),
     ("requests_per_second",)),
    ("rps-text", lambda t: t.replace("requests_per_second: 1000", "requests_per_second: fast"),
     ("requests_per_second",)),
    ("page-size-negative", lambda t: t.replace("requests_per_second: 1000", "page_size: -1"), ("page_size",)),
    ("page-size-huge", lambda t: t.replace("requests_per_second: 1000", "page_size: 1000000000000"), ("page_size",)),
    ("timeout-inf", lambda t: t.replace("requests_per_second: 1000", "timeout_s: .inf"), ("timeout_s",)),
    ("timeout-day", lambda t: t.replace("requests_per_second: 1000", "timeout_s: 86400"), ("timeout_s",)),
    ("lookback-forever", lambda t: t.replace("requests_per_second: 1000", "lookback_minutes: 99999999999"),
     ("lookback_minutes",)),
    ("sample-rows-huge", lambda t: t.replace("normalise: shipments", "normalise: shipments\n      sample_rows: 1e30"),
     ("sample_rows",)),
    # URLs
    ("url-ftp", lambda t: t.replace(CLOSED_URL, "ftp://127.0.0.1:9"), ("base_url", "http")),
    ("url-no-scheme", lambda t: t.replace(CLOSED_URL, "127.0.0.1:9"), ("base_url",)),
    ("url-words", lambda t: t.replace(CLOSED_URL, "not a url"), ("base_url",)),
    ("url-no-host", lambda t: t.replace(CLOSED_URL, "http://"), ("base_url",)),
    ("url-bad-port", lambda t: t.replace(CLOSED_URL, "http://127.0.0.1:port"), ("base_url",)),
    ("url-space", lambda t: t.replace(CLOSED_URL, "'http://127.0.0.1 :9'"), ("base_url",)),
    ("url-file", lambda t: t.replace(CLOSED_URL, "file:///etc/passwd"), ("base_url",)),
    ("url-javascript", lambda t: t.replace(CLOSED_URL, "'javascript:alert(1)'"), ("base_url",)),
    ("url-empty", lambda t: t.replace(CLOSED_URL, "''"), ("base_url",)),
    ("url-number", lambda t: t.replace(CLOSED_URL, "8713"), ("base_url",)),
    # wrong shapes of the pipeline's own keys
    ("name-bad", lambda t: t.replace("name: hardening", "name: '../etc'"), ("name",)),
    ("unknown-top-key", lambda t: t + "schedule: hourly\n", ("schedule",)),
    ("connector-unknown", lambda t: t.replace("connector: bigcommerce", "connector: bigcomerce"), ("bigcomerce",)),
    ("streams-empty", lambda t: t.replace("path:", "ignored:"), ("ignored",)),
    ("source-missing", lambda t: t.replace("source:", "sauce:"), ("sauce",)),
]


@pytest.mark.parametrize("case, edit, names", TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
def test_a_broken_pipeline_file_is_a_clear_error(place, case, edit, names):
    bad = write_pipeline(place["file"], edit(_text(place)))
    assert_clear_error(run_sync(bad), *names)


# paths the pipeline names: a folder given as the file, a parent that is a file, a file of another kind

def _state(place, value: str) -> Path:
    place["tree"]["state"] = value
    return write_pipeline(place["file"], place["tree"])


def _credentials(place, value: str) -> Path:
    place["tree"]["credentials"] = value
    return write_pipeline(place["file"], place["tree"])


@pytest.mark.parametrize("case", ["folder", "under-a-file", "not-duckdb", "yaml-as-state", "unwritable"])
def test_a_state_path_that_cannot_be_a_state_file(place, case):
    d: Path = place["dir"]
    if case == "folder":
        path = _state(place, str(d))
        names: tuple[str, ...] = ("state", "is a folder")
    elif case == "under-a-file":
        (d / "afile").write_text("x")
        path, names = _state(place, str(d / "afile" / "x.duckdb")), ("state", "is a file")
    elif case == "not-duckdb":
        (d / "notes.duckdb").write_text("these are my notes")
        path, names = _state(place, str(d / "notes.duckdb")), ("state", "not a state file")
    elif case == "yaml-as-state":
        path = _state(place, str(place["file"]))
        names = ("state", "not a state file")
    else:
        if os.geteuid() == 0:
            pytest.skip("root can write anywhere")
        (d / "locked").mkdir(mode=0o500)
        path, names = _state(place, str(d / "locked" / "x.duckdb")), ("state", "not writable")
    assert_clear_error(run_sync(path), *names)
    place["tree"]["state"] = str(d / "state" / "hardening.duckdb")
    _clean_run_succeeds(place)


def test_a_missing_state_folder_is_created(place):
    path = _state(place, str(place["dir"] / "new" / "deeper" / "s.duckdb"))
    outcome = run_sync(path, None, "--json")
    assert outcome.code == 0, outcome.output
    assert (place["dir"] / "new" / "deeper" / "s.duckdb").is_file()


@pytest.mark.parametrize("case", ["folder", "under-a-file", "not-sqlite"])
def test_a_credentials_path_that_cannot_be_a_credentials_file(place, case):
    d: Path = place["dir"]
    if case == "folder":
        path, names = _credentials(place, str(d)), ("credentials", "is a folder")
    elif case == "under-a-file":
        (d / "afile").write_text("x")
        path, names = _credentials(place, str(d / "afile" / "c.sqlite")), ("credentials", "is a file")
    else:
        (d / "c.sqlite").write_text("refresh_token=abc")
        path, names = _credentials(place, str(d / "c.sqlite")), ("credentials", "not a credentials file")
    assert_clear_error(run_sync(path), *names)


@pytest.mark.parametrize("key", ["short", "x" * 44, "A" * 43 + "!", "A" * 45, "ÄÖÜ" * 15, "A" * 42 + "=="])
def test_a_secret_key_of_the_wrong_shape(place, key):
    path = write_pipeline(place["file"], place["tree"])
    outcome = run_sync(path, {"LEDGERLINK_SECRET_KEY": key})
    assert_clear_error(outcome, "LEDGERLINK_SECRET_KEY", "44 characters")
    assert key not in outcome.output.replace("LEDGERLINK_SECRET_KEY", "")  # never echoed
    assert "Fernet.generate_key" in outcome.output  # how to make one
    _clean_run_succeeds(place)


def test_a_pipeline_file_that_is_a_folder(place):
    folder = place["dir"] / "pipe.yaml"
    folder.mkdir()
    assert_clear_error(run_sync(folder), "folder")


# ------------------------------------------------------------------------------------------ generated cases

def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path of the tree (dict keys and list indexes)."""
    out: list[tuple] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append(prefix + (k,))
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


def _get(tree: Any, path: tuple) -> Any:
    for part in path:
        tree = tree[part]
    return tree


#: keys whose parents refuse unknown keys (a typo there must be named); `columns` maps the file's own headers
TYPO_PATHS = [p for p in _paths(good_pipeline(Path("s"), "f")) if isinstance(p[-1], str) and "columns" not in p[:-1]]


def _typo(word: str, data: st.DataObject) -> str:
    kind = data.draw(st.sampled_from(["drop", "double", "swap", "case", "insert"]))
    i = data.draw(st.integers(0, len(word) - 1))
    if kind == "drop" and len(word) > 1:
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and i + 1 < len(word) and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "case":
        return word[:i] + word[i].swapcase() + word[i + 1:] if word[i].isalpha() else word + "_"
    return word[:i] + data.draw(st.sampled_from("xqz-")) + word[i:]


@FUZZ
@given(data=st.data())
def test_random_key_typos_are_named(place, data):
    path = data.draw(st.sampled_from(TYPO_PATHS))
    tree = copy.deepcopy(place["tree"])
    parent = _get(tree, path[:-1])
    typo = _typo(path[-1], data)
    if typo == path[-1] or typo in parent:
        return
    parent[typo] = parent.pop(path[-1])
    outcome = run_sync(write_pipeline(place["file"], tree))
    assert_clear_error(outcome)
    line = next(ln for ln in outcome.output.splitlines() if ln.startswith("error:"))
    assert typo in line or path[-1] in line, line


#: (path, a strategy of values of the wrong type for it)
SCALARS = st.one_of(st.integers(-10**6, 10**6), st.booleans(), st.text(max_size=8))
CONTAINERS = st.one_of(st.lists(st.integers(), max_size=3), st.dictionaries(st.text("ab", max_size=2), st.integers(),
                                                                            max_size=2))
WRONG_TYPES = [
    (("version",), st.one_of(st.text(max_size=5), CONTAINERS, st.integers(2, 10**9))),
    (("name",), CONTAINERS),
    (("state",), CONTAINERS),
    (("source",), SCALARS),
    (("source", "connector"), CONTAINERS),
    (("source", "config"), st.one_of(st.integers(), st.text(min_size=1, max_size=5), st.lists(st.integers(),
                                                                                                max_size=2))),
    (("source", "config", "streams"), st.one_of(SCALARS, st.dictionaries(st.just("a"), st.integers(), max_size=1))),
    (("source", "config", "streams", 0, "name"), CONTAINERS),
    (("source", "config", "streams", 0, "path"), CONTAINERS),
    (("source", "config", "streams", 0, "columns"), st.one_of(st.integers(), st.lists(st.integers(), max_size=2))),
    (("source", "config", "streams", 0, "normalise"), st.one_of(st.integers(), CONTAINERS, st.sampled_from(["ship"]))),
    (("destination", "config", "base_url"), st.one_of(st.integers(), CONTAINERS, st.booleans())),
    (("destination", "config", "store_hash"), st.one_of(CONTAINERS, st.sampled_from(["", "a b", "a/b", "é"]))),
    (("destination", "config", "access_token"), CONTAINERS),
    (("destination", "config", "requests_per_second"),
     st.one_of(CONTAINERS, st.floats(allow_nan=True, allow_infinity=True).filter(lambda f: not 0 < f <= 100_000),
               st.text("abc", min_size=1, max_size=4))),
]


@FUZZ
@given(data=st.data())
def test_random_wrong_types_are_named(place, data):
    path, values = data.draw(st.sampled_from(WRONG_TYPES))
    value = data.draw(values)
    tree = copy.deepcopy(place["tree"])
    _get(tree, path[:-1])[path[-1]] = value
    outcome = run_sync(write_pipeline(place["file"], tree))
    assert_clear_error(outcome)
    line = next(ln for ln in outcome.output.splitlines() if ln.startswith("error:"))
    named = [str(p) for p in path if isinstance(p, str)]
    assert any(n in line for n in named[-2:]) or "nested" in line or "expands" in line, (path, value, line)


@FUZZ
@given(depth=st.integers(1, 400), kind=st.sampled_from(["list", "dict", "mixed"]),
       where=st.sampled_from([("destination", "config", "store_hash"), ("name",), ("source", "config", "streams")]))
def test_random_nesting_is_refused_or_named(place, depth, kind, where):
    value: Any = "x"
    for i in range(depth):
        value = [value] if kind == "list" or (kind == "mixed" and i % 2) else {"k": value}
    tree = copy.deepcopy(place["tree"])
    _get(tree, where[:-1])[where[-1]] = value
    text = yaml.safe_dump(tree, sort_keys=False, default_flow_style=depth % 2 == 0, width=10**9)
    outcome = run_sync(write_pipeline(place["file"], text))
    assert_clear_error(outcome)
    line = next(ln for ln in outcome.output.splitlines() if ln.startswith("error:"))
    assert "nested" in line or where[-1] in line, line


INVALID_UTF8 = [b"\xff", b"\xfe", b"\xc0\x80", b"\xed\xa0\x80", b"\xe2\x82", b"\x80", b"\xf8\x88\x80\x80\x80",
                b"\xc3\x28", b"\xf0\x28\x8c\x28"]


@FUZZ
@given(data=st.data())
def test_invalid_bytes_anywhere_name_their_line(place, data):
    text = _text(place).encode()
    lines = text.split(b"\n")
    n = data.draw(st.integers(0, len(lines) - 2))
    line = lines[n]
    at = data.draw(st.integers(0, len(line)))
    bad = data.draw(st.sampled_from(INVALID_UTF8))
    lines[n] = line[:at] + bad + line[at:]
    outcome = run_sync(write_pipeline(place["file"], b"\n".join(lines)))
    assert_clear_error(outcome, "not UTF-8", f"line {n + 1}")


# ------------------------------------------------------------------------------------------ and then it still runs

def test_after_the_corpus_the_clean_pipeline_ships_against_the_store(place):
    """Every refusal above happens before the state is opened; the clean file then syncs for real."""
    from ledgerlink.files import samples

    for _, edit, _ in TEXT_CASES[:12]:  # a few bad runs first, on the same state path
        run_sync(write_pipeline(place["file"], edit(_text(place))))
    with bigcommerce_store() as url:
        orders = samples.bigcommerce_orders_to_ship(url, limit=2)
        samples.write_shipments(place["dir"] / "drop" / "3pl.csv", orders)
        tree = copy.deepcopy(place["tree"])
        tree["destination"]["config"]["base_url"] = url
        outcome = run_sync(write_pipeline(place["dir"] / "clean.yaml", tree), None, "--json")
    assert outcome.code == 0, outcome.output
    assert report(outcome)["counts"]["created"] == {"order_shipments": len(orders)}
