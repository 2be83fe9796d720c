"""The words of an alert message, the same for every channel: a subject, one entry per event with its link to
the console page, and the link to open first. Channels only change the wrapping (mail, Slack blocks, JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .events import AlertEvent

__all__ = ["Content", "render", "link"]

#: the most events one digest lists in full (the rest are counted, and all are on the console)
MAX_LISTED = 50


def link(console_url: str, path: str) -> str:
    return console_url.rstrip("/") + (path if path.startswith("/") else "/" + path)


@dataclass(frozen=True)
class Content:
    message_id: int | str
    subject: str
    #: (title, detail, link) for each listed event
    entries: list[tuple[str, str, str]]
    #: the page to open first
    url: str
    more: int = 0

    def text(self) -> str:
        lines = []
        for title, detail, url in self.entries:
            lines.append(f"- {title}")
            if detail:
                lines.append(f"  {detail}")
            lines.append(f"  {url}")
        if self.more:
            lines.append(f"… and {self.more} more on {self.url}")
        lines.append("")
        lines.append(f"Open the console: {self.url}")
        return "\n".join(lines)

    def to_json(self, events: list[AlertEvent], console_url: str) -> dict[str, Any]:
        return {"id": self.message_id, "subject": self.subject, "url": self.url,
                "events": [{"kind": e.kind, "pipeline": e.pipeline, "title": e.title, "detail": e.detail,
                            "url": link(console_url, e.path), "at": e.at, "fingerprint": e.fingerprint}
                           for e in events]}


def render(message_id: int | str, events: list[AlertEvent], console_url: str) -> Content:
    if len(events) == 1:
        event = events[0]
        url = link(console_url, event.path)
        return Content(message_id, f"[ledgerlink] {event.title}", [(event.title, event.detail, url)], url)
    pipelines = sorted({e.pipeline for e in events if e.pipeline})
    subject = f"[ledgerlink] {len(events)} alerts" + (f" ({', '.join(pipelines[:5])})" if pipelines else "")
    listed = events[:MAX_LISTED]
    return Content(message_id, subject, [(e.title, e.detail, link(console_url, e.path)) for e in listed],
                   link(console_url, "/"), more=len(events) - len(listed))
