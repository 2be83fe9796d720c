"""Mapping suggestions, offline and explainable: settlement amounts → account roles, channel SKUs → ledger
items, payment methods → the ledger's payment methods, tax names → tax codes, and customers that are the same
buyer. Each suggestion carries a confidence (0–1) and its reason in words; a person confirms it before anything
is written, and what people accept teaches the next suggestions. Nothing here downloads anything."""

from __future__ import annotations

from .accepted import AcceptedMapping, AcceptedMappings, accepted_path
from .glossary import Glossary, GlossaryEntry, load_glossary, shipped_glossary
from .model import KINDS, Suggestion
from .roles import RoleSuggester, role_subject

__all__ = ["Suggestion", "KINDS", "Glossary", "GlossaryEntry", "load_glossary", "shipped_glossary",
           "AcceptedMapping", "AcceptedMappings", "accepted_path", "RoleSuggester", "role_subject"]
