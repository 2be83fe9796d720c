"""A workspace's alerts at work: read the rules (again whenever the file changes), turn what the served pipelines
say into events in the outbox, compose each channel's digest when its window has closed and it is not quiet
there, and deliver due messages with backoff. `serve` calls `after_run` when a sync ends and ticks on a timer;
`ledgerlink alerts send-pending` runs the sending half from another process."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import ConfigError
from .config import AlertsConfig, alerts_path, load_alerts, parse_alerts_text
from .delivery import DeliveryError, deliver
from .events import AlertEvent, Condition
from .outbox import AlertOutbox, alerts_db_path
from .render import render
from .schedule import in_quiet_hours, ready_to_compose
from .sources import AnomalySource, TokenExpirySource, events_for, no_anomalies, no_token_expiries

__all__ = ["WorkspaceAlerts", "SendReport", "MAX_EVENTS_PER_MESSAGE"]

log = logging.getLogger("ledgerlink.alerts")

#: a digest larger than this is split (the console lists everything)
MAX_EVENTS_PER_MESSAGE = 200


@dataclass
class SendReport:
    """What one `send_pending` did."""

    composed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"composed": self.composed, "sent": self.sent, "retrying": self.retrying, "failed": self.failed,
                "held": self.held, "errors": self.errors}


class WorkspaceAlerts:
    """The alerts of one workspace folder. With no `alerts.yaml` it does nothing (and starts when one appears)."""

    def __init__(self, root: str | Path, *, clock: Callable[[], float] = time.time,
                 anomaly_source: AnomalySource = no_anomalies, token_source: TokenExpirySource = no_token_expiries,
                 send: Callable[..., None] = deliver):
        self.root = Path(root)
        self.path = alerts_path(self.root)
        self.clock = clock
        self.anomaly_source, self.token_source, self._send = anomaly_source, token_source, send
        self.config: AlertsConfig | None = None
        #: why the file on disk is not in effect (shown on the console page), None when it is
        self.error: str | None = None
        self._seen: tuple[int, int, int] | None = None
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.outbox = AlertOutbox(alerts_db_path(self.root))
        try:
            self.reload(strict=True)
        except BaseException:
            self.outbox.close()
            raise

    # -- the rules -------------------------------------------------------------------------------------------------

    def reload(self, *, strict: bool = False) -> AlertsConfig | None:
        """The rules in effect, read again when the file changed. A broken file raises when `strict` (at start:
        `serve` refuses it with the key path); later it is logged and shown, and the last good rules stay."""
        with self._lock:
            try:
                stat = self.path.stat()
                seen: tuple[int, int, int] | None = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            except OSError:
                seen = None
            if seen == self._seen and (seen is not None or self.config is None):
                return self.config
            try:
                self.config = load_alerts(self.path)
                self.error = None
            except ConfigError as exc:
                if strict:
                    raise
                if self.error != str(exc):
                    log.error("alert rules not reloaded (the last good ones stay in effect): %s", exc)
                self.error = str(exc)
            self._seen = seen
            return self.config

    def save_text(self, text: str) -> AlertsConfig:
        """Validate rules typed in the console and, only when they are sound, replace the file (atomically)."""
        config = parse_alerts_text(text, str(self.path))
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        os.replace(tmp, self.path)
        with self._lock:
            self._seen = None
        self.reload()
        return config

    def text(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    # -- events in -------------------------------------------------------------------------------------------------

    def evaluate(self, services: Iterable[Any]) -> int:
        """Queue the events the rules ask for; how many (event, channel) pairs were new."""
        config = self.reload()
        if config is None or not config.rules:
            return 0
        now = self.clock()
        signals: dict[str, tuple[AlertEvent | Condition, list[str]]] = {}
        services = list(services)
        for rule in config.rules:
            for service in services:
                if not rule.covers(service.pipeline.name):
                    continue
                for kind in rule.events:
                    source = events_for(kind, anomaly_source=self.anomaly_source, token_source=self.token_source)
                    try:
                        found = source(service, rule, now)
                    except Exception as exc:  # one source failing must not silence the others
                        log.warning("alerts: could not check %s of %s: %s", kind, service.pipeline.name, exc)
                        continue
                    for signal in found:
                        _, channels = signals.setdefault(signal.fingerprint, (signal, []))
                        channels.extend(c for c in rule.channels if c not in channels)
        new = 0
        for signal, channels in signals.values():
            if isinstance(signal, Condition):
                episode = self.outbox.observe(signal, now)
                if episode is None:
                    continue
                signal = signal.event(episode, now)
            new += self.outbox.enqueue(signal, channels, now)
        return new

    # -- messages out ----------------------------------------------------------------------------------------------

    def send_pending(self) -> SendReport:
        """Compose the digests that are due and deliver every due message, once each."""
        report = SendReport()
        config = self.reload()
        if config is None:
            return report
        now = self.clock()
        for channel in config.channels:
            waiting = self.outbox.waiting(channel)
            if not waiting:
                continue
            if in_quiet_hours(config, channel, now):
                report.held += len(waiting)
                continue
            if not ready_to_compose(config, channel, waiting[0].queued_at, now):
                continue
            for i in range(0, len(waiting), MAX_EVENTS_PER_MESSAGE):
                self.outbox.compose(channel, [q.event for q in waiting[i:i + MAX_EVENTS_PER_MESSAGE]], now)
                report.composed += 1
        for message in self.outbox.due(now):
            if message.channel in config.channels and in_quiet_hours(config, message.channel, now):
                continue  # a retry that falls into quiet hours waits for them to end
            if not self.outbox.claim(message.id, now):
                continue  # another sender has it
            content = render(message.id, message.events, config.console_url)
            try:
                self._send(config, message.channel, content, message.events, now)
            except DeliveryError as exc:
                attempts = message.attempts + 1
                give_up = not exc.transient or attempts >= config.retry.max_attempts
                retry_at = None if give_up else now + config.retry.delay(attempts)
                self.outbox.mark_failed(message.id, exc.message, retry_at)
                report.errors.append(f"message {message.id}: {exc.message}")
                if give_up:
                    report.failed += 1
                    log.error("alert message %s to %s failed after %s attempt(s), kept for `ledgerlink alerts "
                              "send-pending --retry-failed`: %s", message.id, message.channel, attempts, exc.message)
                else:
                    report.retrying += 1
                    log.warning("alert message %s to %s: attempt %s failed, next in %.0fs: %s", message.id,
                                message.channel, attempts, retry_at - now, exc.message)
                continue
            self.outbox.mark_sent(message.id, self.clock())
            report.sent += 1
        return report

    def send_test(self, channel: str) -> None:
        """Send a test message on `channel` at once (not through the outbox); DeliveryError says what went wrong."""
        config = self.reload()
        if config is None:
            raise ConfigError(f"there are no alert rules: {self.path} does not exist",
                              hint="write one (see the alerts guide) or create it on the console's Alerts page")
        if channel not in config.channels:
            raise ConfigError(f"no channel named {channel!r}", where="channel",
                              hint=f"channels: {', '.join(config.channels)}")
        now = self.clock()
        event = AlertEvent("test", "", f"test at {now:.0f}", f"test message for the {channel} channel",
                           f"If you can read this, ledgerlink alerts reach you on {channel}.", "/alerts", now)
        self._send(config, channel, render(f"test-{int(now)}", [event], config.console_url), [event], now)

    # -- inside serve ----------------------------------------------------------------------------------------------

    def tick(self, services: Iterable[Any]) -> SendReport:
        self.evaluate(services)
        return self.send_pending()

    def after_run(self, service: Any) -> None:
        """A sync of `service` ended: queue what it changed (on the sync's thread, quick) and wake the sender."""
        if self._stop.is_set():
            return  # the workspace is stopping (its last runs' events are found at the next start)
        try:
            self.evaluate([service])
        except Exception:  # alerts must never break a sync
            log.exception("alerts: evaluating after the run of %s failed", service.pipeline.name)
        self._wake.set()

    def start(self, services: Callable[[], Iterable[Any]]) -> None:
        """Tick on a timer (the rules' check_every_seconds) and soon after every run, on one daemon thread."""

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.tick(services())
                except Exception:
                    log.exception("alerts: a check failed; trying again at the next tick")
                config = self.config
                self._wake.wait(timeout=config.check_every_seconds if config else 60.0)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="ledgerlink-alerts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the timer thread (after its current tick) and close the outbox."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=60)
        self.outbox.close()
