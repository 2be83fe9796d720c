"""Keys, key scopes, credentials and rate-limit buckets per store: the unit-level rules a two-store pipeline
rests on."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from ledgerlink import ConfigError, Customer, Money, Order, OrderLine, PlannedWrite, protocol
from ledgerlink.runtime.extract import _save_control, apply_stored_credentials, credential_name
from ledgerlink.store import Store
from ledgerlink.store.key_scope import recorded_key_scope, settle_key_scope
from ledgerlink.store.shared_credentials import SharedCredentials, share_credentials
from ledgerlink_amazon_sp.client import sp_client
from ledgerlink_amazon_sp.config import AmazonSPConfig
from ledgerlink_amazon_sp.source import AmazonSellingPartnerSource
from ledgerlink_bigcommerce.client import bc_client
from ledgerlink_bigcommerce.config import BigCommerceConfig
from ledgerlink_bigcommerce.source import BigCommerceSource
from ledgerlink_qbo.client import QboApi
from ledgerlink_qbo.config import QboSourceConfig
from ledgerlink_qbo.source import QuickBooksOnlineSource

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
QBO = {"base_url": "http://127.0.0.1:1", "token_url": "http://127.0.0.1:1/token", "realm_id": "4620816365",
       "client_id": "c", "client_secret": "s", "refresh_token": "from-the-pipeline-file"}


def _order(store: str | None = None) -> Order:
    zero = Money.zero("USD")
    line = OrderLine(line_id="1", sku="MUG", quantity=Decimal(1), unit_price=Money(amount=Decimal(5), currency="USD"),
                     amount=Money(amount=Decimal(5), currency="USD"), discount=zero, tax=zero, shipping=zero,
                     shipping_tax=zero, shipping_discount=zero, gift_wrap=zero, gift_wrap_tax=zero)
    customer = Customer(source="bigcommerce", customer_id="7", display_name="Ann Lee")
    return Order(source="bigcommerce", store=store, order_id="101", channel="bigcommerce", fulfilment="merchant",
                 status="Completed", paid=True, placed_at=NOW, updated_at=NOW, currency="USD", customer=customer,
                 lines=[line])


def test_a_natural_key_names_the_store_it_came_from():
    assert _order().natural_key == "bigcommerce/order/101"  # built by hand, no store: the key as it always was
    assert _order("abc123").natural_key == "bigcommerce@abc123/order/101"
    assert _order("abc123").natural_key != _order("def456").natural_key


def test_stamping_reaches_the_order_customer_and_legacy_keeps_the_old_key():
    order = _order()
    order.stamp_store("abc123")
    assert order.store == order.customer.store == "abc123"
    assert order.customer.natural_key == "bigcommerce@abc123/customer/7"  # customer ids restart per store too
    legacy = _order()
    legacy.stamp_store("abc123", in_key=False)
    assert legacy.store == "abc123"  # still known, for the store's class or location
    assert legacy.natural_key == "bigcommerce/order/101" and legacy.customer.natural_key == "bigcommerce/customer/7"
    assert legacy.model_copy().natural_key == "bigcommerce/order/101"
    # a refund names its order's key as the order itself would, in either scope
    assert order.key_of("order", "101") == order.natural_key and legacy.key_of("order", "101") == legacy.natural_key


def test_each_source_names_its_store():
    bc = BigCommerceSource().parse_config({"store_hash": "abc123", "access_token": "t"})
    assert BigCommerceSource().store_id(bc) == "abc123"
    amazon = {"client_id": "amzn1.application-oa2-client.x", "client_secret": "s", "refresh_token": "Atzr|x",
              "marketplace_ids": ["ATVPDKIKX0DER"], "start_date": "2026-01-01T00:00:00Z"}
    src = AmazonSellingPartnerSource()
    assert src.store_id(src.parse_config({**amazon, "seller_id": "A1SELLER"})) == "A1SELLER"
    # the client id names the developer's app, which several sellers share: not a store
    assert src.store_id(src.parse_config(amazon)) is None
    assert QuickBooksOnlineSource().store_id(QuickBooksOnlineSource().parse_config(QBO)) == "4620816365"


def _planned(store: Store, key: str) -> None:
    store.outbox.add("qbo", [PlannedWrite(stream="SalesReceipt", key=key, data={"TotalAmt": "5.00"},
                                          natural_key=key.split(":", 1)[1])], store.runs.start("old", False))


def test_a_new_state_file_gets_store_keys_and_records_them(tmp_path):
    store = Store(tmp_path / "new.duckdb")
    try:
        scope = settle_key_scope(store.db, "abc123", None)
        assert (scope.store, scope.scope, scope.in_key) == ("abc123", "store", True)
        assert dict(store.db.fetchall("SELECT key, value FROM ll_meta WHERE key LIKE 'key_%'")) == {
            "key_scope": "store", "key_store": "abc123"}
    finally:
        store.close()


def test_a_state_file_that_posted_with_legacy_keys_keeps_them(tmp_path):
    """As an earlier version left it: writes planned with `bigcommerce/order/…` keys, nothing in ll_meta."""
    store = Store(tmp_path / "old.duckdb")
    try:
        _planned(store, "SalesReceipt:bigcommerce/order/101")
        assert recorded_key_scope(store.db, "abc123").scope == "legacy"
        scope = settle_key_scope(store.db, "abc123", None)
        assert scope.scope == "legacy" and not scope.in_key
        # recorded: an explicit legacy agrees; an explicit store would post every document again, so it is refused
        assert settle_key_scope(store.db, "abc123", "legacy").scope == "legacy"
        with pytest.raises(ConfigError) as refused:
            settle_key_scope(store.db, "abc123", "store")
        assert refused.value.where == "source.key_scope" and "post them again" in refused.value.message
        # nor may it take another store's records: that store gets its own state file
        with pytest.raises(ConfigError) as other:
            settle_key_scope(store.db, "def456", None)
        assert "def456" in other.value.message and "own pipeline" in other.value.hint
    finally:
        store.close()


def test_a_fresh_state_file_may_choose_legacy_keys(tmp_path):
    store = Store(tmp_path / "fresh.duckdb")
    try:
        assert settle_key_scope(store.db, "abc123", "legacy").scope == "legacy"
        assert settle_key_scope(store.db, "abc123", None).scope == "legacy"  # recorded, kept
        assert settle_key_scope(store.db, "abc123", "store").scope == "store"  # nothing planned yet: may change
    finally:
        store.close()


def test_a_pipeline_file_chooses_the_key_scope_and_refuses_others(tmp_path):
    from ledgerlink.pipeline import load_pipeline

    path = tmp_path / "p.yaml"
    path.write_text("name: p\nsource: {connector: bigcommerce, key_scope: legacy, store: main-us}\n"
                    "destination: {connector: qbo}\n")
    p = load_pipeline(path)
    assert (p.source.key_scope, p.source.store) == ("legacy", "main-us")
    path.write_text("name: p\nsource: {connector: bigcommerce, key_scope: per_store}\ndestination: {connector: qbo}\n")
    with pytest.raises(ConfigError) as bad:
        load_pipeline(path)
    assert "source.key_scope" in str(bad.value)


def test_a_rotated_source_token_is_stored_per_company_and_the_old_name_still_read(tmp_path):
    source = QuickBooksOnlineSource()
    store = Store(tmp_path / "qbo.duckdb")
    try:
        assert credential_name(source, QBO, "refresh_token") == "qbo:4620816365:refresh_token"
        store.credentials.save("qbo:refresh_token", "stored-by-an-earlier-version")
        assert apply_stored_credentials(source, QBO, store)["refresh_token"] == "stored-by-an-earlier-version"
        _save_control(source, protocol.control_config({**QBO, "refresh_token": "rotated"}), QBO, store)
        assert store.credentials.load("qbo:4620816365:refresh_token") == "rotated"
        assert apply_stored_credentials(source, QBO, store)["refresh_token"] == "rotated"
        # another company's token in the same file never answers for this one
        other = {**QBO, "realm_id": "999"}
        assert apply_stored_credentials(source, other, store)["refresh_token"] == "stored-by-an-earlier-version"
    finally:
        store.close()


def test_shared_credentials_fall_back_to_the_state_and_are_encrypted(tmp_path):
    store = Store(tmp_path / "a.duckdb")
    try:
        store.credentials.save("qbo:1:refresh_token", "kept-in-the-state")
        share_credentials(store, tmp_path / "company.credentials")
        share_credentials(store, tmp_path / "company.credentials")  # once: no chain of wrappers
        assert isinstance(store.credentials, SharedCredentials) and not isinstance(store.credentials.fallback,
                                                                                     SharedCredentials)
        assert store.credentials.load("qbo:1:refresh_token") == "kept-in-the-state"
        store.credentials.save("qbo:1:refresh_token", "rotated-RT1-secret")
        assert SharedCredentials(tmp_path / "company.credentials").load("qbo:1:refresh_token") == "rotated-RT1-secret"
        assert b"rotated-RT1-secret" not in (tmp_path / "company.credentials").read_bytes()
    finally:
        store.close()


def test_rate_limit_buckets_are_per_store_per_seller_region_and_per_company():
    a = bc_client(BigCommerceConfig(store_hash="abc123", access_token="t"))
    b = bc_client(BigCommerceConfig(store_hash="def456", access_token="t"))
    amazon = {"client_id": "app", "client_secret": "s", "refresh_token": "Atzr|x", "marketplace_ids": ["A1"],
              "start_date": "2026-01-01T00:00:00Z"}
    s1 = sp_client(AmazonSPConfig(**amazon, seller_id="SELLER1"), None)
    s2 = sp_client(AmazonSPConfig(**amazon, seller_id="SELLER2", region="eu"), None)
    qbo = QboApi(QboSourceConfig(**QBO), "t")
    try:
        assert (a.rate_key, b.rate_key) == ("abc123", "def456")
        assert (s1.rate_key, s2.rate_key) == ("SELLER1/na", "SELLER2/eu")
        assert qbo.http.rate_key == "4620816365"
        a.limiter.acquire(f"{a.rate_key}/orders", "orders")
        s1.limiter.acquire(f"{s1.rate_key}/getOrders", "getOrders")
        assert set(a.limiter._buckets) == {"abc123/orders"} and not b.limiter._buckets
        assert set(s1.limiter._buckets) == {"SELLER1/na/getOrders"}
    finally:
        for c in (a, b, s1, s2):
            c.close()
        qbo.close()
