"""Webhook deliveries: the sandbox POSTs each event to its subscribers for real, as BigCommerce does."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

from .replies import dumps

__all__ = ["WebhookDeliverer"]


class WebhookDeliverer:
    """Delivers webhook callbacks on one background thread, retrying non-2xx replies a few times."""

    def __init__(self, retries: int, time_scale: float):
        self.queue: queue.Queue[tuple[dict[str, Any], dict[str, Any]]] = queue.Queue()
        self.retries, self.time_scale = retries, time_scale
        self.log: list[dict[str, Any]] = []
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, hook: dict[str, Any], payload: dict[str, Any]) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bigcommerce-webhooks", daemon=True)
                self._thread.start()
        self.queue.put((hook, payload))

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=5.0) as client:
            while True:
                hook, payload = self.queue.get()
                status: int | str = "not sent"
                for attempt in range(self.retries + 1):
                    try:
                        reply = client.post(hook["destination"], content=dumps(payload),
                                            headers={"Content-Type": "application/json", **(hook.get("headers") or {})})
                        status = reply.status_code
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    if isinstance(status, int) and 200 <= status < 300:
                        break
                    time.sleep(min(60.0 * (attempt + 1) / self.time_scale, 2.0))
                self.log.append({"hook_id": hook["id"], "scope": payload["scope"], "hash": payload["hash"],
                                 "data": payload["data"], "status": status})
