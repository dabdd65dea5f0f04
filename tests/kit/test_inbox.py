"""Idempotent consumers against real PostgreSQL and NATS: inbox, retries, dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from google.protobuf.message import Message
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import members_pb2
from kit.bus import Bus, ConsumerSpec, StreamSpec
from kit.db import asyncpg_dsn, with_database
from kit.events import Event, cloudevent_headers
from kit.inbox import Consumer, Done, Handler, Later, Route
from kit.testing import eventually
from tests.kit.helpers import MEMBER_REGISTERED, MessagingDb, member_registered, stop_task, subject_in

pytestmark = pytest.mark.integration


class Recorder:
    """A handler that writes one ``effects`` row per call, failing on the calls told to."""

    def __init__(self, mdb: MessagingDb, fail_on: set[int] | None = None, fail_always: bool = False) -> None:
        self.mdb = mdb
        self.fail_on = fail_on or set()
        self.fail_always = fail_always
        self.calls: list[str] = []

    async def __call__(self, session: AsyncSession, event: Event, message: Message) -> None:
        assert isinstance(message, members_pb2.MemberRegistered)
        self.calls.append(event.id)
        await session.execute(
            self.mdb.effects.insert().values(event_id=event.id, member_no=message.member_no)
        )
        if self.fail_always or len(self.calls) in self.fail_on:
            raise RuntimeError(f"boom on call {len(self.calls)}")

    async def effects(self, event_id: uuid.UUID | str) -> int:
        return await self.mdb.count(self.mdb.effects, self.mdb.effects.c.event_id == str(event_id))


def consumer_spec(stream: StreamSpec, **overrides) -> ConsumerSpec:  # type: ignore[no-untyped-def]
    fields = {
        "durable": f"d{uuid.uuid4().hex[:12]}",
        "stream": stream.name,
        "subjects": stream.subjects,
        "max_deliver": 3,
        "backoff": (0.1, 0.1, 0.1),
    }
    return ConsumerSpec(**(fields | overrides))


@contextlib.asynccontextmanager
async def consuming(
    mdb: MessagingDb,
    bus: Bus,
    spec: ConsumerSpec,
    handler: Handler,
    consumer_cls: type[Consumer] = Consumer,
    done: Done | None = None,
) -> AsyncIterator[Consumer]:
    route = Route(members_pb2.MemberRegistered, handler, done)
    consumer = consumer_cls(
        spec,
        {subject: route for subject in _member_registered_subjects(spec)},
        db=mdb.db,
        bus=bus,
        inbox=mdb.tables.inbox,
        dead_letter=mdb.tables.dead_letter,
    )
    task = asyncio.create_task(consumer.run(), name=spec.durable)
    consumer.task = task  # type: ignore[attr-defined]
    try:
        yield consumer
    except BaseException:
        consumer.stop()
        with contextlib.suppress(Exception):  # the test's own failure is the one to report
            await stop_task(task)
        raise
    consumer.stop()
    await stop_task(task)


def _member_registered_subjects(spec: ConsumerSpec) -> list[str]:
    return [s.removesuffix(">") + "member.registered" for s in spec.subjects]


async def publish(
    bus: Bus,
    subject: str,
    message: Message | bytes,
    *,
    event_id: str | None = None,
    msg_id: str | None = None,
    drop: tuple[str, ...] = (),
    **override: str,
) -> str:
    """Publish as the relay does (CloudEvents headers), with headers dropped or overridden."""
    event_id = event_id or str(uuid.uuid4())
    data = message if isinstance(message, bytes) else message.SerializeToString()
    headers = cloudevent_headers(
        event_id=event_id,
        subject=subject,
        type_=MEMBER_REGISTERED,
        source="test/inbox",
        time=datetime.now(UTC),
        traceparent=None,
    )
    headers["Nats-Msg-Id"] = msg_id or event_id
    headers.update(override)
    for key in drop:
        headers.pop(key)
    await bus.js.publish(subject, data, headers=headers, timeout=5)
    return event_id


async def settled(bus: Bus, spec: ConsumerSpec, messages: int) -> bool:
    """True once the consumer has acknowledged (or terminated) ``messages`` stream messages."""
    try:
        info = await bus.js.consumer_info(spec.stream, spec.durable)
    except NotFoundError:
        return False
    return info.ack_floor.stream_seq >= messages and info.num_ack_pending == 0 and info.num_pending == 0


async def test_an_event_published_twice_is_handled_once(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    # the same event id under two message ids: what a relay retry after the duplicate window delivers
    spec = consumer_spec(stream)
    recorder = Recorder(mdb)
    subject = subject_in(stream)
    message = member_registered()
    event_id = await publish(bus, subject, message)
    await publish(bus, subject, message, event_id=event_id, msg_id=str(uuid.uuid4()))

    async with consuming(mdb, bus, spec, recorder):
        await eventually(lambda: settled(bus, spec, 2), what="both messages acknowledged")

    assert recorder.calls == [event_id]
    assert await recorder.effects(event_id) == 1
    inbox = await mdb.rows(mdb.tables.inbox)
    assert [(r.consumer, str(r.event_id), r.subject) for r in inbox] == [(spec.durable, event_id, subject)]
    assert await mdb.count(mdb.tables.dead_letter) == 0


class AckLosingConsumer(Consumer):
    """Handles the first delivery but its ack never reaches the server: JetStream redelivers."""

    lost_acks = 0

    async def handle(self, msg: Msg) -> None:
        if self.lost_acks == 0:
            self.lost_acks += 1

            async def lost_ack() -> None:
                return None

            msg.ack = lost_ack  # type: ignore[method-assign]
        await super().handle(msg)


async def test_an_event_redelivered_after_a_lost_ack_has_no_second_effect(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    spec = consumer_spec(stream, ack_wait=0.5)  # the broker redelivers an unacked message after this
    recorder = Recorder(mdb)
    event_id = await publish(bus, subject_in(stream), member_registered())

    async with consuming(mdb, bus, spec, recorder, AckLosingConsumer) as consumer:
        await eventually(lambda: settled(bus, spec, 1), what="the redelivered message acknowledged")
        assert consumer.lost_acks == 1
    info = await bus.js.consumer_info(spec.stream, spec.durable)
    assert info.delivered.consumer_seq >= 2  # it really was delivered again

    assert recorder.calls == [event_id]  # the second delivery found the inbox row
    assert await recorder.effects(event_id) == 1
    assert await mdb.count(mdb.tables.inbox) == 1


async def test_a_failing_handler_is_retried_then_dead_lettered_with_its_effect_rolled_back(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    spec = consumer_spec(stream, max_deliver=3, backoff=(0.1, 0.1, 0.1))
    recorder = Recorder(mdb, fail_always=True)
    subject = subject_in(stream)
    message = member_registered()
    event_id = await publish(bus, subject, message)

    async with consuming(mdb, bus, spec, recorder):
        await eventually(lambda: mdb.count(mdb.tables.dead_letter), what="a dead letter")
        await eventually(lambda: settled(bus, spec, 1), what="the message terminated")

    assert recorder.calls == [event_id] * 3
    (dead,) = await mdb.rows(mdb.tables.dead_letter)
    assert dead.consumer == spec.durable
    assert dead.event_id == event_id
    assert dead.subject == subject
    assert dead.deliveries == 3
    assert dead.error == "RuntimeError: boom on call 3"
    assert dead.headers["ce-type"] == MEMBER_REGISTERED
    assert dead.headers["ce-id"] == event_id
    assert dead.payload == message.SerializeToString()
    # every attempt's partial effect and inbox row went with its transaction
    assert await recorder.effects(event_id) == 0
    assert await mdb.count(mdb.tables.inbox) == 0


@pytest.mark.parametrize(
    ("what", "broken"),
    [
        ("no ce-type", {"drop": ("ce-type",)}),
        ("no event id", {"drop": ("ce-id", "Nats-Msg-Id")}),
        ("id not a uuid", {"drop": ("Nats-Msg-Id",), "ce-id": "not-a-uuid"}),
        ("another type", {"ce-type": "chainclub.events.v1.MemberUpdated"}),
        ("corrupt payload", {"message": b"\xff\xff\xff\xff"}),
    ],
)
async def test_an_undecodable_message_goes_straight_to_dead_letter(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec, what: str, broken: dict
) -> None:  # type: ignore[type-arg]
    spec = consumer_spec(stream, max_deliver=5)
    recorder = Recorder(mdb)
    subject = subject_in(stream)
    kwargs = dict(broken)
    payload = kwargs.pop("message", member_registered())
    await publish(bus, subject, payload, **kwargs)
    good = await publish(bus, subject, member_registered())  # the poison one must not block it

    async with consuming(mdb, bus, spec, recorder):
        await eventually(lambda: settled(bus, spec, 2), what="both messages settled")

    (dead,) = await mdb.rows(mdb.tables.dead_letter)
    assert dead.deliveries == 1, what  # no retries: retrying cannot help
    assert dead.error.startswith("undecodable"), dead.error
    assert dead.event_id is None
    assert dead.subject == subject
    assert recorder.calls == [good]
    assert await recorder.effects(good) == 1


async def test_a_handler_that_fails_once_then_succeeds_has_exactly_one_effect(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    spec = consumer_spec(stream, max_deliver=3)
    recorder = Recorder(mdb, fail_on={1})
    event_id = await publish(bus, subject_in(stream), member_registered())

    async with consuming(mdb, bus, spec, recorder):
        await eventually(lambda: settled(bus, spec, 1), what="the message acknowledged")

    assert recorder.calls == [event_id, event_id]
    assert await recorder.effects(event_id) == 1
    assert await mdb.count(mdb.tables.inbox) == 1
    assert await mdb.count(mdb.tables.dead_letter) == 0


async def test_a_handler_saying_later_is_called_again_after_the_delay_with_nothing_kept_before(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    """``Later`` rolls the handler's transaction back (its effect and the inbox row) and the
    event comes back after the delay asked for, not the consumer's failure backoff."""
    spec = consumer_spec(stream, max_deliver=3, backoff=(30.0,))
    recorder = Recorder(mdb)
    seen: list[float] = []

    async def not_yet_once(session: AsyncSession, event: Event, message: Message) -> None:
        seen.append(asyncio.get_running_loop().time())
        await recorder(session, event, message)
        if len(seen) == 1:
            raise Later(0.5, "not yet")

    event_id = await publish(bus, subject_in(stream), member_registered())
    async with consuming(mdb, bus, spec, not_yet_once):
        await eventually(lambda: settled(bus, spec, 1), timeout=10, what="the message acknowledged")

    assert len(seen) == 2
    assert seen[1] - seen[0] >= 0.45  # the delay asked for ...
    assert seen[1] - seen[0] < 10  # ... not the 30 s failure backoff
    assert await recorder.effects(event_id) == 1  # the deferred call's insert was rolled back
    assert await mdb.count(mdb.tables.inbox) == 1
    assert await mdb.count(mdb.tables.dead_letter) == 0


async def test_an_event_whose_work_is_done_is_acknowledged_without_a_write(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    spec = consumer_spec(stream)
    recorder = Recorder(mdb)
    asked: list[str] = []

    async def done(conn, event, message) -> bool:  # type: ignore[no-untyped-def]
        asked.append(message.member_no)
        # one read on the connection it is given: the work is done when no effect is wanted
        return bool((await conn.execute(text("SELECT :n LIKE 'done-%'"), {"n": message.member_no})).scalar())

    skipped = await publish(bus, subject_in(stream, "member.registered"), member_registered("done-1"))
    handled = await publish(bus, subject_in(stream, "member.registered"), member_registered("todo-1"))
    async with consuming(mdb, bus, spec, recorder, done=done):
        await eventually(lambda: settled(bus, spec, 2), what="both messages acknowledged")

    assert asked == ["done-1", "todo-1"]
    assert recorder.calls == [handled]
    assert await recorder.effects(skipped) == 0 and await recorder.effects(handled) == 1
    assert await mdb.count(mdb.tables.inbox) == 1  # nothing written for the one already done


async def test_a_subject_without_a_route_is_acknowledged_and_ignored(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    spec = consumer_spec(stream)
    recorder = Recorder(mdb)
    await publish(bus, subject_in(stream, "member.updated"), member_registered())

    async with consuming(mdb, bus, spec, recorder):
        await eventually(lambda: settled(bus, spec, 1), what="the message acknowledged")

    assert recorder.calls == []
    assert await mdb.count(mdb.tables.inbox) == 0
    assert await mdb.count(mdb.tables.dead_letter) == 0


@contextlib.asynccontextmanager
async def database_down(mdb: MessagingDb) -> AsyncIterator[None]:
    """The test database refuses connections (as when PostgreSQL is down) until the block ends."""
    url = mdb.db.url
    name = make_url(url).database
    admin = await asyncpg.connect(asyncpg_dsn(with_database(url, "postgres")), timeout=10)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


class CountingConsumer(Consumer):
    handled = 0

    async def handle(self, msg: Msg) -> None:
        try:
            await super().handle(msg)
        finally:
            self.handled += 1


async def test_a_consumer_survives_a_database_outage_and_handles_the_event_after(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    spec = consumer_spec(stream, max_deliver=2, backoff=(0.1, 0.1))
    recorder = Recorder(mdb)
    async with consuming(mdb, bus, spec, recorder, CountingConsumer) as consumer:
        async with database_down(mdb):
            event_id = await publish(bus, subject_in(stream), member_registered())
            await eventually(lambda: consumer.handled >= spec.max_deliver, what="every delivery tried")
        task = consumer.task  # type: ignore[attr-defined]
        assert not task.done(), f"the consumer loop died: {task.exception()!r}"
        await eventually(lambda: recorder.effects(event_id), what="the event handled after the outage")
    assert await recorder.effects(event_id) == 1
