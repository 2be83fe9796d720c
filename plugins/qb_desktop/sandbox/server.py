"""`ledgerlink sandbox qb_desktop`: a simulated QuickBooks company file and the Web Connector that polls a service.

The sandbox holds one `CompanyFile` and one `WebConnectorClient`; with `service_url` set it polls that service on
a schedule, as QBWC does. Tests steer it through `/_sandbox/*`: read the company file, queue faults, poll now.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, ClassVar

from ledgerlink import Sandbox, SandboxOptions

from .company import CompanyFile
from .web_connector import WebConnectorClient

__all__ = ["QuickBooksDesktopSimulator", "SimulatorOptions"]

log = logging.getLogger("ledgerlink.qb_desktop.simulator")


class SimulatorOptions(SandboxOptions):
    #: the Web Connector service to poll, e.g. http://127.0.0.1:8700/qbwc/ (none: poll only when asked)
    service_url: str | None = None
    username: str = "ledgerlink"
    password: str = "sandbox-qbwc-password"
    company_file: str = r"C:\Users\Public\Documents\Intuit\QuickBooks\Company Files\ledgerlink sample.qbw"
    #: seconds between polls when `service_url` is set (QBWC's shortest schedule is a minute; 0 = no loop)
    poll_every_s: float = 5.0
    #: path of qbxmlops160.xsd to validate every request against (needs lxml; the XSD is never shipped)
    xsd: str | None = None
    qbxml_major: int = 16
    qbxml_minor: int = 0
    #: the company file's Multiple Currencies preference (off, as a new QuickBooks company file has it)
    multicurrency: bool = False


class QuickBooksDesktopSimulator(Sandbox):
    """A QuickBooks Desktop company file and the Web Connector that carries its qbXML, for tests and dry runs."""

    name: ClassVar[str] = "qb_desktop"
    default_port: ClassVar[int] = 8714
    description: ClassVar[str] = "QuickBooks Desktop company file + Web Connector client (polls a ledgerlink service)"
    options_model = SimulatorOptions

    def __init__(self, **options: Any):
        super().__init__(**options)
        o = self.options
        self.company = CompanyFile(xsd=o.xsd, multicurrency=o.multicurrency)
        self.client = WebConnectorClient(self.company, username=o.username, password=o.password,
                                         company_file=o.company_file, qbxml_version=(o.qbxml_major, o.qbxml_minor))
        self._loop: threading.Thread | None = None
        self._poll_lock = threading.Lock()

    def poll(self, url: str | None = None) -> dict[str, Any]:
        target = url or self.options.service_url
        if not target:
            raise ValueError("no service URL: pass one, or start the simulator with --set service_url=…")
        with self._poll_lock:
            return self.client.poll(target)

    def _run_loop(self) -> None:
        while True:
            try:
                outcome = self.poll()
                log.info("qb_desktop simulator: poll %s", outcome)
            except Exception as exc:  # the service may not be up yet
                log.warning("qb_desktop simulator: poll failed: %s", exc)
            time.sleep(max(self.options.poll_every_s, 0.5))

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        from ledgerlink import json_dumps
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import Response

        if self.options.service_url and self.options.poll_every_s > 0 and self._loop is None:
            self._loop = threading.Thread(target=self._run_loop, name="qbwc-simulator", daemon=True)
            self._loop.start()

        async def company(request: Request) -> Response:
            return Response(json_dumps(self.company.snapshot()), media_type="application/json")

        async def faults(request: Request) -> JSONResponse:
            fault = await request.json()
            if not isinstance(fault, dict) or not (fault.get("code") or fault.get("client")):
                return JSONResponse({"error": "give {code, request?, count?} or {client, count?}"}, status_code=400)
            (self.client if fault.get("client") else self.company).add_fault(fault)
            return JSONResponse({"queued": fault})

        async def poll(request: Request) -> JSONResponse:
            body = await request.json() if await request.body() else {}
            try:
                return JSONResponse(await run_in_threadpool(self.poll, body.get("url")))
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return Starlette(routes=[Route("/_sandbox/company", company), Route("/_sandbox/faults", faults, methods=["POST"]),
                                 Route("/_sandbox/poll", poll, methods=["POST"])])
