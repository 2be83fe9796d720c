"""Settlements (payouts) posted so the books tie to the bank: account roles, the role table, the account map,
the gates, and the channel-neutral journals destinations render (DESIGN §4)."""

from .accounts import AccountMap, AccountRef, EntityRef, default_account_map, load_account_map, parse_account_map
from .deposit import PayoutDeposit, payout_deposit
from .hold import SettlementOnHold
from .journal import Journal, JournalLine, NettedRole, row_ranges
from .options import SettlementOptions, parse_settlement_options
from .refs import line_refs, row_refs
from .posting import build_journals, check_ties, classify, journals_for, plan_journals, plan_payout
from .role_table import RoleRule, RoleTable, default_role_table, load_rules
from .roles import BALANCE_SHEET_ROLES, ORDER_FLOW_ROLES, ROLE_LABELS, Role
from . import reconcile_checks  # noqa: F401 - registers clearing_residual and reserve_balance

__all__ = [
    "Role", "ROLE_LABELS", "BALANCE_SHEET_ROLES", "ORDER_FLOW_ROLES",
    "RoleRule", "RoleTable", "default_role_table", "load_rules",
    "AccountMap", "AccountRef", "EntityRef", "default_account_map", "load_account_map", "parse_account_map",
    "Journal", "JournalLine", "NettedRole", "row_ranges",
    "SettlementOnHold", "SettlementOptions", "parse_settlement_options",
    "build_journals", "check_ties", "classify", "journals_for", "plan_journals",
    "PayoutDeposit", "payout_deposit", "plan_payout",
    "row_refs", "line_refs",  # audit refs of journal lines, built in bulk (issue 18)
]
