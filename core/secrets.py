"""Keeping secrets out of logs, error messages and files.

Every config field marked secret in a connector's spec (`airbyte_secret: true`) is registered here when the
config is loaded; every log record passes through `MaskSecrets`, which replaces registered values with ****.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any, Iterable

from .errors import ConfigError

__all__ = ["SECRET", "register_secret", "mask", "MaskSecrets", "secret_paths", "register_config_secrets",
           "redact_config", "install_log_masking", "SECRET_KEY_ENV", "SECRET_KEY_FILE_ENV", "secret_key", "MAKE_KEY_HINT",
           "user_key_file", "owner_only", "make_private"]

SECRET = "****"
_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register_secret(value: Any) -> None:
    """Remember a secret value so that it is masked wherever it would be printed."""
    global _pattern
    if not isinstance(value, str) or len(value) < 4:
        return
    with _lock:
        if value in _values:
            return
        _values.add(value)
        _pattern = re.compile("|".join(re.escape(v) for v in sorted(_values, key=len, reverse=True)))


def mask(text: str) -> str:
    pattern = _pattern
    return pattern.sub(SECRET, text) if pattern is not None and text else text


def secret_paths(schema: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of the fields a JSON Schema marks secret: `airbyte_secret: true`, or pydantic's `SecretStr`
    (`writeOnly` with `format: password`). Descends into nested objects, follows local `$ref`s (pydantic
    puts nested models in `$defs`) and looks inside `oneOf`/`anyOf`/`allOf` (Airbyte's auth choices)."""
    out: list[tuple[str, ...]] = []
    _collect_secret_paths(schema, schema, prefix, out, frozenset())
    return list(dict.fromkeys(out))


def _resolve(node: Any, root: dict[str, Any], seen: frozenset[str]) -> tuple[Any, frozenset[str]]:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        ref = node["$ref"]
        if ref in seen:  # a recursive model: stop rather than loop
            return {}, seen
        seen = seen | {ref}
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
        node = target
    return node, seen


def _is_secret(prop: Any, root: dict[str, Any], seen: frozenset[str]) -> bool:
    prop, seen = _resolve(prop, root, seen)
    if not isinstance(prop, dict):
        return False
    if prop.get("airbyte_secret") or (prop.get("writeOnly") and prop.get("format") == "password"):
        return True
    return any(_is_secret(b, root, seen) for k in ("anyOf", "oneOf") for b in prop.get(k) or [])


def _collect_secret_paths(node: Any, root: dict[str, Any], prefix: tuple[str, ...],
                          out: list[tuple[str, ...]], seen: frozenset[str]) -> None:
    node, seen = _resolve(node, root, seen)
    if not isinstance(node, dict):
        return
    for name, prop in (node.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if _is_secret(prop, root, seen):
            out.append(prefix + (name,))
        _collect_secret_paths(prop, root, prefix + (name,), out, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key) or []:
            _collect_secret_paths(branch, root, prefix, out, seen)


def _walk(config: dict[str, Any], paths: Iterable[tuple[str, ...]]):
    for path in paths:
        node: Any = config
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            yield node, path[-1]


def register_config_secrets(config: dict[str, Any], schema: dict[str, Any]) -> None:
    for node, key in _walk(config, secret_paths(schema)):
        register_secret(node[key])


def redact_config(config: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `config` with its secret fields replaced by ****, safe to print or store."""
    import copy

    out = copy.deepcopy(config)
    for node, key in _walk(out, secret_paths(schema)):
        node[key] = SECRET
    return out


class MaskSecrets(logging.Filter):
    """A logging filter that masks every registered secret in the rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is not None:
            record.msg = mask(record.getMessage())
            record.args = None
            # A traceback is formatted later by the handler's Formatter, which reuses `exc_text` when
            # set: render and mask it now, or an exception's message would carry the secret out.
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = mask(record.exc_text)
            if record.stack_info:
                record.stack_info = mask(record.stack_info)
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskSecrets) for f in handler.filters):
            handler.addFilter(MaskSecrets())
    if not any(isinstance(f, MaskSecrets) for f in target.filters):
        target.addFilter(MaskSecrets())


#: the environment variable holding the key that encrypts stored credentials
SECRET_KEY_ENV = "LEDGERLINK_SECRET_KEY"
#: the environment variable naming a key file (e.g. a mounted secret), when the key itself is not in the environment
SECRET_KEY_FILE_ENV = "LEDGERLINK_SECRET_KEY_FILE"
MAKE_KEY_HINT = ("make one with: python -c \"from cryptography.fernet import Fernet; "
                 "print(Fernet.generate_key().decode())\"")

log = logging.getLogger("ledgerlink.secrets")
_warned: set[str] = set()


def _check_key(key: bytes, where: str) -> bytes:
    """A Fernet key is 32 random bytes in URL-safe base64: 44 characters ending in `=`. Says what is wrong
    without ever printing the key."""
    problem = None
    try:
        raw = base64.urlsafe_b64decode(key) if len(key) == 44 else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(key) != 44:
        problem = f"is {len(key)} characters long"
    elif not re.fullmatch(rb"[A-Za-z0-9_-]{43}=", key) or len(raw) != 32:
        problem = "is not URL-safe base64 (letters, digits, - and _, ending in =)"
    if problem:
        raise ConfigError(f"the secret key {problem}; a key is 32 bytes in URL-safe base64, 44 characters",
                          where=where, hint=MAKE_KEY_HINT + (f" and export {SECRET_KEY_ENV}=<it>"
                                                             if where == SECRET_KEY_ENV else ""))
    return key


def user_key_file() -> Path:
    """This user's key file, outside every workspace: `$XDG_CONFIG_HOME/ledgerlink/secret.key` (default
    `~/.config/ledgerlink/secret.key`). Whoever can read a workspace folder (a backup, a shared drive, a
    colleague's account) cannot decrypt its tokens without it."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ledgerlink" / "secret.key"


def owner_only() -> None:
    """Mask group and other bits from every file this process creates from now on (state files, their DuckDB
    write-ahead logs, credential stores, key files): they hold buyers' names and addresses and tokens. A file's
    own mode cannot cover the WAL DuckDB re-creates at each checkpoint; the process's umask does."""
    current = os.umask(0o077)
    os.umask(current | 0o077)


def make_private(path: Path) -> None:
    """Owner read/write only for an existing file (one created before `owner_only`, or by another tool)."""
    try:
        if path.exists() and path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError as exc:  # not ours to change (e.g. a file another user owns): say so, do not fail the run
        log.warning("could not make %s readable by its owner only: %s", path, exc.strerror or exc)


def _read_key_file(path: Path) -> bytes:
    if path.is_dir():
        raise ConfigError(f"{path} is a folder where the secret key file should be", where=str(path),
                          hint="move the folder away; a new key file is created in its place")
    try:
        data = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the secret key file: {exc.strerror or exc}", where=str(path),
                          hint="check the file's owner and permissions") from None
    return _check_key(data, str(path))


def _create_key_file(path: Path) -> bytes:
    """A new key, written whole before it is visible (two processes starting at once agree on one key)."""
    from cryptography.fernet import Fernet

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Fernet.generate_key()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        try:
            os.link(tmp, path)  # atomic, and refuses to replace a key another process made meanwhile
        except FileExistsError:
            return _read_key_file(path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return key


def _warn_once(path: Path, text: str) -> None:
    if str(path) not in _warned:
        _warned.add(str(path))
        log.warning(text)


def secret_key(key_file: Path | None) -> bytes:
    """The key that encrypts stored credentials, from the first of:

    1. `LEDGERLINK_SECRET_KEY` (the key itself: containers, CI, a secrets manager);
    2. `LEDGERLINK_SECRET_KEY_FILE` (a file holding it, e.g. a mounted secret; created 0600 when missing);
    3. a key file beside the state file (`key_file`) that already exists: what earlier versions made. It still
       decrypts the tokens stored with it, with a warning that whoever can read that folder can decrypt them;
    4. this user's key file outside the workspace (`user_key_file()`), created 0600 in a 0700 folder; when the
       home folder cannot be written, a new key file beside the state, with a warning.

    `key_file=None` (in-memory state) with neither variable set: a key that lives as long as the process.
    A key of the wrong shape is a ConfigError naming where it came from and how to make one."""
    from cryptography.fernet import Fernet

    env = os.environ.get(SECRET_KEY_ENV)
    if env:
        return _check_key(env.strip().encode("utf-8", "replace"), SECRET_KEY_ENV)
    named = os.environ.get(SECRET_KEY_FILE_ENV)
    if named:
        path = Path(named).expanduser()
        return _read_key_file(path) if path.exists() else _create_key_file(path)
    if key_file is None:
        return Fernet.generate_key()
    if key_file.exists() or key_file.is_symlink():
        _warn_once(key_file, f"the key that encrypts stored tokens sits beside the state ({key_file}): whoever can "
                             f"read that folder can decrypt them; move it to {user_key_file()} (or set "
                             f"{SECRET_KEY_ENV}) when no other key is in use, see docs/guides/security.md")
        return _read_key_file(key_file)
    user = user_key_file()
    if user.exists():
        return _read_key_file(user)
    try:
        return _create_key_file(user)
    except OSError as exc:
        _warn_once(key_file, f"cannot write the user key file {user} ({exc.strerror or exc}); the key that encrypts "
                             f"stored tokens goes beside the state instead ({key_file}): set {SECRET_KEY_ENV} or "
                             f"{SECRET_KEY_FILE_ENV} to keep it elsewhere")
        return _create_key_file(key_file)
