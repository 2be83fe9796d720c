"""When `serve` stops, the fleet endpoints it opened are closed: a Web Connector session still holding a tenant
pipeline's state releases its lease at once (instead of leaving it to lapse while a worker waits for it), and
one endpoint that fails to close does not keep the others open."""

from __future__ import annotations

from ledgerlink.console import pages_fleet


class _Endpoint:
    def __init__(self, log: list[str], name: str, fails: bool = False):
        self.log, self.name, self.fails = log, name, fails

    def close(self) -> None:
        self.log.append(self.name)
        if self.fails:
            raise RuntimeError("pool already gone")


def test_every_router_and_session_endpoint_is_closed_once_even_if_one_fails(monkeypatch, caplog):
    closed: list[str] = []
    routers = {("db1", 1): _Endpoint(closed, "webhooks-db1", fails=True), ("db2", 1): _Endpoint(closed, "webhooks-db2")}
    sessions = {("db1", 1): _Endpoint(closed, "qbwc-db1")}
    monkeypatch.setattr(pages_fleet, "_routers", routers)
    monkeypatch.setattr(pages_fleet, "_sessions", sessions)
    assert pages_fleet.close_fleet_endpoints() == 2
    assert sorted(closed) == ["qbwc-db1", "webhooks-db1", "webhooks-db2"]
    assert routers == {} and sessions == {}
    assert "could not close a fleet endpoint: pool already gone" in caplog.text
    assert pages_fleet.close_fleet_endpoints() == 0 and len(closed) == 3  # nothing is closed twice
