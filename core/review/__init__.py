"""Review before posting (the pipeline option `review`): planned documents wait in the outbox as "awaiting
approval" until a person approves or rejects them. Nothing posts unapproved while review is on.

The API, the console and `ledgerlink review` call these functions; the write step calls the gate.
"""

from .gate import ReviewGate, held_keys, hold_for_review, review_holds_new
from .mode import REVIEW_MODES, ReviewMode
from .post import post_approved
from .queue import (
    ReviewDecision, ReviewDocument, ReviewFilter, ReviewItem, ReviewStatus, SourceRow, approve, reject,
    resolve_keys, review_counts, review_document, review_items,
)
from .summary import DocumentSummary, SummaryLine, summarise

__all__ = [
    "REVIEW_MODES", "ReviewMode", "ReviewGate", "hold_for_review", "held_keys", "review_holds_new",
    "ReviewFilter", "ReviewItem", "ReviewDocument", "SourceRow", "ReviewDecision", "ReviewStatus",
    "review_items", "review_document", "approve", "reject", "review_counts", "resolve_keys", "post_approved",
    "DocumentSummary", "SummaryLine", "summarise",
]
