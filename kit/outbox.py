"""The transactional outbox and its relay.

``add_event`` writes the event in the caller's transaction, so an event exists iff the state
change committed. The relay claims unsent rows with ``FOR UPDATE SKIP LOCKED`` (never by "id
above the last seen": sequence values are assigned before commit), publishes them to
JetStream with ``Nats-Msg-Id`` = event id, and marks them sent only after the broker's ack.
NATS down = rows wait. It wakes on LISTEN/NOTIFY and polls as a fallback.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

import asyncpg
from google.protobuf.message import Message
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from kit.bus import Bus
from kit.db import Database, asyncpg_dsn
from kit.events import cloudevent_headers
from kit.telemetry import current_traceparent

log = logging.getLogger("kit.outbox")
NOTIFY_CHANNEL = "chainclub_outbox"


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("subject", String(200), nullable=False),
        Column("type", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("org_path", Text),
        Column("traceparent", String(64)),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("sent_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text),
        Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL")),
    )


async def add_event(
    session: AsyncSession,
    table: Table,
    subject: str,
    message: Message,
    *,
    org_path: str | None = None,
    event_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Append an event to the outbox inside the caller's transaction."""
    event_id = event_id or uuid.uuid4()
    await session.execute(
        table.insert().values(
            event_id=event_id,
            subject=subject,
            type=message.DESCRIPTOR.full_name,
            payload=message.SerializeToString(),
            org_path=org_path,
            traceparent=current_traceparent(),
        )
    )
    # Delivered at commit (and only then), it wakes the relay at once.
    await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return event_id


class Relay:
    """Publishes committed outbox rows to JetStream."""

    def __init__(
        self,
        db: Database,
        table: Table,
        bus: Bus,
        *,
        source: str,
        batch: int = 100,
        poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.table = table
        self.bus = bus
        self.source = source
        self.batch = batch
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._listener: asyncpg.Connection | None = None

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        await self._listen()
        try:
            while not self._stop.is_set():
                if self._listener is None or self._listener.is_closed():
                    await self._listen()  # PostgreSQL restarted: LISTEN again (polling meanwhile)
                sent = 0
                if self.bus.connected:
                    try:
                        sent = await self.publish_batch()
                    except Exception:
                        log.exception("outbox relay batch failed; retrying")
                if sent >= self.batch:
                    continue  # more may be waiting
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                except TimeoutError:
                    pass
        finally:
            if self._listener is not None:
                await self._listener.close()

    async def _listen(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        loop = asyncio.get_running_loop()
        if loop.time() < getattr(self, "_next_listen", 0.0):
            return
        self._next_listen = loop.time() + 5.0
        try:
            self._listener = await asyncpg.connect(asyncpg_dsn(self.db.url), timeout=10)
            await self._listener.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("outbox LISTEN unavailable (%s); polling only", exc)
            self._listener = None

    async def publish_batch(self) -> int:
        """Publish up to one batch; returns how many rows were acknowledged and marked sent."""
        t = self.table
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    select(
                        t.c.id,
                        t.c.event_id,
                        t.c.subject,
                        t.c.type,
                        t.c.payload,
                        t.c.traceparent,
                        t.c.created_at,
                    )
                    .where(t.c.sent_at.is_(None))
                    .order_by(t.c.id)
                    .limit(self.batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            results = await asyncio.gather(*(self._publish(row) for row in rows), return_exceptions=True)
            sent = [
                row.id for row, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)
            ]
            failed = [
                (row.id, res)
                for row, res in zip(rows, results, strict=True)
                if isinstance(res, BaseException)
            ]
            if sent:
                await session.execute(update(t).where(t.c.id.in_(sent)).values(sent_at=datetime.now(UTC)))
            for row_id, exc in failed:
                await session.execute(
                    update(t)
                    .where(t.c.id == row_id)
                    .values(attempts=t.c.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:500])
                )
            if failed:
                log.warning("outbox: %d of %d events not acknowledged; they wait", len(failed), len(rows))
            return len(sent)

    async def _publish(self, row) -> None:  # type: ignore[no-untyped-def]
        headers = cloudevent_headers(
            event_id=str(row.event_id),
            subject=row.subject,
            type_=row.type,
            source=self.source,
            time=row.created_at,
            traceparent=row.traceparent,
        )
        await self.bus.js.publish(row.subject, row.payload, headers=headers, timeout=5)


async def unsent_count(db: Database, table: Table) -> int:
    async with db.sessions() as session:
        return int(
            (
                await session.execute(
                    select(func.count()).select_from(table).where(table.c.sent_at.is_(None))
                )
            ).scalar_one()
        )
