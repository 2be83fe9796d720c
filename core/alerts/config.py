"""The workspace's alert rules (`alerts.yaml` beside the pipeline files): which events, for which pipelines, go
to which channels, and when (digest window, quiet hours, retries). A typed model that refuses unknown keys; every
problem is a ConfigError naming the file and the key path. Secrets are never written in the file: a channel names
the environment variable that holds its password, webhook secret or Slack URL."""

from __future__ import annotations

import difflib
import os
import re
from datetime import time as day_time
from pathlib import Path
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import ConfigError
from ..safe_yaml import load_yaml
from ..validators import http_url

__all__ = ["ALERTS_FILE", "EVENT_KINDS", "AlertsConfig", "Rule", "EmailChannel", "SlackChannel", "WebhookChannel",
           "QuietHours", "RetryPolicy", "alerts_path", "load_alerts", "parse_alerts", "env_secret"]

#: the file, in the served folder, that holds the rules (it has no source/destination, so it is not a pipeline)
ALERTS_FILE = "alerts.yaml"

#: what a rule can ask to hear about (the console page and the guide list them in words)
EVENT_KINDS = ("run_failed", "dead_letters", "reconcile_finding", "anomaly", "web_connector_silent",
               "token_expiring", "review_waiting")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def alerts_path(workspace_root: str | Path) -> Path:
    return Path(workspace_root) / ALERTS_FILE


def env_secret(name: str, where: str) -> str:
    """The secret a channel names by environment variable, read when a message is sent (never stored)."""
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"environment variable {name} is not set", where=where,
                          hint=f"export {name}=… in the environment `ledgerlink serve` runs in")
    return value


def _env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError("must name an environment variable (letters, digits and _), e.g. LEDGERLINK_SMTP_PASSWORD;"
                         " never write the secret itself in the file")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class QuietHours(_Strict):
    """Messages are held during these hours (in the workspace's time zone) and go out, as one digest, after."""

    start: day_time = Field(description="when quiet starts, e.g. 22:00")
    end: day_time = Field(description="when quiet ends, e.g. 07:00 (before start: quiet runs over midnight)")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hh_mm(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):  # YAML reads 22:00 unquoted as a sexagesimal number
            v = f"{v // 60:02d}:{v % 60:02d}"
        if isinstance(v, str) and not re.fullmatch(r"\d{1,2}:\d{2}", v.strip()):
            raise ValueError(f"{v!r} is not a time of day: write HH:MM, e.g. \"22:00\"")
        return v

    @model_validator(mode="after")
    def _not_empty(self) -> "QuietHours":
        if self.start == self.end:
            raise ValueError("start and end are the same time: remove quiet_hours to have none")
        return self

    def covers(self, t: day_time) -> bool:
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


class RetryPolicy(_Strict):
    """Exponential backoff for a message the channel refused or did not answer: first_delay, doubled each time."""

    max_attempts: int = Field(8, ge=1, le=100)
    first_delay_seconds: float = Field(30, gt=0, le=86400)
    max_delay_seconds: float = Field(3600, gt=0, le=7 * 86400)

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt."""
        return min(self.max_delay_seconds, self.first_delay_seconds * 2 ** max(0, attempts - 1))


class _Channel(_Strict):
    #: a channel's own digest window / quiet hours, when they differ from the workspace's
    digest_minutes: float | None = Field(None, ge=0, le=24 * 60)
    quiet_hours: QuietHours | None = None
    timeout_seconds: float = Field(20, gt=0, le=300)


class EmailChannel(_Channel):
    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    sender: str = Field(alias="from", min_length=3)
    to: list[str] = Field(min_length=1)
    #: a CA bundle to trust for this server (a private mail relay's own certificate)
    ca_file: str | None = None

    _password_env = field_validator("password_env")(classmethod(lambda cls, v: _env_name(v)))

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for address in v:
            if "@" not in address or any(c.isspace() for c in address.strip()):
                raise ValueError(f"{address!r} is not an e-mail address")
        return [a.strip() for a in v]

    @model_validator(mode="after")
    def _auth_pairs(self) -> "EmailChannel":
        if bool(self.username) != bool(self.password_env):
            raise ValueError("username and password_env go together (both for AUTH, neither without)")
        if self.username and self.security == "none":
            raise ValueError("AUTH over an unencrypted connection would send the password in clear: "
                             "use security: starttls or tls")
        return self

    def target(self) -> str:
        return f"{', '.join(self.to)} via {self.host}:{self.port}"


class SlackChannel(_Channel):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat…): its URL is a secret."""

    type: Literal["slack"]
    url_env: str

    _url_env = field_validator("url_env")(classmethod(lambda cls, v: _env_name(v)))

    def target(self) -> str:
        return f"the incoming webhook in ${self.url_env}"


class WebhookChannel(_Channel):
    """Any HTTPS endpoint: JSON body, signed with HMAC-SHA256 over timestamp and body (see the alerts guide)."""

    type: Literal["webhook"]
    url: str
    secret_env: str

    _secret_env = field_validator("secret_env")(classmethod(lambda cls, v: _env_name(v)))

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return http_url(v, "https://hooks.example.com/ledgerlink")

    def target(self) -> str:
        return self.url


Channel = Annotated[Union[EmailChannel, SlackChannel, WebhookChannel], Field(discriminator="type")]


class Rule(_Strict):
    """Which events of which pipelines go to which channels, with the thresholds of the events that need one."""

    name: str | None = None
    events: list[Literal["run_failed", "dead_letters", "reconcile_finding", "anomaly", "web_connector_silent",
                         "token_expiring", "review_waiting"]] = Field(min_length=1)
    #: pipeline names; empty means every pipeline of the workspace
    pipelines: list[str] = Field(default_factory=list)
    channels: list[str] = Field(min_length=1)
    dead_letters_above: int = Field(0, ge=0)
    review_waiting_above: int = Field(0, ge=0)
    web_connector_silent_minutes: float = Field(240, gt=0, le=366 * 24 * 60)
    token_expires_within_days: float = Field(14, gt=0, le=366)

    def covers(self, pipeline: str) -> bool:
        return not self.pipelines or pipeline in self.pipelines


class AlertsConfig(_Strict):
    #: the console's address as people reach it (links in every message point there)
    console_url: str
    timezone: str = "UTC"
    digest_minutes: float = Field(0, ge=0, le=24 * 60)
    quiet_hours: QuietHours | None = None
    check_every_seconds: float = Field(60, ge=5, le=86400)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    channels: dict[str, Channel] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("console_url")
    @classmethod
    def _console_url(cls, v: str) -> str:
        return http_url(v, "https://books.example.com")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not a time zone: use an IANA name such as Europe/Berlin or UTC") from None
        return v

    @model_validator(mode="after")
    def _rules_name_channels(self) -> "AlertsConfig":
        for i, rule in enumerate(self.rules):
            for j, name in enumerate(rule.channels):
                if name not in self.channels:
                    raise _KeyProblem(f"rules.{i}.channels.{j}", f"no channel named {name!r}",
                                      f"channels: {', '.join(self.channels)}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def channel_digest_minutes(self, name: str) -> float:
        own = self.channels[name].digest_minutes
        return self.digest_minutes if own is None else own

    def channel_quiet_hours(self, name: str) -> QuietHours | None:
        return self.channels[name].quiet_hours or self.quiet_hours


class _KeyProblem(ValueError):
    """A cross-field problem that knows its own key path (pydantic would place it at the model's root)."""

    def __init__(self, where: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.where, self.message, self.hint = where, message, hint


_CHANNEL_TYPES = {"email": EmailChannel, "slack": SlackChannel, "webhook": WebhookChannel}


def _model_at(loc: tuple[Any, ...]) -> Any:
    """The model class a location points into (for 'did you mean' on an unknown key)."""
    model: Any = AlertsConfig
    parts = list(loc)
    if parts[:1] == ["channels"] and len(parts) >= 3:  # channels.<name>.<type tag>...
        model, parts = _CHANNEL_TYPES.get(str(parts[2])), parts[3:]
    for part in parts:
        if isinstance(part, int):
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            return None
        candidates = [info.annotation, *getattr(info.annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return model


def _explain(exc: ValidationError) -> tuple[str, str, str | None]:
    errors = exc.errors()
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    # a channel's location carries the union tag (channels.mail.email.port): readers know the key, not the tag
    loc = [p for i, p in enumerate(err["loc"])
           if not (i >= 2 and err["loc"][i - 2] == "channels" and p in ("email", "slack", "webhook"))]
    where = ".".join(str(p) for p in loc) or "(top level)"
    ctx = err.get("ctx") or {}
    if isinstance(ctx.get("error"), _KeyProblem):
        problem = ctx["error"]
        return problem.where, problem.message, problem.hint
    if err["type"] == "extra_forbidden":
        bad = str(err["loc"][-1])
        model = _model_at(tuple(err["loc"][:-1]))
        known = [info.alias or name for name, info in getattr(model, "model_fields", {}).items()]
        close = difflib.get_close_matches(bad, known, n=1)
        return where, f"unknown key {bad!r}", ((f"did you mean {close[0]!r}? " if close else "")
                                               + (f"allowed: {', '.join(known)}" if known else "")) or None
    if err["type"] == "missing":
        return where, "required key is missing", None
    if err["type"] == "too_short":
        return where, "must not be empty", {"channels": "name at least one channel (email, slack or webhook)",
                                            "to": "name at least one address"}.get(str(loc[-1]) if loc else "")
    if err["type"] == "union_tag_invalid" or err["type"] == "union_tag_not_found":
        return where, "type must be one of email, slack, webhook", "e.g. type: email"
    if err["type"] == "literal_error" and loc and loc[0] == "rules":
        return where, f"no event named {err.get('input')!r}", f"events: {', '.join(EVENT_KINDS)}"
    message = str(ctx["error"]) if err["type"] == "value_error" and "error" in ctx else err["msg"]
    return where, message, None


def parse_alerts(raw: Any, source: str) -> AlertsConfig:
    """Validate the rules read from `source` (a file name, for the messages)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the alert rules are a mapping with console_url, channels and rules",
                          hint="see the alerts guide for an example")
    try:
        return AlertsConfig.model_validate(raw)
    except ValidationError as exc:
        where, message, hint = _explain(exc)
        located = ConfigError(f"{source}: {where}: {message}", hint=hint)
        located.where = where
        raise located from None


def parse_alerts_text(text: str, source: str) -> AlertsConfig:
    """Rules from YAML text (what the console's editor sends), with the same bounds as a file."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ALERTS_FILE
        path.write_text(text, encoding="utf-8")
        try:
            raw = load_yaml(path)
        except ConfigError as exc:
            raise ConfigError(exc.message.replace(str(path), source), hint=exc.hint) from None
    return parse_alerts(raw, source)


def load_alerts(path: str | Path) -> AlertsConfig | None:
    """The rules in `path`, or None when there is no such file (alerts are off)."""
    p = Path(path)
    if not p.exists():
        return None
    if p.is_dir():
        raise ConfigError(f"{p} is a folder, not the alert rules file", hint=f"alert rules live in {ALERTS_FILE}")
    try:
        raw = load_yaml(p)
    except yaml.YAMLError as exc:  # load_yaml turns most into ConfigError; belt and braces
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    return parse_alerts(raw, str(p))
