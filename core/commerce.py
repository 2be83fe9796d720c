"""The canonical commerce model: what every channel's data becomes, and what every ledger posts from.

N channels + M ledgers = N + M mappings: sources map their raw records into these objects, destinations
map these objects into their documents. Amounts are Money (Decimal + currency).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .money import Money, Quantity

__all__ = [
    "CanonicalObject", "SourceRef", "Address", "Customer", "Product", "OrderLine", "Order", "InventoryLevel",
    "ShipmentLine", "Shipment", "RefundLine", "Refund", "Return", "Fee", "SettlementLine", "Settlement", "CANONICAL_TYPES",
]


_ZERO = Decimal(0)
_SIMPLE_DEFAULTS = (type(None), bool, int, str, float, Decimal, tuple, frozenset)


class _Constructible(BaseModel):
    """A part of a canonical object (a line, a fee, a source ref) that normalisers build by the hundred thousand
    from values they have already parsed and typed. `model_construct` does what pydantic's does (fields in
    declared order, defaults filled in, unknown names ignored, `model_fields_set` the names given) without its
    per-field alias checks, which were most of the cost of a 100,000-row settlement's lines and audit refs."""

    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any) -> Any:
        plan = _PLANS.get(cls)
        if plan is None:
            plan = _PLANS[cls] = _construct_plan(cls)
        if plan is False or _fields_set is not None:
            return super().model_construct(_fields_set, **values)
        template, names, required, factories = plan
        if not values.keys() <= names:
            values = {k: v for k, v in values.items() if k in names}
        given = set(values)
        fields = template.copy()  # every field in declared order: the given values take their places
        fields.update(values)
        for name, factory in factories:
            if name not in given:
                fields[name] = factory()
        if not required <= given:
            for name in required - given:
                del fields[name]
        obj = object.__new__(cls)
        object.__setattr__(obj, "__dict__", fields)
        object.__setattr__(obj, "__pydantic_fields_set__", given)
        object.__setattr__(obj, "__pydantic_extra__", None)
        object.__setattr__(obj, "__pydantic_private__", None)
        return obj


_PLANS: dict[type, Any] = {}


def _construct_plan(cls: type[BaseModel]) -> Any:
    """(every field in order with its default, the field names, the required ones, (name, default factory)
    pairs), or False when a field needs pydantic's own construction (an alias, a default that is not immutable,
    private attributes, post-init, extra allowed)."""
    if cls.__pydantic_post_init__ or cls.__private_attributes__ or cls.model_config.get("extra") == "allow":
        return False
    plan = []
    for name, field in cls.model_fields.items():
        if field.alias not in (None, name) or field.validation_alias is not None:
            return False
        required = field.is_required()
        if not required and field.default_factory is None and not isinstance(field.default, _SIMPLE_DEFAULTS):
            return False
        plan.append((name, required, field.default_factory, None if required else field.default))
    template = {name: default for name, _, _, default in plan}
    return (template, frozenset(template), frozenset(name for name, required, _, _ in plan if required),
            tuple((name, factory) for name, _, factory, _ in plan if factory is not None))


class SourceRef(_Constructible):
    """One staged raw row a canonical object was made from (for the audit trail)."""

    model_config = ConfigDict(frozen=True)
    stream: str
    key: str


class CanonicalObject(BaseModel):
    """Base of every canonical object: a `kind`, a natural key, and where it came from."""

    model_config = ConfigDict(extra="forbid")
    kind: ClassVar[str] = "object"

    source: str = Field(description="the source connector that produced it, e.g. amazon_sp")
    source_refs: list[SourceRef] = Field(default_factory=list)
    #: which store (seller account, BigCommerce store) it came from, when a pipeline says: keys and posting
    #: dimensions (class, location) are per store
    store: str | None = None
    #: False: the store is known (for posting dimensions) but left out of the key, as in state files that
    #: posted before keys named the store (`source.key_scope: legacy`)
    _store_in_key: bool = PrivateAttr(default=True)

    @property
    def natural_id(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    @property
    def natural_key(self) -> str:
        """`source/kind/id`, or `source@store/kind/id` when it came from a named store: stable across runs,
        the root of every idempotency key. The store is in the key because ids repeat across stores (every
        BigCommerce store numbers its orders from 100), and two stores may post into one company."""
        return self.key_of(self.kind, self.natural_id)

    def key_of(self, kind: str, natural_id: str) -> str:
        """The natural key of another object of the same source and store, e.g. a refund's order:
        `refund.key_of("order", refund.order_id)` (formed as this object's own key is, store and scope alike)."""
        if self.store and self._store_in_key:
            return f"{self.source}@{self.store}/{kind}/{natural_id}"
        return f"{self.source}/{kind}/{natural_id}"

    def stamp_store(self, store: str | None, *, in_key: bool = True) -> None:
        """Say which store this object (and the canonical objects inside it, e.g. an order's customer) came
        from; `in_key=False` keeps the legacy `source/kind/id` key. The runtime calls it for every object a
        pipeline normalises; a normaliser need not."""
        for obj in (self, *(v for v in self.__dict__.values() if isinstance(v, CanonicalObject))):
            if obj.store is None:
                obj.store = store
            obj._store_in_key = in_key


class Address(_Constructible):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    line3: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    phone: str | None = None


class Customer(CanonicalObject):
    kind: ClassVar[str] = "customer"
    customer_id: str
    display_name: str
    email: str | None = None
    phone: str | None = None
    currency: str | None = None
    marketplace: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None

    @property
    def natural_id(self) -> str:
        return self.customer_id


class Product(CanonicalObject):
    kind: ClassVar[str] = "product"
    sku: str
    name: str
    description: str | None = None
    price: Money | None = None
    cost: Money | None = None
    item_type: Literal["inventory", "non_inventory", "service"] = "non_inventory"

    @property
    def natural_id(self) -> str:
        return self.sku


class OrderLine(_Constructible):
    """One order line. `amount` is quantity × unit price before discounts and tax."""

    model_config = ConfigDict(extra="forbid")
    line_id: str
    sku: str | None
    title: str | None = None
    quantity: Quantity
    unit_price: Money
    amount: Money
    discount: Money
    tax: Money
    shipping: Money
    shipping_tax: Money
    shipping_discount: Money
    gift_wrap: Money
    gift_wrap_tax: Money
    promotion_ids: list[str] = Field(default_factory=list)
    #: the staged raw row this line came from (for the audit trail)
    source_ref: SourceRef | None = None


class Order(CanonicalObject):
    kind: ClassVar[str] = "order"
    order_id: str
    channel: str = Field(description="the sales channel, e.g. amazon or bigcommerce")
    marketplace: str | None = Field(None, description="marketplace id or store name within the channel")
    sales_channel: str | None = Field(None, description="the channel's own label, e.g. Amazon.com")
    fulfilment: Literal["channel", "merchant"] = Field(description="channel = FBA; merchant = FBM / own")
    status: str = Field(description="the channel's order status, as it says it")
    paid: bool
    #: how much the buyer has paid so far, when the channel says (an invoice paid in instalments); None: `paid`
    #: says all or nothing
    amount_paid: Money | None = None
    placed_at: datetime
    updated_at: datetime
    currency: str
    customer: Customer
    shipping_address: Address | None = None
    lines: list[OrderLine]
    tax_collected_by: Literal["seller", "marketplace"] = "seller"
    payment_method: str | None = None
    is_business_order: bool = False
    _totals: dict[str, Money] = PrivateAttr(default_factory=dict)

    @property
    def natural_id(self) -> str:
        return self.order_id

    def total(self, field: str) -> Money:
        """Sum one Money field over the lines, e.g. `order.total("tax")` (computed once per field: a canonical
        order is not changed after normalisation, and mappings ask for the same totals many times)."""
        # the private dict directly: `self._totals` goes through pydantic's __getattr__, slow in a hot loop
        totals = self.__pydantic_private__["_totals"]  # type: ignore[index]
        cached = totals.get(field)
        if cached is None:
            currency, amount = self.currency, _ZERO
            for line in self.lines:
                m = getattr(line, field)
                if m.currency != currency:
                    raise ValueError(f"order {self.order_id}: {field} in {m.currency}, order in {currency}")
                amount += m.amount
            cached = totals[field] = Money._exact(amount, currency)
        return cached

    @property
    def grand_total(self) -> Money:
        """Lines, tax, shipping and gift wrap less both discounts (computed once, as `total` is)."""
        totals = self.__pydantic_private__["_totals"]  # type: ignore[index]
        cached = totals.get(" grand_total")
        if cached is None:
            gross = _ZERO
            for p in ("amount", "tax", "shipping", "shipping_tax", "gift_wrap", "gift_wrap_tax"):
                gross += self.total(p).amount
            cached = totals[" grand_total"] = Money._exact(
                gross - self.total("discount").amount - self.total("shipping_discount").amount, self.currency)
        return cached


class InventoryLevel(CanonicalObject):
    kind: ClassVar[str] = "inventory_level"
    sku: str
    location: str
    on_hand: Quantity
    available: Quantity | None = None
    reserved: Quantity | None = None
    inbound: Quantity | None = None
    unfulfillable: Quantity | None = None
    as_of: datetime

    @property
    def natural_id(self) -> str:
        return f"{self.location}/{self.sku}"


class ShipmentLine(_Constructible):
    model_config = ConfigDict(extra="forbid")
    sku: str | None = None
    line_id: str | None = None
    quantity: Quantity


class Shipment(CanonicalObject):
    kind: ClassVar[str] = "shipment"
    shipment_id: str
    order_id: str
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: datetime | None = None
    lines: list[ShipmentLine] = Field(default_factory=list)

    @property
    def natural_id(self) -> str:
        return self.shipment_id


class RefundLine(_Constructible):
    model_config = ConfigDict(extra="forbid")
    sku: str | None
    quantity: Quantity
    amount: Money
    tax: Money
    restock: bool = False


class Refund(CanonicalObject):
    kind: ClassVar[str] = "refund"
    refund_id: str
    order_id: str
    refunded_at: datetime
    currency: str
    lines: list[RefundLine] = Field(default_factory=list)
    shipping: Money | None = None
    reason: str | None = None

    @property
    def natural_id(self) -> str:
        return self.refund_id


class Return(CanonicalObject):
    """Units a buyer sent back, and the state they came back in: only a sellable unit goes back on the shelf."""

    kind: ClassVar[str] = "return"
    return_id: str
    order_id: str
    returned_at: datetime
    sku: str
    quantity: Quantity
    #: the channel's word for the state the unit came back in (Amazon: SELLABLE, CUSTOMER_DAMAGED, ...)
    disposition: str | None = None
    sellable: bool = False
    reason: str | None = None

    @property
    def natural_id(self) -> str:
        return self.return_id


class Fee(_Constructible):
    model_config = ConfigDict(extra="forbid")
    fee_type: str
    amount: Money
    order_id: str | None = None
    sku: str | None = None
    description: str | None = None
    #: the report row it came from (settlement fees)
    row: int | None = None


class SettlementLine(_Constructible):
    """One amount in a payout report, with the report row it came from."""

    model_config = ConfigDict(extra="forbid")
    row: int
    transaction_type: str
    amount_type: str | None = None
    amount_description: str | None = None
    amount: Money
    order_id: str | None = None
    sku: str | None = None
    posted_at: datetime | None = None
    marketplace: str | None = None
    #: the report's other identifiers, as it prints them (empty → None)
    merchant_order_id: str | None = None
    adjustment_id: str | None = None
    shipment_id: str | None = None
    fulfillment_id: str | None = None
    order_item_code: str | None = None
    merchant_order_item_id: str | None = None
    merchant_adjustment_item_id: str | None = None
    promotion_id: str | None = None
    quantity: Quantity | None = None
    #: the report column the amount was read from (`amount` in V2; one of nine amount columns in V1)
    amount_column: str | None = None


class Settlement(CanonicalObject):
    kind: ClassVar[str] = "settlement"
    settlement_id: str
    starts_at: datetime
    ends_at: datetime
    deposit_at: datetime | None = None
    total: Money
    lines: list[SettlementLine] = Field(default_factory=list)
    fees: list[Fee] = Field(default_factory=list)
    currency: str | None = Field(None, description="the report's currency (that of `total` and every line)")
    #: Amazon's reserve: released from the previous settlement (positive) and held back from this one (negative)
    previous_reserve: Money | None = None
    current_reserve: Money | None = None
    format: str | None = Field(None, description="the report format, e.g. flat_file_v2 or flat_file_v1")
    origin: str | None = Field(None, description="the file or report it was read from")
    report_id: str | None = None
    #: the report's summary row and its number of detail rows (each line's `row` is its line in the file)
    summary_row: int | None = None
    row_count: int | None = None

    @property
    def natural_id(self) -> str:
        return self.settlement_id


CANONICAL_TYPES: dict[str, type[CanonicalObject]] = {
    c.kind: c for c in (Customer, Product, Order, InventoryLevel, Shipment, Refund, Return, Settlement)
}
