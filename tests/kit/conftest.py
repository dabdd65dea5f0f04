"""Fixtures of the kit tests: a fresh database with the messaging tables, a NATS connection
and a stream of the test's own (random names, so tests never collide on shared servers)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from kit.bus import Bus, StreamSpec
from kit.db import Database, ensure_database, new_metadata
from kit.schema import messaging_tables
from kit.testing import Infra
from tests.kit.helpers import MessagingDb, connected_bus, drop_database, effects_table


@pytest.fixture
async def mdb(infra: Infra) -> AsyncIterator[MessagingDb]:
    """A new database with outbox, inbox, dead_letter and the test table ``effects``."""
    url = infra.fresh_database_url("kit")
    await ensure_database(url)
    metadata = new_metadata()
    tables = messaging_tables(metadata)
    effects = effects_table(metadata)
    db = Database(url, pool_size=5)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield MessagingDb(db, tables, effects)
    finally:
        await db.dispose()
        await drop_database(url)


@pytest.fixture
async def bus(infra: Infra) -> AsyncIterator[Bus]:
    b = await connected_bus(infra.nats_url, f"kit-test-{uuid.uuid4().hex[:8]}")
    try:
        yield b
    finally:
        await b.close()


@pytest.fixture
async def stream(bus: Bus) -> AsyncIterator[StreamSpec]:
    """A stream of the test's own: ``T<hex>`` holding ``t<hex>.>``; deleted afterwards."""
    tag = uuid.uuid4().hex[:12]
    spec = StreamSpec(name=f"T{tag}", subjects=(f"t{tag}.>",))
    await bus.ensure_stream(spec)
    try:
        yield spec
    finally:
        await bus.js.delete_stream(spec.name)
