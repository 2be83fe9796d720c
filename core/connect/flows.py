"""The public contract a connector follows to be connected from the console (`ledgerlink.connect`).

A connector class that can be connected carries a `connect_flow` attribute: an `OAuthConnect` (the user is sent
to the vendor's consent page, which sends them back with a code the flow exchanges for tokens) or a
`FormConnect` (the user types what the vendor gave them: a store hash and an API token, a password). Either way
the flow answers a `ConnectedAccount`: which account, and the secrets to store under the names the connector
reads them by (`WriteContext.load_credential` / a source's stored-secret names). Core code only ever talks to
these classes; it never imports a plugin."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

from ..errors import ConfigError

__all__ = ["ConnectFlow", "OAuthConnect", "FormConnect", "FormField", "ConnectedAccount", "ConnectRefused",
           "Download", "connect_flow_of"]


class ConnectRefused(ConfigError):
    """A connection was not made: the user denied consent, the vendor refused the code, the state did not match.
    Says what happened and what to do; nothing was stored."""


@dataclass(frozen=True)
class FormField:
    """One field the console asks for: `secret` ones are never shown back, nor logged."""

    name: str
    label: str
    secret: bool = False
    help: str = ""
    #: the value shown in the form (for a field the pipeline file already names, e.g. a store hash)
    default: str = ""
    required: bool = True


@dataclass(frozen=True)
class ConnectedAccount:
    """What connecting produced: the account (a realm id, a selling partner id, a store hash, a user name), a
    label people read, and the secrets to store (stored-credential name → value)."""

    account: str
    label: str
    secrets: dict[str, str] = field(repr=False)
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Download:
    """A file the console offers for an account (the Web Connector's `.qwc`)."""

    filename: str
    media_type: str
    content: str


class ConnectFlow:
    """What every flow says: its family (accounts of one family with the same id are one account, e.g. a
    QuickBooks company used by a source and a destination), a title, and which account a pipeline names."""

    kind: ClassVar[str] = ""
    #: accounts are keyed by (family, account): the qbo source and destination share `qbo`
    family: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: what the console asks for (OAuth: before leaving for the consent page; form: everything)
    fields: ClassVar[tuple[FormField, ...]] = ()

    def account(self, config: Mapping[str, Any]) -> str | None:
        """The account the pipeline's config names (None: it names none yet)."""
        return None

    def credential_names(self, config: Mapping[str, Any]) -> list[str]:
        """The stored-credential names this config's account is read from (for status and disconnect)."""
        return []

    def form_fields(self, config: Mapping[str, Any]) -> list[FormField]:
        """The fields for this pipeline (defaults filled from its config)."""
        return list(self.fields)

    #: how long an authorisation lasts from the day a person gave it, when the vendor limits it (Amazon: 365), so
    #: the console and the `token_expiring` alert can say when to authorise again (None: no fixed limit)
    authorisation_valid_days: ClassVar[float | None] = None

    #: the files the console offers for this account, by name (e.g. `qwc`)
    files: ClassVar[tuple[str, ...]] = ()

    def download(self, config: Mapping[str, Any], name: str, *, plugin_url: Callable[[str], str]) -> Download:
        """The file `name` (one of `files`); `plugin_url(mount)` is where this console serves the pipeline's
        plugin app registered at `mount` (e.g. the Web Connector endpoint at /qbwc)."""
        raise ConfigError(f"no file {name!r}", where="file")

    def legacy_accounts(self, config: Mapping[str, Any]) -> list[str]:
        """Ids the same account was recorded under by an earlier version (shown as connected until it is connected
        again under `account`)."""
        return []

    def revoke(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> str | None:
        """Tell the vendor the stored tokens are no longer wanted (best effort); what happened, or None."""
        return None


class OAuthConnect(ConnectFlow):
    """An OAuth 2.0 authorization-code flow: `authorize_url` sends the user to the vendor's consent page with
    our `state`; the vendor redirects back to `redirect_uri` with parameters `finish` exchanges."""

    kind: ClassVar[str] = "oauth"

    def authorize_url(self, config: Mapping[str, Any], *, state: str, redirect_uri: str,
                      values: Mapping[str, str]) -> str:
        raise NotImplementedError

    def finish(self, config: Mapping[str, Any], params: Mapping[str, str], *, redirect_uri: str) -> ConnectedAccount:
        """Exchange what the vendor sent back; ConnectRefused (with the vendor's reason) when there is nothing
        to store. The state has been checked already."""
        raise NotImplementedError


class FormConnect(ConnectFlow):
    """Credentials typed once in the console and checked at once against the remote."""

    kind: ClassVar[str] = "form"

    def connect(self, config: Mapping[str, Any], values: Mapping[str, str]) -> ConnectedAccount:
        """Check `values` against the remote (ConnectRefused naming the field when they do not work)."""
        raise NotImplementedError


def connect_flow_of(connector: Any) -> ConnectFlow | None:
    """A connector class's (or instance's) connect flow, if it has one."""
    flow = getattr(connector, "connect_flow", None)
    return flow if isinstance(flow, ConnectFlow) else None
