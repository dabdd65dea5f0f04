"""Idempotent consumers: durable pull, explicit ack, bounded redelivery, dead letters.

A handler runs in one transaction with an ``inbox`` insert of ``(consumer, event_id)``; a
redelivered event finds its row and has no second effect. A route may first ask, with one read
and no transaction, whether the event's work is already done (``Route.done``): then it is
acknowledged without writing anything. A failing handler is nak'ed with
the consumer's backoff; past ``max_deliver`` (or when the message cannot be decoded at all)
it is kept in ``dead_letter`` and terminated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nats.errors
from google.protobuf.message import Message
from nats.aio.msg import Msg
from opentelemetry.trace import SpanKind
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kit.bus import Bus, ConsumerSpec
from kit.db import Database, is_unavailable
from kit.events import Event
from kit.telemetry import context_from, tracer

log = logging.getLogger("kit.inbox")

Handler = Callable[[AsyncSession, Event, Message], Awaitable[None]]
Done = Callable[[AsyncConnection, Event, Message], Awaitable[bool]]


class Later(Exception):
    """Raised by a handler that should not act yet: its transaction is rolled back (nothing,
    not even the inbox row, is recorded) and the event comes back after ``seconds``. Each
    deferral uses a delivery, so a handler defers a bounded number of times, not forever."""

    def __init__(self, seconds: float, why: str = "") -> None:
        super().__init__(why or f"later, in {seconds:g}s")
        self.seconds = max(0.0, seconds)


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id"),
    )


def dead_letter_table(metadata: MetaData) -> Table:
    return Table(
        "dead_letter",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(64)),
        Column("subject", String(200), nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("deliveries", Integer, nullable=False),
        Column("error", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


@dataclass(frozen=True)
class Route:
    message: type[Message]
    handler: Handler
    done: Done | None = None  # True: nothing left to do (read-only, autocommit); may raise Later


class Consumer:
    """Runs one durable consumer: ``routes`` maps a subject to its message type and handler."""

    def __init__(
        self,
        spec: ConsumerSpec,
        routes: dict[str, Route],
        *,
        db: Database,
        bus: Bus,
        inbox: Table,
        dead_letter: Table,
        batch: int = 20,
    ) -> None:
        self.spec = spec
        self.routes = routes
        self.db = db
        self.bus = bus
        self.inbox = inbox
        self.dead_letter = dead_letter
        self.batch = batch
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        await self.bus.wait_connected()
        sub = None
        while not self._stop.is_set():
            try:
                if sub is None:
                    await self.bus.ensure_consumer(self.spec)
                    sub = await self.bus.js.pull_subscribe_bind(
                        durable=self.spec.durable, stream=self.spec.stream
                    )
                msgs = await sub.fetch(self.batch, timeout=1)
            except (TimeoutError, nats.errors.TimeoutError):
                continue  # nothing yet
            except Exception as exc:
                log.warning("consumer %s: fetch failed (%s); retrying", self.spec.durable, exc)
                sub = None
                await asyncio.sleep(1)
                continue
            for msg in msgs:
                await self._handle_until_settled(msg)
        if sub is not None:
            try:
                await sub.unsubscribe()
            except Exception:
                pass

    async def _handle_until_settled(self, msg: Msg) -> None:
        """Handle one message; while the database is unreachable, keep the message (tell the
        broker we are working on it) and retry, so an outage uses up no deliveries."""
        delay = 0.2
        while True:
            try:
                await self.handle(msg)
                return
            except Exception as exc:
                if not is_unavailable(exc):
                    log.exception("consumer %s: unexpected failure on %s", self.spec.durable, msg.subject)
                    with contextlib.suppress(Exception):
                        await msg.nak(delay=self.spec.delay_after(1))
                    return
                if self._stop.is_set():
                    with contextlib.suppress(Exception):
                        await msg.nak(delay=1)
                    return
                log.warning(
                    "consumer %s: database unavailable (%s); holding the message", self.spec.durable, exc
                )
                with contextlib.suppress(Exception):
                    await msg.in_progress()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def handle(self, msg: Msg) -> None:
        """Raises only when the database is unavailable (the caller retries)."""
        delivered = msg.metadata.num_delivered if msg.metadata else 1
        try:
            event = Event.from_headers(msg.subject, msg.headers, msg.data)
            route = self.routes.get(event.subject)
            message = event.parse(route.message) if route else None
        except Exception as exc:  # undecodable: retrying cannot help
            await self._bury(msg, delivered, f"undecodable: {exc}", None)
            return
        if route is None or message is None:
            await msg.ack()  # a subject this consumer does not handle
            return
        with tracer("kit.inbox").start_as_current_span(
            f"consume {event.subject}",
            context=context_from({"traceparent": event.traceparent or ""}),
            kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "nats", "messaging.consumer.group.name": self.spec.durable},
        ):
            try:
                if route.done is not None:
                    async with self.db.autocommit() as reader:
                        if await route.done(reader, event, message):
                            await msg.ack()
                            return
                async with self.db.transaction() as session:
                    first = await session.execute(
                        insert(self.inbox)
                        .values(consumer=self.spec.durable, event_id=event.id, subject=event.subject)
                        .on_conflict_do_nothing()
                        .returning(self.inbox.c.event_id)
                    )
                    if first.first() is not None:
                        await route.handler(session, event, message)
                await msg.ack()
            except Later as later:
                log.debug("consumer %s: event %s deferred: %s", self.spec.durable, event.id, later)
                await msg.nak(delay=later.seconds)
            except Exception as exc:
                if is_unavailable(exc):
                    raise
                if delivered >= self.spec.max_deliver:
                    await self._bury(msg, delivered, f"{type(exc).__name__}: {exc}", event.id)
                else:
                    log.warning(
                        "consumer %s: event %s failed (delivery %d): %s",
                        self.spec.durable,
                        event.id,
                        delivered,
                        exc,
                    )
                    await msg.nak(delay=self.spec.delay_after(delivered))

    async def _bury(self, msg: Msg, delivered: int, error: str, event_id: str | None) -> None:
        log.error(
            "consumer %s: dead letter %s after %d deliveries: %s",
            self.spec.durable,
            msg.subject,
            delivered,
            error,
        )
        async with self.db.transaction() as session:
            await session.execute(
                self.dead_letter.insert().values(
                    consumer=self.spec.durable,
                    event_id=event_id,
                    subject=msg.subject,
                    headers=dict(msg.headers or {}),
                    payload=msg.data,
                    deliveries=delivered,
                    error=error[:2000],
                )
            )
        await msg.term()
