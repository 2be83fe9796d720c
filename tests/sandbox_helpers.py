"""The set-ups many test folders share: vendor sandboxes on free loopback ports, the shipped pipeline files pointed
at them, and a pipeline served to the simulated QuickBooks Web Connector.

Test folders are not packages; the suite's root conftest puts `tests/` on `sys.path`, so every test module and
conftest imports this as `from sandbox_helpers import ...` (its name is unique in the suite). Sandboxes are found
through the plugin host by name (`register_sandboxes`, as `ledgerlink sandbox NAME` finds them), so these helpers
never depend on where a plugin keeps its emulator modules.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from ledgerlink.pipeline import Pipeline, load_pipeline
from ledgerlink.plugins import host
from ledgerlink.sandbox import running, running_app

__all__ = ["wait_for", "new_sandbox", "sandbox_running", "shipped", "write_shipped", "load_shipped", "amazon_env",
           "bigcommerce_env", "qbo_env", "qbxml_xsd_path", "WebConnector", "web_connector", "AwaitingQueue",
           "ReferenceBook"]

#: Intuit's qbXML schema, below ../shared/reference (a test oracle, never shipped)
QBXML_XSD = Path("qbxml", "xsd-16.0", "qbxmlops160.xsd")


def wait_for(predicate: Callable[[], bool], seconds: float = 30.0) -> bool:
    """Polls `predicate` until it holds or `seconds` pass: background work (a served sync) finishes on its own time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# -- sandboxes -------------------------------------------------------------------------------------------------

def new_sandbox(name: str, time_scale: float | None = 1000, **options: Any) -> Any:
    """The sandbox registered under `name` (not started), its clock 1000× fast so quotas and waits pass quickly;
    `time_scale=None` keeps the sandbox's own pace."""
    if time_scale is not None:
        options["time_scale"] = time_scale
    return host().sandboxes()[name](**options)


@contextlib.contextmanager
def sandbox_running(name: str, time_scale: float | None = 1000, **options: Any) -> Iterator[tuple[str, Any]]:
    """`with sandbox_running("amazon_sp", orders=50) as (url, sandbox):` the named sandbox on a free loopback port."""
    sandbox = new_sandbox(name, time_scale, **options)
    with running(sandbox) as url:
        yield url, sandbox


# -- pipeline files pointed at sandboxes ---------------------------------------------------------------------------

def shipped(name: str) -> str:
    """The text of a pipeline file as the package ships it (`ledgerlink/data/NAME`)."""
    return resources.files("ledgerlink").joinpath("data", name).read_text()


def write_shipped(folder: Path, name: str, edit: Callable[[str], str] | None = None) -> Path:
    """The shipped pipeline `name` copied into `folder` (its text rewritten by `edit` first): what a user runs."""
    text = shipped(name)
    path = folder / name
    path.write_text(edit(text) if edit else text)
    return path


def load_shipped(folder: Path, name: str, env: dict[str, str], edit: Callable[[str], str] | None = None) -> Pipeline:
    """`write_shipped`, then loaded with `env` filling the file's `${VAR}`s."""
    return load_pipeline(write_shipped(folder, name, edit), env=env)


def amazon_env(url: str) -> dict[str, str]:
    """The variables the shipped Amazon pipelines read, pointed at an Amazon sandbox."""
    return {"AMAZON_SP_ENDPOINT": url, "AMAZON_LWA_ENDPOINT": f"{url}/auth/o2/token"}


def bigcommerce_env(url: str) -> dict[str, str]:
    """The variable the shipped BigCommerce pipelines read, pointed at a BigCommerce sandbox."""
    return {"BIGCOMMERCE_BASE_URL": url}


def qbo_env(url: str, *, realm: str | None = None, batch_per_minute: str | None = None) -> dict[str, str]:
    """The variables the shipped QuickBooks Online pipelines read, pointed at a QBO sandbox, with rate limits
    raised so that tests never wait on them."""
    env = {"QBO_BASE_URL": url, "QBO_TOKEN_URL": f"{url}/oauth2/v1/tokens/bearer"}
    if realm is not None:
        env["QBO_REALM_ID"] = realm
    env["QBO_REQUESTS_PER_MINUTE"] = "500000"
    if batch_per_minute is not None:
        env["QBO_BATCH_REQUESTS_PER_MINUTE"] = batch_per_minute
    return env


# -- QuickBooks Desktop: the Web Connector bridge and the simulator ---------------------------------------------------

def qbxml_xsd_path(reference_dir: Path) -> Path:
    """Intuit's qbXML XSD; the test is skipped where the reference files (or lxml, to validate) are missing."""
    pytest.importorskip("lxml")
    path = reference_dir / QBXML_XSD
    if not path.exists():
        pytest.skip("qbXML XSD not found")
    return path


class AwaitingQueue:
    """An AwaitingWrites stand-in for a bare `WebConnectorBridge`: what waits, and what QuickBooks confirmed
    (`key → (id, version, created)`) or failed (`key → (error, retry)`)."""

    def __init__(self, records: list[Any]):
        self.records = {r.key: r for r in records}
        self.confirmed: dict[str, Any] = {}
        self.failed: dict[str, Any] = {}

    def list(self, stream: str | None = None, limit: int = 100) -> list[Any]:
        return [r for r in self.records.values() if stream in (None, r.stream)][:limit]

    def confirm(self, key: str, destination_id: str, version: str | None = None, created: bool = True) -> None:
        self.records.pop(key)
        self.confirmed[key] = (destination_id, version, created)

    def fail(self, key: str, error: Any, *, retry: bool = False) -> None:
        self.records.pop(key)
        self.failed[key] = (error, retry)

    def count(self) -> int:
        return len(self.records)


class ReferenceBook(dict):
    """A reference-cache stand-in for a bare `WebConnectorBridge`: `(kind, name) → id`."""

    def get(self, kind: str, name: str) -> Any:  # type: ignore[override]
        return super().get((kind, name))

    def put(self, kind: str, name: str, ref_id: str, version: str | None = None) -> None:
        self[(kind, name)] = ref_id


@dataclass
class WebConnector:
    """A pipeline served by `ledgerlink serve` and the simulated Web Connector (with its company file) polling it."""

    service: Any
    simulator: Any
    url: str

    @property
    def qbwc(self) -> str:
        return f"{self.url}/qbwc/"

    @property
    def company(self) -> Any:
        return self.simulator.company

    def wait_idle(self) -> None:
        assert wait_for(lambda: self.service.idle)

    def poll(self) -> dict[str, Any]:
        """One Web Connector session, once the served pipeline is idle."""
        self.wait_idle()
        return self.simulator.poll(self.qbwc)

    def settle(self, max_polls: int = 30, expect: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Let the Web Connector poll until nothing waits (syncs run in between); each session's outcome, the
        first empty one last. With `expect`, every session must end in one of those results."""
        outcomes = []
        for _ in range(max_polls):
            outcome = self.poll()
            outcomes.append(outcome)
            if expect is not None:
                assert outcome["result"] in expect, outcome
            if outcome["result"] == "none":
                time.sleep(0.1)
                if self.service.idle and self.simulator.poll(self.qbwc)["result"] == "none":
                    return outcomes
        raise AssertionError(f"the Web Connector queue did not drain: {outcomes[-5:]}")


def bridge_session(company_file: Any, records: list[Any], rounds: int = 20,
                   references: ReferenceBook | None = None) -> AwaitingQueue:
    """`records` (planned QuickBooks Desktop writes) sent through one in-process Web Connector session to the
    simulator's `company_file`, request by request (`references`: TxnIDs known from earlier sessions); the
    queue says what was confirmed or failed."""
    from ledgerlink_qb_desktop.bridge import Company, WebConnectorBridge
    from ledgerlink_qb_desktop.passwords import hash_password

    queue = AwaitingQueue(records)
    bridge = WebConnectorBridge([Company(username="qb", password_hash=hash_password("pw-123456", iterations=1000),
                                         owner_id="{0}", file_id="{F}", awaiting=queue,
                                         references=ReferenceBook() if references is None else references,
                                         company_file=r"C:\books.qbw")])
    ticket, _ = bridge.authenticate("qb", "pw-123456")
    for _ in range(rounds):
        request = bridge.send_request(ticket, "", r"C:\books.qbw", 16, 0)
        if not request:
            break
        bridge.receive_response(ticket, company_file.handle(request), "", "")
    return queue


@contextlib.contextmanager
def web_connector(pipeline: Pipeline, xsd: Path, prepare: Callable[[Any], None] | None = None,
                  **simulator_options: Any) -> Iterator[WebConnector]:
    """`pipeline` served (no schedule, quick debounce) and the QuickBooks Desktop simulator, validating every
    request against `xsd`; `prepare(company)` seeds the company file before the bridge opens."""
    from ledgerlink.serve import PipelineService, build_app

    service = PipelineService(pipeline, host(), every=None, debounce=0.05)
    service.start()
    simulator = host().sandboxes()["qb_desktop"](xsd=str(xsd), poll_every_s=0, **simulator_options)
    if prepare is not None:
        prepare(simulator.company)
    try:
        with running_app(build_app(service)) as url:
            yield WebConnector(service, simulator, url)
    finally:
        service.stop()
