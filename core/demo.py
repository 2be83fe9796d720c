"""`ledgerlink demo`: the built-in sandboxes on loopback and the shipped pipelines run against them, one named
step per flow, each with a short summary (one line per figure).

A step is a function `(DemoRun) -> Step` listed in `STEPS`. It asks the run for the sandboxes it needs (each
starts once, on first use, and the shipped pipelines point at it through their `${VAR}`s), syncs a shipped
pipeline copied into the demo's folder, and reports figures. Adding a flow is one such function:

    def returns_step(run: DemoRun) -> Step:
        step = Step("returns", "Amazon returns → QuickBooks Online credit memos")
        for name in ("amazon_sp", "qbo"):   # started on first use; the pipeline's ${VAR}s point at them
            run.sandbox(name)
        pipeline = run.pipeline("amazon-returns-to-qbo.yaml")
        report = run.sync(pipeline)
        step.figure("credit_memos", "credit memos posted", created(report, "CreditMemo"))
        step.figure("dead_letters", "dead letters", report.counts.get("dead_letters_open", 0))
        step.check(report.status == "succeeded", f"sync {report.status}")
        run.reconcile_later(pipeline)       # a pipeline into QuickBooks: the reconcile step checks it
        return step

then `STEPS.insert(-1, ("returns", returns_step))` (reconcile stays last).
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import os
import shutil
import time
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import httpx

from . import jsonutil
from .errors import ConfigError, LedgerlinkError
from .pipeline import Pipeline, load_pipeline
from .plugins import host
from .runtime import sync
from .sandbox import running

__all__ = ["run_demo", "print_demo", "Step", "DemoRun", "STEPS", "created", "DEMO_PIPELINE", "SETTLEMENTS_PIPELINE",
           "SHIPMENTS_TO_AMAZON", "SHIPMENTS_TO_BIGCOMMERCE"]

DEMO_PIPELINE = "amazon-to-qbo.yaml"
SETTLEMENTS_PIPELINE = "amazon-settlements-to-qbo.yaml"
SHIPMENTS_TO_AMAZON = "files-shipments-to-amazon.yaml"
SHIPMENTS_TO_BIGCOMMERCE = "files-shipments-to-bigcommerce.yaml"

#: the environment that points the shipped pipelines at a running sandbox; the sandboxes run 1000× faster
#: than the vendors' rate limits, so the clients may too
_SANDBOX_ENV: dict[str, Callable[[str], dict[str, str]]] = {
    "amazon_sp": lambda url: {"AMAZON_SP_ENDPOINT": url, "AMAZON_LWA_ENDPOINT": f"{url}/auth/o2/token"},
    "qbo": lambda url: {"QBO_BASE_URL": url, "QBO_TOKEN_URL": f"{url}/oauth2/v1/tokens/bearer",
                        "QBO_REQUESTS_PER_MINUTE": "500000", "QBO_BATCH_REQUESTS_PER_MINUTE": "40000"},
    "bigcommerce": lambda url: {"BIGCOMMERCE_BASE_URL": url, "BIGCOMMERCE_REQUESTS_PER_SECOND": "1000"},
}


@dataclass
class Step:
    """What one step did: figures (a stable key, a label, a value), notes, and whether it went as it should."""

    name: str
    title: str
    figures: list[tuple[str, str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    #: set by `run_demo`
    seconds: float = 0.0

    def figure(self, key: str, label: str, value: Any) -> None:
        self.figures.append((key, label, value))

    def check(self, ok: bool, problem: str) -> None:
        """A condition the step must meet; the demo fails (and says why) when it does not."""
        if not ok:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "ok": self.ok, "problems": self.problems,
                "seconds": round(self.seconds, 3), "figures": {k: v for k, _, v in self.figures},
                "labels": {k: label for k, label, _ in self.figures}, "notes": self.notes, "files": self.files,
                "details": self.details}


def created(report: Any, stream: str | None = None) -> int:
    """Documents a sync created, of one stream or all."""
    made = report.counts.get("created") or {}
    return int(made.get(stream, 0) if stream else sum(made.values()))


class DemoRun:
    """What the steps share: the demo's folder, the plugin host, the sandboxes (started on first use, stopped
    at the end) and the environment that points the shipped pipelines at them."""

    def __init__(self, workdir: Path, orders: int, plugins: Any, stack: contextlib.ExitStack):
        self.workdir, self.orders, self.plugins, self._stack = workdir, orders, plugins, stack
        self.urls: dict[str, str] = {}
        self.sandboxes: dict[str, Any] = {}
        self.env: dict[str, str] = dict(os.environ)
        self.to_reconcile: list[Pipeline] = []
        self._qbo_state: Path | None = None
        self._realms = 0

    def sandbox(self, name: str, **options: Any) -> str:
        """The sandbox's URL, starting it the first time (options apply then only)."""
        if name not in self.urls:
            available = self.plugins.sandboxes()
            if name not in available:
                raise ConfigError(f"the demo needs the sandbox {name}", hint=(
                    "it ships with ledgerlink; check `ledgerlink plugins` and LEDGERLINK_*_PLUGINS"))
            if name == "amazon_sp":
                options.setdefault("orders", self.orders)
            instance = available[name](**{"time_scale": 1000, **options})
            self.sandboxes[name] = instance
            self.urls[name] = self._stack.enter_context(running(instance))
            self.env.update(_SANDBOX_ENV.get(name, lambda url: {})(self.urls[name]))
        return self.urls[name]

    def private_sandbox(self, name: str, **options: Any) -> tuple[Any, dict[str, str]]:
        """A sandbox of one step's own (a fresh QuickBooks company, a store with a second store beside it),
        started now and stopped at the end: the instance, and the environment to pass to `pipeline(name, **env)`.
        A private QuickBooks Online company gets a realm of its own, so the refresh tokens handed between the
        demo's pipelines (`_hand_over`) never cross companies."""
        available = self.plugins.sandboxes()
        if name == "qbo":
            self._realms += 1
            options.setdefault("realm_id", f"93414550000{self._realms:05d}")
        instance = available[name](**{"time_scale": 1000, **options})
        url = self._stack.enter_context(running(instance))
        env = _SANDBOX_ENV.get(name, lambda u: {})(url)
        if name == "qbo":
            env["QBO_REALM_ID"] = options["realm_id"]
        return instance, env

    def pipeline(self, name: str, **env: str) -> Pipeline:
        """A shipped pipeline, copied into the demo's folder, with its state file next to it."""
        path = self.workdir / name
        path.write_text(resources.files("ledgerlink").joinpath("data", name).read_text())
        state = (self.workdir / f"{Path(name).stem}.duckdb").resolve()
        pipeline = load_pipeline(path, env={**self.env, "LEDGERLINK_STATE": str(state), **env})
        _pin_state(path, pipeline)
        return pipeline

    def sync(self, pipeline: Pipeline) -> Any:
        """`ledgerlink sync`, with QuickBooks Online's current refresh token handed over (see `_hand_over`)."""
        if "qbo" in (pipeline.source.connector, pipeline.destination.connector):
            self.hand_over_qbo(pipeline)
        return sync(pipeline, plugin_host=self.plugins)

    def reconcile_later(self, pipeline: Pipeline) -> None:
        """The reconcile step (last) checks this pipeline's books."""
        self.to_reconcile.append(pipeline)

    def hand_over_qbo(self, pipeline: Pipeline) -> None:
        """Before a pipeline talks to QuickBooks Online (`sync` does it; call it before `reconcile`)."""
        if self._qbo_state is not None and self._qbo_state != pipeline.state_path:
            _hand_over(self._qbo_state, pipeline.state_path)
        self._qbo_state = pipeline.state_path


def _pin_state(path: Path, pipeline: Pipeline) -> None:
    """Write the state (and shared credentials) file the demo used into the copied pipeline file, so `ledgerlink
    serve --workspace` on the demo's folder (no demo environment set) opens the same state and shows what the
    demo did. Absolute: a relative state path is read from the working directory, not the file's folder."""
    text = path.read_text()
    for key, value in (("state", pipeline.state_path), ("credentials", pipeline.credentials_path)):
        if value is not None:
            text = re.sub(rf"^{key}:.*$", lambda _, v=value: f"{key}: {json.dumps(str(Path(v).resolve()))}", text,
                          count=1, flags=re.MULTILINE)
    path.write_text(text)


def console_commands(workdir: str | Path) -> list[str]:
    """The commands that open the console on the demo's folder: its pipeline files and their state make a
    workspace. `--every 0`: the demo's sandboxes stopped with it, so serve syncs only when asked."""
    folder = shlex.quote(str(workdir))
    return [f"ledgerlink users add admin --role admin --workspace {folder}",
            f"ledgerlink serve --workspace {folder} --every 0"]


def _hand_over(source: Path, target: Path) -> None:
    """The demo's pipelines share one QuickBooks Online company, and Intuit rotates its refresh token on use:
    the pipeline that runs next gets the current one from the pipeline that ran last."""
    from .store import Store

    src = Store(source)
    try:
        names = [n for (n,) in src.db.fetchall("SELECT name FROM credentials WHERE name LIKE 'qbo:%'")]
        values = {n: src.credentials.load(n) for n in names}
    finally:
        src.close()
    dst = Store(target)
    try:
        for name, value in values.items():
            if value is not None:
                dst.credentials.save(name, value)
    finally:
        dst.close()


def _sandbox_stats(url: str) -> dict[str, Any] | None:
    try:
        resp = httpx.get(f"{url}/_sandbox/stats", timeout=5)
        return resp.json() if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------ the steps


def orders_step(run: DemoRun) -> Step:
    step = Step("orders", "Amazon orders → QuickBooks Online sales receipts")
    run.sandbox("amazon_sp")
    qbo = run.sandbox("qbo")
    pipeline = run.pipeline(DEMO_PIPELINE)
    first, second = run.sync(pipeline), run.sync(pipeline)
    counts = first.counts
    step.figure("orders_read", "orders read", (counts.get("read") or {}).get("orders", 0))
    step.figure("not_posted", "not in a posting status", counts.get("not_posted", 0))
    step.figure("sales_receipts", "sales receipts created", created(first, "SalesReceipt"))
    step.figure("customers", "customers created", created(first, "Customer"))
    step.figure("items", "items created", created(first, "Item"))
    step.figure("dead_letters", "dead letters open", counts.get("dead_letters_open", 0))
    step.figure("second_sync_created", "created by a second sync (idempotent: 0)", created(second))
    held = (_sandbox_stats(qbo) or {}).get("objects") or {}
    step.notes.append("QuickBooks sandbox now holds: " + ", ".join(
        f"{held[k]} {k}s" for k in ("Customer", "Item", "SalesReceipt") if k in held))
    step.check(first.status == "succeeded" and second.status == "succeeded",
               f"syncs {first.status}/{second.status}")
    step.check(created(second) == 0, f"the second sync created {created(second)} document(s)")
    step.files = {"pipeline": str(pipeline.base_dir / DEMO_PIPELINE), "state": str(pipeline.state_path)}
    step.details = {"runs": [first.to_dict(), second.to_dict()]}
    run.reconcile_later(pipeline)
    return step


def settlements_step(run: DemoRun) -> Step:
    step = Step("settlements", "Amazon settlements → QuickBooks Online journal entries")
    for name in ("amazon_sp", "qbo"):
        run.sandbox(name)
    pipeline = run.pipeline(SETTLEMENTS_PIPELINE)
    report = run.sync(pipeline)
    summary = _settlement_summary(pipeline.state_path, report)
    currency = (pipeline.destination.options.get("settlements") or {}).get("home_currency") or ""
    step.figure("settlements_read", "settlements read", summary["settlements_read"])
    step.figure("journals_posted", "journal entries posted", summary["journals_posted"])
    step.figure("on_hold", "settlements on hold", summary["on_hold"])
    step.figure("bank_total", f"bank total {currency}".strip(), summary["bank_total"])
    step.check(report.status == "succeeded", f"sync {report.status}")
    step.files = {"pipeline": str(pipeline.base_dir / SETTLEMENTS_PIPELINE), "state": str(pipeline.state_path)}
    step.details = {"run": report.to_dict(), "currency": currency}
    run.reconcile_later(pipeline)
    return step


def _settlement_summary(state: Path, run: Any) -> dict[str, Any]:
    """Settlements read, journals posted, on hold, and the bank total (the deposit lines of every posted
    journal, which equal the settlements' totals)."""
    from .store import Store

    store = Store(state)
    try:
        rows = store.db.fetchall("SELECT o.data FROM outbox o WHERE o.stream = 'JournalEntry' AND o.status = 'done'")
        held = store.db.fetchall("SELECT count(*) FROM dead_letters WHERE status = 'open' AND stream = 'settlements'")
    finally:
        store.close()
    bank = Decimal(0)
    for (data,) in rows:
        for line in jsonutil.loads(data).get("Line") or []:
            if str(line.get("Description") or "").startswith("Deposit - settlement"):
                sign = 1 if line["JournalEntryLineDetail"]["PostingType"] == "Debit" else -1
                bank += sign * Decimal(str(line["Amount"]))
    counts = run.counts
    return {"settlements_read": (counts.get("read") or {}).get("settlements", 0),
            "journals_posted": (counts.get("created") or {}).get("JournalEntry", 0),
            "on_hold": held[0][0] if held else 0, "bank_total": str(bank)}


def fulfilment_step(run: DemoRun) -> Step:
    """A 3PL's shipment export for the sandboxes' orders awaiting shipment, plus one row for an order no
    channel has (on purpose: it shows the dead-letter path), synced to Amazon and to BigCommerce."""
    from .files import samples

    step = Step("fulfilment", "3PL shipment files → Amazon FBM confirmations and BigCommerce shipments")
    amazon, bigcommerce = run.sandbox("amazon_sp"), run.sandbox("bigcommerce")
    channels = (
        ("amazon", "Amazon", SHIPMENTS_TO_AMAZON, samples.amazon_orders_to_ship(amazon),
         samples.UNKNOWN_AMAZON_ORDER, "shipment_confirmations", "FBM orders confirmed (carrier + tracking)"),
        ("bigcommerce", "BigCommerce", SHIPMENTS_TO_BIGCOMMERCE, samples.bigcommerce_orders_to_ship(bigcommerce),
         samples.UNKNOWN_BIGCOMMERCE_ORDER, "order_shipments", "shipments created (tracking)"))
    for channel, shown, name, orders, unknown, stream, label in channels:
        sku = orders[0].lines[0][0] if orders else "SKU"
        export = samples.write_shipments(run.workdir / "3pl" / channel / "shipments.csv", orders, extra_rows=[
            [unknown, samples.tracking_number(unknown, "UPS"), "UPS", None, sku, 1]])
        pipeline = run.pipeline(name, SHIPMENT_FILES=str(export))
        first, second = run.sync(pipeline), run.sync(pipeline)
        letters = first.counts.get("dead_letters_open", 0)
        step.figure(f"{channel}_rows", f"{shown}: rows in the 3PL export", (first.counts.get("read") or {}).get(
            "shipments", 0))
        step.figure(f"{channel}_sent", f"{shown}: {label}", created(first, stream))
        step.figure(f"{channel}_dead_letters", f"{shown}: dead letters (1 intended: unknown order {unknown})", letters)
        step.figure(f"{channel}_second_sync", f"{shown}: sent by a second sync (idempotent: 0)", created(second))
        step.check(first.status == "succeeded" and second.status == "succeeded",
                   f"{channel}: syncs {first.status}/{second.status}")
        step.check(created(first, stream) == len(orders), f"{channel}: {created(first, stream)} of {len(orders)} sent")
        if not orders:
            step.notes.append(f"the {shown} sandbox has no order awaiting shipment: try more --orders")
        step.check(letters == 1, f"{channel}: {letters} dead letters, 1 expected (order {unknown})")
        step.check(created(second) == 0, f"{channel}: the second sync sent {created(second)}")
        step.files[f"{channel}_file"] = str(export)
        step.files[f"{channel}_state"] = str(pipeline.state_path)
        step.details[channel] = {"orders": [o.order_id for o in orders], "runs": [first.to_dict(), second.to_dict()]}
    step.notes.append(f"the unknown orders are in the sample on purpose: `ledgerlink dlq list "
                      f"{step.files['amazon_state']}` shows the letter, its file and line, and what to fix")
    return step


def _control(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A sandbox's own test control (not the vendor's API): e.g. a shopper places an order, a merchant marks
    it paid."""
    resp = httpx.post(f"{url}{path}", json=body, timeout=10)
    resp.raise_for_status()
    return resp.json()


def _objects(url: str) -> dict[str, Any]:
    return (_sandbox_stats(url) or {}).get("objects") or {}


def order_to_cash_step(run: DemoRun) -> Step:
    """BigCommerce into a QuickBooks Online company of its own: paid orders become receipts, an order awaiting
    payment an invoice; then the shopper pays it (a payment closes the invoice) and a posted order is
    cancelled (its receipt is voided); a third sync changes nothing."""
    step = Step("order_to_cash", "BigCommerce orders → QuickBooks Online receipts, invoices, payments and voids")
    bigcommerce = run.sandbox("bigcommerce")
    qbo, env = run.private_sandbox("qbo")
    pipeline = run.pipeline("bigcommerce-to-qbo.yaml", **env)
    unpaid = _control(bigcommerce, "/_sandbox/orders", {"status_id": 7})["id"]   # Awaiting Payment
    paid = _control(bigcommerce, "/_sandbox/orders", {"status_id": 11})["id"]    # Awaiting Fulfillment (paid)
    first = run.sync(pipeline)
    _control(bigcommerce, f"/_sandbox/orders/{unpaid}", {"status_id": 11})        # the shopper pays
    _control(bigcommerce, f"/_sandbox/orders/{paid}", {"status_id": 5})           # the merchant cancels
    second, third = run.sync(pipeline), run.sync(pipeline)
    step.figure("sales_receipts", "sales receipts (paid orders)", created(first, "SalesReceipt"))
    step.figure("invoices", "invoices (orders awaiting payment)", created(first, "Invoice"))
    step.figure("payments", f"payments when order {unpaid} was paid (closes its invoice)", created(second, "Payment"))
    step.figure("voids", f"documents voided when order {paid} was cancelled", created(second, "Void"))
    letters = third.counts.get("dead_letters_open", 0)
    step.figure("dead_letters", "dead letters open", letters)
    step.figure("third_sync_created", "created by a third sync (idempotent: 0)", created(third))
    step.check(all(r.status == "succeeded" for r in (first, second, third)),
               f"syncs {first.status}/{second.status}/{third.status}")
    step.check(created(first, "Invoice") >= 1, "the order awaiting payment was not invoiced")
    step.check(created(second, "Payment") == 1, f"{created(second, 'Payment')} payments, 1 expected")
    step.check(created(second, "Void") == 1, f"{created(second, 'Void')} voids, 1 expected")
    step.check(created(third) == 0, f"the third sync created {created(third)}")
    held = _objects(env["QBO_BASE_URL"])
    step.notes.append("its QuickBooks company holds: " + ", ".join(
        f"{held[k]} {k}s" for k in ("SalesReceipt", "Invoice", "Payment") if k in held))
    step.files = {"pipeline": str(pipeline.base_dir / "bigcommerce-to-qbo.yaml"), "state": str(pipeline.state_path)}
    step.details = {"runs": [first.to_dict(), second.to_dict(), third.to_dict()]}
    run.reconcile_later(pipeline)
    return step


def returns_step(run: DemoRun) -> Step:
    """Amazon refunds and FBA customer returns into a QuickBooks Online company of its own (its SKUs are
    inventory items, so sellable returns can go back on the shelf)."""
    step = Step("returns", "Amazon refunds and returns → QuickBooks Online credit memos and restocking")
    run.sandbox("amazon_sp")
    _, env = run.private_sandbox("qbo")
    name = "amazon-returns-to-qbo.yaml"
    pipeline = run.pipeline(name, **env)
    first, second = run.sync(pipeline), run.sync(pipeline)
    returns = (first.counts.get("objects") or {}).get("return", 0)
    restocked = created(first, "InventoryAdjustment")
    step.figure("credit_memos", "refunds posted as credit memos", created(first, "CreditMemo"))
    step.figure("returns_read", "returned units reported by Amazon", returns)
    step.figure("restocked", "sellable returns restocked (inventory adjustment against COGS)", restocked)
    step.figure("not_restocked", "damaged returns not restocked", returns - restocked)
    step.figure("dead_letters", "dead letters open", first.counts.get("dead_letters_open", 0))
    step.figure("second_sync_created", "created by a second sync (idempotent: 0)", created(second))
    step.check(first.status == "succeeded" and second.status == "succeeded", f"syncs {first.status}/{second.status}")
    refunds = (first.counts.get("objects") or {}).get("refund", 0)
    if refunds:
        step.check(created(first, "CreditMemo") > 0, "no refund was posted")
    else:  # a small seed has none: nothing to post is not a failure
        step.notes.append(f"the Amazon sandbox has no refund among {run.orders} orders: try more --orders")
    if returns >= 2:
        step.check(0 < restocked < returns, "expected some returns restocked and some not")
    else:
        step.notes.append(f"the Amazon sandbox has {returns} customer return(s) among {run.orders} orders: try "
                          f"more --orders to see sellable and damaged ones")
    step.check(created(second) == 0, f"the second sync created {created(second)}")
    step.files = {"pipeline": str(pipeline.base_dir / name), "state": str(pipeline.state_path)}
    step.details = {"runs": [first.to_dict(), second.to_dict()]}
    run.reconcile_later(pipeline)
    return step


#: BigCommerce sandbox SKUs the inventory step's QuickBooks company already holds as inventory items
_STOCKED = ("ABS", "CC3C", "OTL")


def inventory_step(run: DemoRun) -> Step:
    """Stock both ways between a BigCommerce store and a QuickBooks Online company that already stocks three
    of its SKUs (two-way, channel wins a conflict), sharing one baseline: first contact, then a one-sided
    change in QuickBooks and a conflict (both sides moved), then a round that must change nothing."""
    step = Step("inventory", "stock both ways: BigCommerce ↔ QuickBooks Online, a conflict settled by its rule")
    store, bc_env = run.private_sandbox("bigcommerce", orders=4)
    books, qbo_env = run.private_sandbox("qbo")
    company, book = books.company, store.store.book
    accounts = {ref: {"value": company.id_named("Account", name)} for ref, name in (
        ("IncomeAccountRef", "Sales of Product Income"), ("AssetAccountRef", "Inventory Asset"),
        ("ExpenseAccountRef", "Cost of Goods Sold"))}
    for n, sku in enumerate(_STOCKED):  # the company's stock before ledgerlink (seeded, as a bookkeeper made it)
        company.save("Item", {"Name": sku, "Type": "Inventory", "TrackQtyOnHand": True, "QtyOnHand": 5 + n,
                              "InvStartDate": "2024-01-01", **accounts})
    variant = {sku: next(v for v, row in book.variants.items() if row["sku"] == sku) for sku in _STOCKED}

    def channel(sku: str) -> int:
        return book.stock.get((1, variant[sku]), 0)

    def ledger(sku: str) -> Decimal:
        return Decimal(str(next(i for i in company.entities["Item"].values() if i.get("Name") == sku)["QtyOnHand"]))

    env = {**bc_env, **qbo_env, "INVENTORY_BASELINE": str(run.workdir / "inventory-baseline.sqlite")}
    to_books = run.pipeline("bigcommerce-inventory-to-qbo.yaml", **env)
    to_store = run.pipeline("qbo-inventory-to-bigcommerce.yaml", **env)

    def round_() -> tuple[Any, Any]:
        return run.sync(to_books), run.sync(to_store)  # the channel's news first, then QuickBooks'

    first = round_()
    step.figure("first_adjustments", "first contact: QuickBooks adjusted to the store's counts",
                created(first[0], "InventoryAdjustment"))
    # a count entered in QuickBooks (CC3C → 40), and a conflict: OTL sold down... and recounted up in both
    agreed = channel("OTL")
    book.adjust(1, variant["OTL"], agreed + 3, relative=False)
    for sku, qty in (("CC3C", 40), ("OTL", agreed + 10)):
        item_id = next(k for k, i in company.entities["Item"].items() if i.get("Name") == sku)
        company.save("InventoryAdjustment", {
            "TxnDate": "2026-11-22", "PrivateNote": "counted by hand",
            "AdjustAccountRef": {"value": company.id_named("Account", "Inventory Shrinkage")},
            "Line": [{"DetailType": "ItemAdjustmentLineDetail", "ItemAdjustmentLineDetail": {
                "ItemRef": {"value": item_id}, "QtyDiff": Decimal(qty) - ledger(sku)}}]})
    second = round_()
    step.figure("conflict_to_books", "conflict on OTL (store +3, QuickBooks +10): QuickBooks set to the store's "
                                     "(channel_wins)", created(second[0], "InventoryAdjustment"))
    step.figure("to_store", "QuickBooks' own change (CC3C = 40) written to the store",
                created(second[1], "inventory_adjustments"))
    third = round_()
    step.figure("third_round_created", "written by a third round (no echo, no oscillation: 0)",
                created(third[0]) + created(third[1]))
    differ = [sku for sku in _STOCKED if Decimal(channel(sku)) != ledger(sku)]
    step.figure("differ", "SKUs whose counts differ afterwards", len(differ))
    reports = [*first, *second, *third]
    step.check(all(r.status == "succeeded" for r in reports), "an inventory sync failed")
    step.check(channel("OTL") == agreed + 3 and channel("CC3C") == 40, "the conflict rule or the QuickBooks change "
                                                                        "did not land as expected")
    step.check(not differ, f"counts differ for {', '.join(differ)}")
    step.check(created(third[0]) + created(third[1]) == 0, "the third round wrote again")
    step.files = {"to_books": str(to_books.base_dir / "bigcommerce-inventory-to-qbo.yaml"),
                  "to_store": str(to_store.base_dir / "qbo-inventory-to-bigcommerce.yaml"),
                  "baseline": env["INVENTORY_BASELINE"]}
    step.details = {"runs": [r.to_dict() for r in reports]}
    run.reconcile_later(to_books)  # its drift report: every stocked SKU agrees
    return step


def stores_step(run: DemoRun) -> Step:
    """Two BigCommerce stores whose order numbers overlap, posting into one QuickBooks Online company."""
    step = Step("stores", "two BigCommerce stores → one QuickBooks Online company")
    bc, bc_env = run.private_sandbox("bigcommerce", stores=["def456"])
    _, qbo_env = run.private_sandbox("qbo")
    env = {**bc_env, **qbo_env, "LEDGERLINK_CREDENTIALS": str(run.workdir / "two-stores.credentials")}
    a = run.pipeline("bigcommerce-two-stores-a-to-qbo.yaml", LEDGERLINK_STATE_A=str(
        run.workdir / "two-stores-a.duckdb"), **env)
    b = run.pipeline("bigcommerce-two-stores-b-to-qbo.yaml", LEDGERLINK_STATE_B=str(
        run.workdir / "two-stores-b.duckdb"), **env)
    first_a, first_b, again = sync(a, plugin_host=run.plugins), sync(b, plugin_host=run.plugins), sync(
        a, plugin_host=run.plugins)
    step.figure("store_a", "store abc123: sales receipts", created(first_a, "SalesReceipt"))
    step.figure("store_b", "store def456: sales receipts (same order numbers, other sales)",
                created(first_b, "SalesReceipt"))
    step.figure("company", "receipts in the one company", _objects(qbo_env["QBO_BASE_URL"]).get("SalesReceipt", 0))
    step.figure("again_created", "created by syncing store abc123 again (idempotent: 0)", created(again))
    step.check(all(r.status == "succeeded" for r in (first_a, first_b, again)), "a store's sync failed")
    step.check(created(first_b, "SalesReceipt") > 0, "store def456 posted nothing: its orders were taken for "
                                                       "store abc123's")
    step.check(created(again) == 0, f"syncing store abc123 again created {created(again)}")
    step.files = {"pipeline_a": str(a.base_dir / "bigcommerce-two-stores-a-to-qbo.yaml"),
                  "pipeline_b": str(b.base_dir / "bigcommerce-two-stores-b-to-qbo.yaml")}
    step.details = {"runs": [first_a.to_dict(), first_b.to_dict(), again.to_dict()]}
    return step


def reconcile_step(run: DemoRun) -> Step:
    from .reconcile import open_context, reconcile

    step = Step("reconcile", "ledgerlink reconcile: the books against the channels")
    for pipeline in run.to_reconcile:
        run.hand_over_qbo(pipeline)
        try:
            ctx = open_context(pipeline, plugin_host=run.plugins)
            try:
                report = reconcile(ctx).to_dict()
            finally:
                ctx.store.close()
        except LedgerlinkError as exc:
            report = {"pipeline": pipeline.name, "ok": False, "checks": [], "skipped": {},
                      "findings": [{"check": "reconcile", "subject": pipeline.name, "message": str(exc)}]}
        findings = report["findings"]
        step.figure(pipeline.name, pipeline.name, "everything ties" if report["ok"] else f"{len(findings)} finding(s)")
        step.notes += [f"{pipeline.name}: {f['check']}: {f['subject']}: {f['message']}" for f in findings[:10]]
        step.check(report["ok"], f"{pipeline.name} does not tie")
        step.details[pipeline.name] = report
    return step


#: the demo's steps, in order; reconcile stays last, so it checks every pipeline the steps before it posted
STEPS: list[tuple[str, Callable[[DemoRun], Step]]] = [
    ("orders", orders_step), ("order_to_cash", order_to_cash_step), ("returns", returns_step),
    ("inventory", inventory_step), ("settlements", settlements_step), ("fulfilment", fulfilment_step), ("stores", stores_step),
    ("reconcile", reconcile_step),
]


def run_demo(orders: int = 300, workdir: Path = Path(".ledgerlink/demo"),
             steps: list[str] | None = None) -> dict[str, Any]:
    """Run the named steps (default: all) against fresh sandboxes in an emptied `workdir`."""
    wanted = [(n, fn) for n, fn in STEPS if steps is None or n in steps]
    unknown = sorted(set(steps or ()) - {n for n, _ in STEPS})
    if unknown:
        raise ConfigError(f"no demo step {', '.join(unknown)}", hint=f"steps: {', '.join(n for n, _ in STEPS)}")
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    done: list[Step] = []
    with contextlib.ExitStack() as stack:
        run = DemoRun(workdir.resolve(), orders, host(), stack)
        for _, fn in wanted:
            started = time.perf_counter()
            done.append(fn(run))
            done[-1].seconds = time.perf_counter() - started  # the step's wall time, sandboxes' start included
        urls = dict(run.urls)
    return {"status": "succeeded" if all(s.ok for s in done) else "failed", "workdir": str(workdir.resolve()),
            "sandboxes": urls, "steps": [s.to_dict() for s in done], "console": console_commands(workdir.resolve())}


def print_demo(result: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    for n, step in enumerate(result["steps"], 1):
        table = Table(title=f"{n}. {step['title']}", title_justify="left", show_header=False, min_width=60)
        table.add_column("figure")
        table.add_column("value", justify="right")
        for key, value in step["figures"].items():
            table.add_row(step["labels"][key], str(value))
        table.add_row("seconds", f"{step['seconds']:.2f}", style="dim")
        console.print(table)
        for note in step["notes"]:
            console.print(f"  {note}", style="dim", highlight=False)
        for problem in step["problems"]:
            console.print(f"  [red]✗ {problem}[/red]")
    console.print(f"files: {result['workdir']}")
    colour = "green" if result["status"] == "succeeded" else "red"
    console.print(f"status: [{colour}]{result['status']}[/{colour}]")
    console.print("see it in the console (the demo's folder is a workspace: its pipelines and their state):",
                  highlight=False)
    for command in result.get("console") or console_commands(result["workdir"]):
        console.print(f"  {command}", highlight=False, markup=False)
    console.print("  then open the address serve prints and sign in as admin (a new `ledgerlink demo` starts the "
                  "folder afresh: add the user again)", highlight=False)
