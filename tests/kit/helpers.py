"""Helpers of the kit tests: test messages, counting rows, reading a stream back."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from nats.js import api as js_api
from sqlalchemy import BigInteger, Column, MetaData, String, Table, func, select
from sqlalchemy.engine import make_url

from chainclub.events.v1 import members_pb2
from kit.bus import Bus, StreamSpec
from kit.db import Database, asyncpg_dsn, with_database
from kit.schema import MessagingTables

MEMBER_REGISTERED = "chainclub.events.v1.MemberRegistered"


def random_member_no() -> str:
    return f"M{uuid.uuid4().hex[:10].upper()}"


def member_registered(member_no: str | None = None) -> members_pb2.MemberRegistered:
    return members_pb2.MemberRegistered(
        member_no=member_no or random_member_no(),
        home_store_path="HQ/EAST/SH001",
        source="test",
        card_no=f"C{uuid.uuid4().hex[:12]}",
        card_type="gold",
    )


def effects_table(metadata: MetaData) -> Table:
    """What test handlers write, so a test can count a handler's effects."""
    return Table(
        "effects",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False),
        Column("member_no", String(64), nullable=False),
    )


@dataclass
class MessagingDb:
    """A database of the test's own with the messaging tables and ``effects``."""

    db: Database
    tables: MessagingTables
    effects: Table

    async def count(self, table: Table, *where: Any) -> int:
        query = select(func.count()).select_from(table)
        for clause in where:
            query = query.where(clause)
        async with self.db.sessions() as session:
            return int((await session.execute(query)).scalar_one())

    async def rows(self, table: Table, *where: Any) -> list[Any]:
        query = select(table)
        for clause in where:
            query = query.where(clause)
        async with self.db.sessions() as session:
            return list((await session.execute(query)).all())


async def drop_database(url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(with_database(url, "postgres")), timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


async def connected_bus(url: str, name: str, timeout: float = 10.0) -> Bus:
    bus = Bus(url, name=name)
    bus.start()
    await asyncio.wait_for(bus.wait_connected(), timeout)
    return bus


def subject_in(spec: StreamSpec, rest: str = "member.registered") -> str:
    """A subject of the test's stream: ``t<hex>.member.registered``."""
    return spec.subjects[0].removesuffix(">") + rest


async def stream_count(bus: Bus, stream: str) -> int:
    return (await bus.js.stream_info(stream)).state.messages


async def stream_messages(bus: Bus, stream: str) -> list[js_api.RawStreamMsg]:
    """Every message the stream holds, in stream order."""
    state = (await bus.js.stream_info(stream)).state
    if state.messages == 0:
        return []
    return [await bus.js.get_msg(stream, seq) for seq in range(state.first_seq, state.last_seq + 1)]


async def stop_task(task: asyncio.Task[Any], timeout: float = 10.0) -> None:
    """Wait for a loop that was told to stop; fail (after cancelling it) if it does not end,
    and re-raise what it died of."""
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout)
    except TimeoutError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise AssertionError(f"task {task.get_name()} did not stop within {timeout}s") from None
