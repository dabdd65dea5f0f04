"""The transactional outbox and its relay, against real PostgreSQL and NATS JetStream."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from chainclub.events.v1 import members_pb2
from kit.bus import Bus, StreamSpec
from kit.outbox import Relay, add_event, unsent_count
from kit.telemetry import setup_tracing, tracer
from kit.testing import eventually
from tests.kit.helpers import (
    MEMBER_REGISTERED,
    MessagingDb,
    connected_bus,
    member_registered,
    stop_task,
    stream_count,
    stream_messages,
    subject_in,
)

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def running(*relays: Relay) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(relay.run(), name=f"relay-{i}") for i, relay in enumerate(relays)]
    try:
        yield
    except BaseException:
        for relay in relays:
            relay.stop()
        with contextlib.suppress(Exception):  # the test's own failure is the one to report
            for task in tasks:
                await stop_task(task)
        raise
    for relay in relays:
        relay.stop()
    for task in tasks:
        await stop_task(task)


async def commit_events(mdb: MessagingDb, subject: str, n: int) -> list[uuid.UUID]:
    """``n`` events, each committed in a transaction of its own."""
    ids = []
    for _ in range(n):
        async with mdb.db.transaction() as session:
            ids.append(await add_event(session, mdb.tables.outbox, subject, member_registered()))
    return ids


async def outbox_drained(mdb: MessagingDb) -> bool:
    return await unsent_count(mdb.db, mdb.tables.outbox) == 0


async def msg_ids(bus: Bus, stream: str) -> list[str]:
    return [m.headers["Nats-Msg-Id"] for m in await stream_messages(bus, stream)]


async def test_events_of_a_rolled_back_transaction_are_never_published(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    subject = subject_in(stream)
    rolled_back = uuid.uuid4()
    with pytest.raises(RuntimeError, match="state change failed"):
        async with mdb.db.transaction() as session:
            await add_event(session, mdb.tables.outbox, subject, member_registered(), event_id=rolled_back)
            raise RuntimeError("state change failed")
    # committed after the rolled-back one: once it is out, the relay has seen everything before it
    (committed,) = await commit_events(mdb, subject, 1)

    async with running(Relay(mdb.db, mdb.tables.outbox, bus, source="test/outbox", poll_seconds=0.2)):
        await eventually(lambda: stream_count(bus, stream.name), what="the committed event in the stream")
        await eventually(lambda: outbox_drained(mdb), what="outbox drained")

    assert await msg_ids(bus, stream.name) == [str(committed)]
    assert await mdb.count(mdb.tables.outbox) == 1


async def test_the_relay_wakes_on_commit_without_waiting_for_its_poll(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    relay = Relay(mdb.db, mdb.tables.outbox, bus, source="test/outbox", poll_seconds=60)
    async with running(relay):
        await eventually(lambda: relay._listener is not None, what="the relay listening")
        (event_id,) = await commit_events(mdb, subject_in(stream), 1)
        # far sooner than the 60 s poll: LISTEN/NOTIFY woke it
        await eventually(lambda: msg_ids(bus, stream.name), timeout=5, what="the event published")
    assert await msg_ids(bus, stream.name) == [str(event_id)]


async def test_events_for_a_subject_without_a_stream_wait_in_the_outbox_until_one_exists(
    mdb: MessagingDb, bus: Bus
) -> None:
    tag = uuid.uuid4().hex[:12]
    stream = StreamSpec(name=f"T{tag}", subjects=(f"t{tag}.>",))  # not created yet
    ids = await commit_events(mdb, subject_in(stream), 3)
    t = mdb.tables.outbox

    async def tried_twice() -> bool:
        rows = await mdb.rows(t)
        return all(r.attempts >= 2 for r in rows)

    try:
        async with running(Relay(mdb.db, t, bus, source="test/outbox", poll_seconds=0.1)):
            await eventually(tried_twice, what="the relay retrying every event")
            rows = await mdb.rows(t)
            assert [r.sent_at for r in rows] == [None, None, None]
            assert all(r.last_error for r in rows), [r.last_error for r in rows]

            await bus.ensure_stream(stream)
            await eventually(lambda: outbox_drained(mdb), what="the outbox drained once the stream exists")
        assert sorted(await msg_ids(bus, stream.name)) == sorted(str(i) for i in ids)
    finally:
        with contextlib.suppress(Exception):
            await bus.js.delete_stream(stream.name)


class CountingBus(Bus):
    """A Bus that counts how often the relay asked whether it is connected (once a loop)."""

    checks = 0

    @property
    def connected(self) -> bool:
        self.checks += 1
        return super().connected


async def test_events_committed_while_nats_is_down_are_all_delivered_once_after_it_returns(
    mdb: MessagingDb, nats_factory
) -> None:  # type: ignore[no-untyped-def]
    server = nats_factory().start()
    bus = CountingBus(server.url, name="kit-test-outage")
    bus.start()
    await asyncio.wait_for(bus.wait_connected(), 10)
    tag = uuid.uuid4().hex[:12]
    stream = StreamSpec(name=f"T{tag}", subjects=(f"t{tag}.>",))
    await bus.ensure_stream(stream)
    subject = subject_in(stream)
    try:
        async with running(Relay(mdb.db, mdb.tables.outbox, bus, source="test/outbox", poll_seconds=0.1)):
            before = await commit_events(mdb, subject, 1)
            await eventually(lambda: outbox_drained(mdb), what="the event before the outage published")

            server.stop()
            await eventually(lambda: not bus.connected, what="the bus noticing NATS is down")
            during = await commit_events(mdb, subject, 20)
            seen = bus.checks
            await eventually(lambda: bus.checks >= seen + 5, what="the relay looping while NATS is down")
            assert await unsent_count(mdb.db, mdb.tables.outbox) == 20

            server.start()  # same port, same store
            await eventually(
                lambda: outbox_drained(mdb), timeout=30, what="the outbox drained after NATS returned"
            )

        ids = await msg_ids(bus, stream.name)
        assert sorted(ids) == sorted(str(i) for i in before + during)
        assert await stream_count(bus, stream.name) == 21
    finally:
        await bus.close()


async def test_published_events_carry_cloudevent_headers_and_the_trace(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    setup_tracing("test")
    subject = subject_in(stream)
    message = member_registered()
    with tracer("test").start_as_current_span("register member") as span:
        async with mdb.db.transaction() as session:
            traced = await add_event(session, mdb.tables.outbox, subject, message, org_path="HQ/EAST/SH001")
    span_context = span.get_span_context()
    assert span_context.is_valid
    (untraced,) = await commit_events(mdb, subject, 1)

    async with running(Relay(mdb.db, mdb.tables.outbox, bus, source="chainclub/test", poll_seconds=0.2)):
        await eventually(lambda: outbox_drained(mdb), what="outbox drained")

    rows = {r.event_id: r for r in await mdb.rows(mdb.tables.outbox)}
    by_id = {m.headers["ce-id"]: m for m in await stream_messages(bus, stream.name)}
    assert set(by_id) == {str(traced), str(untraced)}

    msg = by_id[str(traced)]
    h = msg.headers
    assert h["Nats-Msg-Id"] == h["ce-id"] == str(traced)
    assert h["ce-type"] == MEMBER_REGISTERED
    assert h["ce-source"] == "chainclub/test"
    assert h["ce-specversion"] == "1.0"
    assert h["ce-subject"] == subject == msg.subject
    ce_time = datetime.fromisoformat(h["ce-time"])
    assert ce_time == rows[traced].created_at
    assert abs(datetime.now(UTC) - ce_time) < timedelta(minutes=1)
    assert (
        h["traceparent"]
        == f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{span_context.trace_flags:02x}"
    )
    assert members_pb2.MemberRegistered.FromString(msg.data) == message

    assert "traceparent" not in by_id[str(untraced)].headers


class CountingRelay(Relay):
    marked_sent = 0

    async def publish_batch(self) -> int:
        sent = await super().publish_batch()
        self.marked_sent += sent
        return sent


async def test_two_relays_on_one_outbox_publish_each_event_once(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec, infra
) -> None:  # type: ignore[no-untyped-def]
    subject = subject_in(stream)
    other_bus = await connected_bus(infra.nats_url, "kit-test-relay-2")
    relays = [
        CountingRelay(mdb.db, mdb.tables.outbox, b, source="test/outbox", batch=5, poll_seconds=0.1)
        for b in (bus, other_bus)
    ]
    try:
        async with running(*relays):
            batches = await asyncio.gather(*(commit_events(mdb, subject, 10) for _ in range(6)))
            await eventually(lambda: outbox_drained(mdb), timeout=20, what="outbox drained")
    finally:
        await other_bus.close()
    ids = [str(i) for batch in batches for i in batch]

    published = await msg_ids(bus, stream.name)
    assert sorted(published) == sorted(ids)
    assert await stream_count(bus, stream.name) == 60
    # SKIP LOCKED: every row was claimed and marked sent by exactly one relay
    assert sum(r.marked_sent for r in relays) == 60
    async with mdb.db.sessions() as session:
        t = mdb.tables.outbox
        assert (await session.execute(select(t.c.id).where(t.c.sent_at.is_(None)))).all() == []
