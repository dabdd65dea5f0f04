"""The catalog as checkout prices it (retail price, name, category, region prices), kept in
each gateway process so a checkout does not read it every time.

Any change to ``products`` or ``product_region_prices`` — by any gateway, a migration or a
hand-written statement — fires a trigger that NOTIFYs ``chainclub_catalog`` when it commits;
every gateway LISTENs and forgets what it holds. While the LISTEN connection is down nothing is
kept: every checkout reads the catalog, as it did without the cache."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy import select

from kit.db import Database, asyncpg_dsn
from services.gateway.models import product_region_prices, products

log = logging.getLogger("gateway.catalog_cache")

CHANNEL = "chainclub_catalog"
RECONNECT_SECONDS = 5.0


@dataclass(frozen=True)
class Priced:
    """One active product: what a checkout line needs."""

    sku: str
    name: str
    category: str
    retail_price: int
    region_prices: dict[str, int] = field(default_factory=dict)  # org path -> fen


async def read(db: Database, skus: list[str]) -> dict[str, Priced]:
    """The active products among ``skus`` from the database (unknown or inactive ones absent)."""
    async with db.sessions() as session:
        rows = (
            await session.execute(select(products).where(products.c.sku.in_(skus), products.c.active))
        ).all()
        regions: dict[str, dict[str, int]] = defaultdict(dict)
        for r in (
            await session.execute(select(product_region_prices).where(product_region_prices.c.sku.in_(skus)))
        ).all():
            regions[r.sku][r.org_path] = r.price
    return {r.sku: Priced(r.sku, r.name, r.category, r.retail_price, dict(regions[r.sku])) for r in rows}


class CatalogCache:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.items: dict[str, Priced | None] = {}  # None: no such active product
        self.generation = 0  # moves on every change heard: a read that began before is not kept
        self.listening = False
        self._conn: asyncpg.Connection | None = None

    def forget(self, *_: object) -> None:
        self.items.clear()
        self.generation += 1

    async def priced(self, skus: list[str]) -> dict[str, Priced]:
        if not self.listening:
            return await read(self.db, skus)
        missing = [s for s in skus if s not in self.items]
        if missing:
            generation = self.generation
            found = await read(self.db, missing)
            if generation != self.generation or not self.listening:
                return await read(self.db, skus)  # the catalog changed meanwhile: read it all
            self.items.update({s: found.get(s) for s in missing})
        return {s: p for s in skus if (p := self.items.get(s)) is not None}

    async def run(self) -> None:
        """LISTEN for changes for the process's whole life, connecting again when the connection
        goes; the lifespan cancels it."""
        try:
            while True:
                if self._conn is None or self._conn.is_closed():
                    self._stop_listening()
                    await self._connect()
                await asyncio.sleep(RECONNECT_SECONDS)
        finally:
            self._stop_listening()
            if self._conn is not None and not self._conn.is_closed():
                await self._conn.close()

    async def _connect(self) -> None:
        try:
            self._conn = await asyncpg.connect(asyncpg_dsn(self.db.url), timeout=10)
            await self._conn.add_listener(CHANNEL, self.forget)
            self._conn.add_termination_listener(lambda *_: self._stop_listening())
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("catalog LISTEN unavailable (%s); the catalog is read on every checkout", exc)
            self._conn = None
            return
        self.forget()
        self.listening = True

    def _stop_listening(self) -> None:
        self.listening = False
        self.forget()
