"""The gateway's catalog cache (services/gateway/catalog_cache.py) on the real gateway
database: a checkout line is priced without reading the catalog again, and any change to the
catalog — even one made by hand in SQL, as another gateway's would be seen — is heard through
the trigger's NOTIFY and priced at once; without its LISTEN connection nothing is cached."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from kit.testing import eventually
from services.gateway import catalog_cache
from services.gateway.catalog_cache import CatalogCache
from services.gateway.models import product_region_prices, products
from tests.checkout.conftest import CheckoutWorld

pytestmark = pytest.mark.integration


async def test_the_cache_reads_once_and_forgets_on_any_change(
    checkout_world: CheckoutWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = checkout_world
    sku = await w.product(1_000)
    reads: list[list[str]] = []
    real_read = catalog_cache.read

    async def counted(db, skus):  # type: ignore[no-untyped-def]
        reads.append(list(skus))
        return await real_read(db, skus)

    monkeypatch.setattr(catalog_cache, "read", counted)
    cache = CatalogCache(w.gw.db)
    assert (await cache.priced([sku]))[sku].retail_price == 1_000 and len(reads) == 1
    assert (await cache.priced([sku]))[sku].retail_price == 1_000 and len(
        reads
    ) == 2  # not listening: no cache

    listener = asyncio.create_task(cache.run())
    try:
        await eventually(lambda: cache.listening, timeout=10, what="LISTEN")
        reads.clear()
        for _ in range(3):
            assert (await cache.priced([sku, "no-such-sku"]))[sku].retail_price == 1_000
        assert reads == [[sku, "no-such-sku"]]  # read once, the unknown one too

        async with w.gw.db.transaction() as session:  # by hand, as another process would
            await session.execute(update(products).where(products.c.sku == sku).values(retail_price=1_250))

        async def repriced():  # type: ignore[no-untyped-def]
            return (await cache.priced([sku]))[sku].retail_price == 1_250 or None

        await eventually(repriced, timeout=10, what="the new price")
        async with w.gw.db.transaction() as session:
            await session.execute(
                product_region_prices.insert().values(
                    sku=sku, org_path=w.store_path.rsplit("/", 1)[0], price=900
                )
            )

        async def regional():  # type: ignore[no-untyped-def]
            return (await cache.priced([sku]))[sku].region_prices or None

        assert await eventually(regional, timeout=10, what="the region price") == {
            w.store_path.rsplit("/", 1)[0]: 900
        }
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    assert not cache.listening


async def test_a_price_changed_over_rest_is_what_the_next_quote_charges(
    checkout_world: CheckoutWorld,
) -> None:
    """The running gateway caches; its own change is priced by the very next request."""
    w = checkout_world
    sku = await w.product(2_000)
    body = {"lines": [{"sku": sku, "qty": 1}]}
    assert (await w.quote(body))["subtotal"] == 2_000
    assert (await w.quote(body))["subtotal"] == 2_000
    r = await w.call("PATCH", f"/api/v1/products/{sku}", w.admin, json={"retail_price": 2_100})
    assert r.status_code == 200, r.text
    assert (await w.quote(body))["subtotal"] == 2_100
