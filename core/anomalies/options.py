"""The thresholds of every anomaly check, as a bookkeeper sets them in the pipeline file
(`destination.options.anomalies`): one typed block per check, each with a default that suits a small online
store. An unknown name or a value out of range is a clear error naming the field, never ignored."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError

__all__ = ["AnomalyOptions", "parse_anomaly_options"]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DriftOptions(_Block):
    """A value compared with its own history by median and MAD (robust z-score), never a fixed percentage."""

    threshold: float = Field(3.5, gt=0, le=100, description="robust z-score above which a value has drifted")
    min_history: int = Field(5, ge=2, le=10_000, description="earlier observations needed before judging")
    min_change: Decimal = Field(Decimal("0.005"), ge=0, description="smallest change worth a finding (a rate, or "
                                "an amount per unit), so a perfectly flat history does not flag a rounding cent")


class SpikeOptions(_Block):
    """A rate per period (refunds, cancellations) compared with the earlier periods by median and MAD."""

    threshold: float = Field(3.5, gt=0, le=100, description="robust z-score above which the latest period spikes")
    period_days: int = Field(7, ge=1, le=366, description="length of one period")
    min_periods: int = Field(4, ge=2, le=520, description="earlier periods needed before judging")
    min_count: int = Field(3, ge=1, le=1_000_000, description="events in the latest period needed for a finding")
    min_change: float = Field(0.02, ge=0, le=1, description="smallest rise of the rate worth a finding")


class SettlementGapOptions(_Block):
    slack_hours: float = Field(24, ge=0, le=24 * 60, description="gap between two settlements that is tolerated")
    overdue_days: float = Field(21, gt=0, le=366, description="days after the last settlement ended with no new one")


class OverlapOptions(_Block):
    slack_hours: float = Field(1, ge=0, le=24 * 60, description="overlap between two settlements that is tolerated")


class AgeOptions(_Block):
    max_age_hours: float = Field(48, ge=0, le=24 * 366, description="age after which it is a finding")


class DepositOptions(_Block):
    tolerance: Decimal = Field(Decimal("0.01"), ge=0, description="difference tolerated between deposit and settlement")
    #: what the bank statement shows, by settlement id (home currency when settlements are converted)
    deposits: dict[str, Decimal] = Field(default_factory=dict)


class DuplicateOptions(_Block):
    same_day_same_amount: bool = Field(True, description="also flag two settlements with the same amount, currency "
                                       "and deposit day under different ids")


class MarginOptions(_Block):
    min_margin: Decimal = Field(Decimal("0"),
                                description="unit margin (price - cost - fees) below which a SKU is flagged")
    #: unit costs by SKU, for sources that carry none (they win over the source's own)
    unit_costs: dict[str, Decimal] = Field(default_factory=dict)


class WindowOptions(_Block):
    window_days: float = Field(45, gt=0, le=366, description="days the channel usually takes; older is a finding")


class QuietOptions(_Block):
    quiet_hours: float = Field(24, gt=0, le=24 * 366, description="hours without a Web Connector call")


class BacklogOptions(_Block):
    window_hours: float = Field(24, gt=0, le=24 * 366, description="compare the open dead letters with this long ago")
    min_growth: int = Field(10, ge=1, le=1_000_000, description="new open dead letters in the window for a finding")


class AnomalyOptions(_Block):
    """Every check's threshold; `disabled` turns named checks off (listed as disabled, never as passing)."""

    referral_fee_drift: DriftOptions = DriftOptions()
    fulfilment_fee_drift: DriftOptions = DriftOptions(min_change=Decimal("0.10"))
    tax_rate_drift: DriftOptions = DriftOptions(min_change=Decimal("0.005"))
    missing_settlement: SettlementGapOptions = SettlementGapOptions()
    overlapping_settlement: OverlapOptions = OverlapOptions()
    held_settlement: AgeOptions = AgeOptions(max_age_hours=0)
    deposit_mismatch: DepositOptions = DepositOptions()
    payout_counted_twice: DuplicateOptions = DuplicateOptions()
    negative_margin: MarginOptions = MarginOptions()
    missing_unit_cost: MarginOptions = MarginOptions()
    refund_without_restock: WindowOptions = WindowOptions()
    lost_inventory_unreimbursed: WindowOptions = WindowOptions()
    refund_rate_spike: SpikeOptions = SpikeOptions()
    cancellation_spike: SpikeOptions = SpikeOptions()
    unposted_orders: AgeOptions = AgeOptions()
    web_connector_quiet: QuietOptions = QuietOptions()
    dead_letter_backlog: BacklogOptions = BacklogOptions()
    disabled: list[str] = Field(default_factory=list)

    def unit_costs(self) -> dict[str, Decimal]:
        """The unit costs given in the options (either check's block)."""
        return {**self.missing_unit_cost.unit_costs, **self.negative_margin.unit_costs}


def parse_anomaly_options(given: Any, *, where: str = "destination.options.anomalies") -> AnomalyOptions:
    """The options block as typed options; a wrong name or value is a ConfigError naming the field."""
    if given is None:
        return AnomalyOptions()
    if not isinstance(given, dict):
        raise ConfigError(f"{where} must be a mapping of check names to thresholds", where=where,
                          hint="e.g. anomalies: {referral_fee_drift: {threshold: 4}}")
    try:
        options = AnomalyOptions.model_validate(given)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}.{path}: {first['msg']}", where=f"{where}.{path}",
                          hint="see docs/concepts/anomalies.md for every check's thresholds") from None
    from .registry import CHECKS

    unknown = [name for name in options.disabled if name not in CHECKS]
    if unknown:
        raise ConfigError(f"{where}.disabled names no check {', '.join(unknown)}", where=f"{where}.disabled",
                          hint=f"checks: {', '.join(CHECKS)}")
    return options
