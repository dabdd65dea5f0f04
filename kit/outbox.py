"""The transactional outbox and its relay.

An event exists iff its state change committed: ``add_event`` (or ``pending_rows``, for a
statement that inserts the rows itself) writes the outbox row in the writer's transaction and
registers the event on that transaction (``kit.db.after_commit``). Right after the COMMIT —
never after a rollback — the event is handed in memory to the relay of the same process, which
publishes it to JetStream at once (no database read; ``Nats-Msg-Id`` = event id) and, after the
broker's ack, marks it sent together with the others acknowledged meanwhile: one autocommit
``UPDATE ... WHERE event_id = ANY(...)`` per ~50 ms or 200 events. The writer's transaction
carries no NOTIFY and the relay opens no transaction.

Whatever was not handed over — the writer died between its commit and the hand-over, the process
has no relay, NATS was down, a publish failed, the process died before marking — stays unsent
in the outbox. A fallback poller (autocommit too) takes unsent rows older than
``settle_seconds`` (younger ones are being published by the process that wrote them), publishes
and marks them. A crash between a publish and its mark publishes the event again with the same
``Nats-Msg-Id``: JetStream drops it as a duplicate within its duplicate window
(``kit.bus.DUPLICATE_WINDOW``), and consumers' inboxes drop anything later. For the same reason
the poller claims no rows (no ``FOR UPDATE SKIP LOCKED``, which would need a transaction):
replicas polling one outbox may both publish a row, and the broker keeps one.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kit.bus import Bus
from kit.db import Database, after_commit
from kit.events import cloudevent_headers
from kit.telemetry import current_traceparent

log = logging.getLogger("kit.outbox")

# The relay of each database this process writes to (its engine): where committed events go.
_relays: weakref.WeakKeyDictionary[Engine, Relay] = weakref.WeakKeyDictionary()


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


@dataclass(frozen=True)
class Event:
    """What the relay publishes: an outbox row's columns."""

    event_id: uuid.UUID
    subject: str
    type: str
    payload: bytes
    traceparent: str | None
    created_at: datetime


Executor = AsyncSession | AsyncConnection


async def add_event(
    session: Executor,
    table: Table,
    subject: str,
    message: Message,
    *,
    org_path: str | None = None,
    event_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Append an event to the outbox inside the caller's transaction; this process's relay
    publishes it as soon as the transaction commits."""
    row = _row(subject, message, org_path, event_id or uuid.uuid4(), datetime.now(UTC))
    await session.execute(table.insert().values(**row))
    _register(session, [row])
    return row["event_id"]


def pending_rows(
    session: Executor, events: Iterable[tuple[str, Message, str | None]]
) -> list[dict[str, Any]]:
    """The outbox rows of ``events`` — ``(subject, message, org_path)`` each — for a statement
    that inserts them itself (e.g. a CTE writing the state change and its events at once),
    registered on ``session``'s transaction: once it commits they are handed to this process's
    relay and published at once, exactly as ``add_event``'s; if it rolls back, nothing is.

    Each row is a dict of the outbox columns to insert, to bind as they are: ``event_id`` (a
    new UUID), ``subject``, ``type``, ``payload``, ``org_path``, ``traceparent``, ``created_at``.
    For several rows, e.g. ``INSERT INTO outbox (event_id, subject, type, payload, org_path,
    traceparent, created_at) SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:subjects AS
    text[]), ...)`` with one list per column.

    The caller must insert every row it got, unconditionally, through ``session`` and in the
    transaction it was in when calling this: a row registered but not inserted would still be
    published after the commit — an event without its state change. ``session`` is an ORM
    session in any transaction, or a connection of ``kit.db.Database.begin()`` outside a
    savepoint."""
    now = datetime.now(UTC)
    rows = [_row(subject, message, org_path, uuid.uuid4(), now) for subject, message, org_path in events]
    _register(session, rows)
    return rows


def _row(
    subject: str, message: Message, org_path: str | None, event_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "subject": subject,
        "type": message.DESCRIPTOR.full_name,
        "payload": message.SerializeToString(),
        "org_path": org_path,
        "traceparent": current_traceparent(),
        "created_at": now,
    }


def _register(session: Executor, rows: list[dict[str, Any]]) -> None:
    engine = session.sync_session.get_bind() if isinstance(session, AsyncSession) else session.sync_engine
    events = [
        Event(r["event_id"], r["subject"], r["type"], r["payload"], r["traceparent"], r["created_at"])
        for r in rows
    ]
    after_commit(session, lambda: _hand_over(engine, events))


def _hand_over(engine: Engine, events: list[Event]) -> None:
    relay = _relays.get(engine)
    if relay is not None:
        relay.submit(events)
    # No relay in this process (a command, a test's own writer): the rows wait for a poller.


class Relay:
    """Publishes committed events to JetStream: those its process hands over after commit at
    once, the outbox's forgotten rows by polling (see the module's docstring)."""

    def __init__(
        self,
        db: Database,
        table: Table,
        bus: Bus,
        *,
        source: str,
        batch: int = 100,
        poll_seconds: float = 1.0,
        settle_seconds: float = 2.0,
        flush_seconds: float = 0.05,
        flush_size: int = 200,
        max_pending: int = 10_000,
    ) -> None:
        self.db = db
        self.table = table
        self.bus = bus
        self.source = source
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.settle_seconds = settle_seconds
        self.flush_seconds = flush_seconds
        self.flush_size = flush_size
        self.max_pending = max_pending  # beyond it, handed-over events are left to the poller
        self._queue: list[Event] = []
        self._acked: list[uuid.UUID] = []
        self._handed = asyncio.Event()
        self._acked_some = asyncio.Event()
        self._acked_many = asyncio.Event()
        self._stop = asyncio.Event()
        t = table.name
        self._stale = text(
            f"SELECT event_id, subject, type, payload, traceparent, created_at FROM {t} "
            "WHERE sent_at IS NULL AND created_at < now() - make_interval(secs => :settle) "
            "ORDER BY id LIMIT :limit"
        )
        self._mark_sent = text(f"UPDATE {t} SET sent_at = now() WHERE event_id = ANY(CAST(:ids AS uuid[]))")
        self._mark_failed = text(
            f"UPDATE {t} SET attempts = {t}.attempts + 1, last_error = f.error "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:errors AS text[])) AS f(event_id, error) "
            f"WHERE {t}.event_id = f.event_id"
        )

    def submit(self, events: list[Event]) -> None:
        """Take events whose transaction has just committed (called by ``kit.db.after_commit``)."""
        if self._stop.is_set() or not self.bus.connected:
            return  # the poller sends them once NATS is back
        room = self.max_pending - len(self._queue)
        self._queue.extend(events[: max(room, 0)])
        self._handed.set()

    def stop(self) -> None:
        self._stop.set()
        self._handed.set()

    async def run(self) -> None:
        engine = self.db.engine.sync_engine
        _relays[engine] = self
        workers = [asyncio.create_task(self._publish_handed()), asyncio.create_task(self._flush_acked())]
        try:
            await self._poll()
        finally:
            if _relays.get(engine) is self:
                del _relays[engine]
            self.stop()
            self._acked_some.set()
            await asyncio.gather(*workers, return_exceptions=True)  # the last publishes
            await self.flush()

    async def _poll(self) -> None:
        while not self._stop.is_set():
            full = False
            if self.bus.connected:
                try:
                    full = await self.poll_once() >= self.batch
                except Exception:
                    log.exception("outbox poll failed; retrying")
            if full:
                continue  # more may be waiting
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass

    async def poll_once(self) -> int:
        """Publish up to ``batch`` rows left unsent for ``settle_seconds`` and mark those
        acknowledged; returns how many were."""
        async with self.db.autocommit() as conn:
            rows = (
                await conn.execute(self._stale, {"settle": self.settle_seconds, "limit": self.batch})
            ).all()
        if not rows:
            return 0
        sent = await self.publish([Event(*row) for row in rows])
        await self.flush()  # before the next poll, which would take them again
        return sent

    async def _publish_handed(self) -> None:
        while True:
            await self._handed.wait()
            self._handed.clear()
            events, self._queue = self._queue, []
            if events:
                try:
                    await self.publish(events)
                except Exception:  # they stay unsent: the poller takes them
                    log.exception("outbox: publishing %d handed-over events failed", len(events))
            if self._stop.is_set():
                return

    async def publish(self, events: list[Event]) -> int:
        """Publish ``events`` at once; the acknowledged ones are marked sent with the next
        flush, failures are recorded on their rows (attempts, last_error) now. Returns how
        many were acknowledged."""
        results = await asyncio.gather(*(self._send(e) for e in events), return_exceptions=True)
        failed = [
            (e.event_id, r) for e, r in zip(events, results, strict=True) if isinstance(r, BaseException)
        ]
        acked = [e.event_id for e, r in zip(events, results, strict=True) if not isinstance(r, BaseException)]
        if acked:
            self._acked.extend(acked)
            self._acked_some.set()
            if len(self._acked) >= self.flush_size:
                self._acked_many.set()
        if failed:
            log.warning("outbox: %d of %d events not acknowledged; they wait", len(failed), len(events))
            await self._record_failures(failed)
        return len(acked)

    async def _send(self, event: Event) -> None:
        headers = cloudevent_headers(
            event_id=str(event.event_id),
            subject=event.subject,
            type_=event.type,
            source=self.source,
            time=event.created_at,
            traceparent=event.traceparent,
        )
        await self.bus.js.publish(event.subject, event.payload, headers=headers, timeout=5)

    async def _flush_acked(self) -> None:
        """Mark acknowledged events sent: one statement per ``flush_seconds`` or ``flush_size``."""
        while not self._stop.is_set():
            await self._acked_some.wait()
            try:
                await asyncio.wait_for(self._acked_many.wait(), timeout=self.flush_seconds)
            except TimeoutError:
                pass
            self._acked_some.clear()
            self._acked_many.clear()
            if not await self.flush():
                await asyncio.sleep(self.poll_seconds)  # the database is away: try again later

    async def flush(self) -> bool:
        """Mark the events acknowledged so far sent; False when the database refused (they
        are kept for the next flush, up to ``max_pending``; beyond, the poller publishes them
        again and the broker drops the duplicates)."""
        ids, self._acked = self._acked, []
        if not ids:
            return True
        try:
            async with self.db.autocommit() as conn:
                await conn.execute(self._mark_sent, {"ids": ids})
        except Exception as exc:
            log.warning("outbox: could not mark %d events sent (%s); retrying", len(ids), exc)
            self._acked[:0] = ids[: max(self.max_pending - len(self._acked), 0)]
            self._acked_some.set()
            return False
        return True

    async def _record_failures(self, failed: list[tuple[uuid.UUID, BaseException]]) -> None:
        errors = [f"{type(exc).__name__}: {exc}"[:500] for _, exc in failed]
        try:
            async with self.db.autocommit() as conn:
                await conn.execute(self._mark_failed, {"ids": [i for i, _ in failed], "errors": errors})
        except Exception as exc:
            log.warning("outbox: could not record %d failed publishes (%s)", len(failed), exc)


async def unsent_count(db: Database, table: Table) -> int:
    async with db.sessions() as session:
        return int(
            (
                await session.execute(
                    select(func.count()).select_from(table).where(table.c.sent_at.is_(None))
                )
            ).scalar_one()
        )
