"""A settlement that cannot be posted exactly is put on hold: a record error that names every reason, so it
goes to the dead-letter queue (`ledgerlink dlq`) and nothing of it is posted, while the rest of the run goes on."""

from __future__ import annotations

from ..errors import RecordError

__all__ = ["SettlementOnHold"]


class SettlementOnHold(RecordError):
    """Why a settlement is on hold: its rows do not add up to its total, a row has no role, a rate is missing."""

    def __init__(self, settlement_key: str, reasons: list[str], *, field: str | None = None,
                 hint: str | None = None):
        self.reasons = list(reasons)
        shown = reasons[:20] + ([f"... and {len(reasons) - 20} more"] if len(reasons) > 20 else [])
        super().__init__("settlement on hold: " + "; ".join(shown), stream="settlement", key=settlement_key,
                         field=field, hint=hint)
