"""The console: `ledgerlink serve`'s secured control plane over a workspace of pipelines.

A workspace is a folder of pipeline files; its accounts, API tokens, sessions, login throttle and audit log live
in `.ledgerlink/console.db` inside it (owner-only), never in a pipeline's state file. The JSON API (`/api/v1`)
calls the same core functions the CLI does; the CLI, scripts and the web pages are its clients.
"""

from .accounts import ROLES, Accounts, User
from .audit import AuditLog
from .db import ConsoleDB
from .tokens import ApiToken, Tokens
from .workspace import Workspace

__all__ = ["ROLES", "Accounts", "User", "AuditLog", "ConsoleDB", "ApiToken", "Tokens", "Workspace"]
