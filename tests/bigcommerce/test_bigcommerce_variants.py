"""The `variants` stream: GET /v3/catalog/variants, every variant in one list, paged by meta.pagination."""

from __future__ import annotations

from ledgerlink import protocol
from ledgerlink_bigcommerce import BigCommerceSource
from ledgerlink_bigcommerce.streams import VariantsStream


def _catalog(*names: str) -> protocol.ConfiguredCatalog:
    streams = {s.name: s for s in BigCommerceSource().discover({}).streams}
    return protocol.ConfiguredCatalog(streams=[protocol.ConfiguredStream(
        stream=streams[n], sync_mode=protocol.SyncMode.full_refresh,
        destination_sync_mode=protocol.DestinationSyncMode.overwrite) for n in names])


def test_variants_are_read_across_pages_and_match_the_spec(sandbox_url, config, openapi):
    assert "variants" in {s.name for s in BigCommerceSource().discover({}).streams}
    with sandbox_url(orders=5) as (url, sandbox):
        book = sandbox.store.book
        assert len(book.variants) > 3
        messages = list(BigCommerceSource().read(config(url, page_size=3), _catalog("variants")))
    records = [m.record for m in messages if m.record is not None]
    assert {r.stream for r in records} == {"variants"}
    rows = [r.data for r in records]
    assert sorted(int(v["id"]) for v in rows) == sorted(int(v) for v in book.variants)  # every page, once each
    assert {v["sku"] for v in rows} == {v["sku"] for v in book.variants.values()}
    assert all(v["product_id"] is not None for v in rows)
    states = [m.state for m in messages if m.state is not None]
    assert states, "a full refresh still ends with a state message"
    openapi.validate({"data": rows, "meta": {"pagination": {"total": len(rows), "count": len(rows), "per_page": 3,
                                                             "current_page": 1, "total_pages": 1}}},
                     "product-variants_catalog.v3.yml", "/catalog/variants")


def test_the_variants_stream_declares_its_key():
    stream = VariantsStream.airbyte_stream()
    assert stream.name == "variants" and stream.source_defined_primary_key == [["id"]]
