"""When a channel's queued events may go out: not during its quiet hours (in the workspace's time zone), and
not before the digest window that opened with the oldest of them has closed."""

from __future__ import annotations

from datetime import datetime, timezone

from .config import AlertsConfig

__all__ = ["in_quiet_hours", "ready_to_compose"]


def in_quiet_hours(config: AlertsConfig, channel: str, now: float) -> bool:
    quiet = config.channel_quiet_hours(channel)
    if quiet is None:
        return False
    local = datetime.fromtimestamp(now, timezone.utc).astimezone(config.zone)
    return quiet.covers(local.time().replace(tzinfo=None))


def ready_to_compose(config: AlertsConfig, channel: str, oldest_queued_at: float, now: float) -> bool:
    """The digest window opened by the oldest waiting event has closed (a window of 0 sends at once)."""
    return now >= oldest_queued_at + config.channel_digest_minutes(channel) * 60
