"""The transactional outbox and its relay, against real PostgreSQL and NATS JetStream."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from chainclub.events.v1 import members_pb2
from kit import outbox
from kit.bus import Bus, StreamSpec
from kit.db import Database
from kit.outbox import Event, Relay, add_event, pending_rows, unsent_count
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

SOON = 5.0  # seconds: far below a relay's poll interval of 60 s in these tests


def relay(mdb: MessagingDb, bus: Bus, **options) -> Relay:  # type: ignore[no-untyped-def]
    return Relay(mdb.db, mdb.tables.outbox, bus, source="test/outbox", **options)


def idle_poller(mdb: MessagingDb, bus: Bus) -> Relay:
    """A relay whose poller takes nothing for a minute: what it publishes was handed over."""
    return relay(mdb, bus, poll_seconds=60, settle_seconds=60)


@contextlib.asynccontextmanager
async def running(*relays: Relay) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(r.run(), name=f"relay-{i}") for i, r in enumerate(relays)]
    # each relay takes its process's committed events once registered for its database
    await eventually(
        lambda: any(outbox._relays.get(r.db.engine.sync_engine) is r for r in relays),
        what="a relay registered",
    )
    try:
        yield
    except BaseException:
        for r in relays:
            r.stop()
        with contextlib.suppress(Exception):  # the test's own failure is the one to report
            for task in tasks:
                await stop_task(task)
        raise
    for r in relays:
        r.stop()
    for task in tasks:
        await stop_task(task)


async def commit_events(mdb: MessagingDb, subject: str, n: int) -> list[uuid.UUID]:
    """``n`` events, each committed in a transaction of its own."""
    ids = []
    for _ in range(n):
        async with mdb.db.transaction() as session:
            ids.append(await add_event(session, mdb.tables.outbox, subject, member_registered()))
    return ids


async def insert_unhanded(db: Database, subject: str, age_seconds: float = 0.0) -> uuid.UUID:
    """An outbox row as a writer leaves it when it dies between its commit and the hand-over."""
    event_id = uuid.uuid4()
    async with db.autocommit() as conn:
        await conn.execute(
            text(
                "INSERT INTO outbox (event_id, subject, type, payload, created_at) "
                "VALUES (:id, :subject, :type, :payload, now() - make_interval(secs => :age))"
            ),
            {
                "id": event_id,
                "subject": subject,
                "type": MEMBER_REGISTERED,
                "payload": member_registered().SerializeToString(),
                "age": age_seconds,
            },
        )
    return event_id


async def outbox_drained(mdb: MessagingDb) -> bool:
    return await unsent_count(mdb.db, mdb.tables.outbox) == 0


async def msg_ids(bus: Bus, stream: str) -> list[str]:
    return [m.headers["Nats-Msg-Id"] for m in await stream_messages(bus, stream)]


async def test_an_event_is_published_and_marked_sent_right_after_its_commit(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    async with running(idle_poller(mdb, bus)):
        (event_id,) = await commit_events(mdb, subject_in(stream), 1)
        await eventually(lambda: msg_ids(bus, stream.name), timeout=SOON, what="the event published")
        await eventually(lambda: outbox_drained(mdb), timeout=SOON, what="the event marked sent")
    assert await msg_ids(bus, stream.name) == [str(event_id)]


async def test_events_of_a_rolled_back_transaction_or_savepoint_are_never_published(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    subject = subject_in(stream)
    t = mdb.tables.outbox
    async with running(idle_poller(mdb, bus)):
        with pytest.raises(RuntimeError, match="state change failed"):
            async with mdb.db.transaction() as session:
                await add_event(session, t, subject, member_registered())
                raise RuntimeError("state change failed")
        async with mdb.db.transaction() as session:
            kept = await add_event(session, t, subject, member_registered())
            with pytest.raises(RuntimeError, match="undone"):
                async with session.begin_nested():
                    await add_event(session, t, subject, member_registered())
                    raise RuntimeError("undone")
            async with session.begin_nested():  # released, so it commits with its transaction
                released = await add_event(session, t, subject, member_registered())
        (last,) = await commit_events(mdb, subject, 1)
        # handed over in commit order: once the last one is marked, every earlier one is out
        await eventually(lambda: outbox_drained(mdb), timeout=SOON, what="the committed events marked sent")

    assert sorted(await msg_ids(bus, stream.name)) == sorted(str(i) for i in (kept, released, last))
    assert await mdb.count(t) == 3


async def test_rows_a_raw_statement_inserts_are_published_after_its_commit(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    subject = subject_in(stream)
    insert = text(
        "INSERT INTO outbox (event_id, subject, type, payload, org_path, traceparent, created_at) "
        "SELECT * FROM unnest(CAST(:event_id AS uuid[]), CAST(:subject AS text[]), CAST(:type AS text[]), "
        "CAST(:payload AS bytea[]), CAST(:org_path AS text[]), CAST(:traceparent AS text[]), "
        "CAST(:created_at AS timestamptz[]))"
    )

    async def write(conn, n: int) -> list[str]:  # type: ignore[no-untyped-def]
        rows = pending_rows(conn, [(subject, member_registered(), "HQ/EAST") for _ in range(n)])
        await conn.execute(insert, {column: [r[column] for r in rows] for column in rows[0]})
        return [str(r["event_id"]) for r in rows]

    async with running(idle_poller(mdb, bus)):
        with pytest.raises(RuntimeError, match="refused"):
            async with mdb.db.begin() as conn:
                await write(conn, 1)
                raise RuntimeError("refused")
        async with mdb.db.begin() as conn:  # a Core connection
            core = await write(conn, 2)
        async with mdb.db.transaction() as session:  # an ORM session
            orm = await write(session, 1)
        await eventually(lambda: outbox_drained(mdb), timeout=SOON, what="the rows marked sent")

    assert sorted(await msg_ids(bus, stream.name)) == sorted(core + orm)
    assert await mdb.count(mdb.tables.outbox) == 3


async def test_a_core_connection_must_be_one_that_says_when_it_committed(mdb: MessagingDb) -> None:
    async with mdb.db.engine.begin() as conn:
        with pytest.raises(RuntimeError, match=r"Database\.begin"):
            pending_rows(conn, [("t.member.registered", member_registered(), None)])
        async with mdb.db.begin() as other:
            with pytest.raises(RuntimeError, match=r"Database\.begin"):
                pending_rows(conn, [("t.member.registered", member_registered(), None)])
            assert other is not conn


async def test_a_row_whose_writer_died_before_handing_it_over_is_published_by_the_poller(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    subject = subject_in(stream)
    fresh = await insert_unhanded(mdb.db, subject)
    poller = relay(mdb, bus, settle_seconds=30)
    # a row younger than settle_seconds may be on its way from the process that wrote it
    assert await poller.poll_once() == 0
    forgotten = await insert_unhanded(mdb.db, subject, age_seconds=31)

    async with running(relay(mdb, bus, poll_seconds=0.1, settle_seconds=30)):
        await eventually(lambda: msg_ids(bus, stream.name), what="the forgotten row published")

        async def one_unsent() -> bool:
            return await unsent_count(mdb.db, mdb.tables.outbox) == 1

        await eventually(one_unsent, what="it marked sent")
    assert await msg_ids(bus, stream.name) == [str(forgotten)]
    (row,) = await mdb.rows(mdb.tables.outbox, mdb.tables.outbox.c.sent_at.is_(None))
    assert row.event_id == fresh


async def test_a_republish_after_a_crash_between_publish_and_mark_is_dropped_as_a_duplicate(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec
) -> None:
    event_id = await insert_unhanded(mdb.db, subject_in(stream))
    (row,) = await mdb.rows(mdb.tables.outbox)
    crashed = relay(mdb, bus)
    assert (
        await crashed.publish([Event(row.event_id, row.subject, row.type, row.payload, None, row.created_at)])
        == 1
    )
    # ... and the process died before its flush: the row is still unsent
    assert await unsent_count(mdb.db, mdb.tables.outbox) == 1

    async with running(relay(mdb, bus, poll_seconds=0.1, settle_seconds=0)):
        await eventually(lambda: outbox_drained(mdb), what="the row published again and marked sent")
    assert await msg_ids(bus, stream.name) == [str(event_id)]
    assert await stream_count(bus, stream.name) == 1


async def test_events_for_a_subject_without_a_stream_wait_in_the_outbox_until_one_exists(
    mdb: MessagingDb, bus: Bus
) -> None:
    tag = uuid.uuid4().hex[:12]
    stream = StreamSpec(name=f"T{tag}", subjects=(f"t{tag}.>",))  # not created yet
    t = mdb.tables.outbox

    async def tried_twice() -> bool:
        rows = await mdb.rows(t)
        return len(rows) == 3 and all(r.attempts >= 2 for r in rows)

    try:
        async with running(relay(mdb, bus, poll_seconds=0.1, settle_seconds=0.5)):
            ids = await commit_events(mdb, subject_in(stream), 3)  # handed over: refused at once
            await eventually(tried_twice, what="the relay trying every event again")
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
        async with running(relay(mdb, bus, poll_seconds=0.1)):
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


@pytest.mark.parametrize("handed_over", [True, False], ids=["handed-over", "polled"])
async def test_published_events_carry_cloudevent_headers_and_the_trace(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec, handed_over: bool
) -> None:
    setup_tracing("test")
    subject = subject_in(stream)
    message = member_registered()
    settle = 60 if handed_over else 0  # the poller leaves handed-over events alone
    relay_ = Relay(
        mdb.db, mdb.tables.outbox, bus, source="chainclub/test", poll_seconds=0.1, settle_seconds=settle
    )
    async with contextlib.AsyncExitStack() as stack:
        if handed_over:
            await stack.enter_async_context(running(relay_))
        with tracer("test").start_as_current_span("register member") as span:
            async with mdb.db.transaction() as session:
                traced = await add_event(
                    session, mdb.tables.outbox, subject, message, org_path="HQ/EAST/SH001"
                )
        (untraced,) = await commit_events(mdb, subject, 1)
        if not handed_over:
            await stack.enter_async_context(running(relay_))
        await eventually(lambda: outbox_drained(mdb), what="outbox drained")
    span_context = span.get_span_context()
    assert span_context.is_valid

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


async def test_two_relays_polling_one_outbox_leave_each_event_once_in_the_stream(
    mdb: MessagingDb, bus: Bus, stream: StreamSpec, infra
) -> None:  # type: ignore[no-untyped-def]
    subject = subject_in(stream)
    # written by a process without a relay: both pollers may take every row
    ids = [await insert_unhanded(mdb.db, subject) for _ in range(60)]
    other_bus = await connected_bus(infra.nats_url, "kit-test-relay-2")
    relays = [relay(mdb, b, batch=5, poll_seconds=0.05, settle_seconds=0) for b in (bus, other_bus)]
    try:
        async with running(*relays):
            await eventually(lambda: outbox_drained(mdb), timeout=20, what="outbox drained")
    finally:
        await other_bus.close()

    assert sorted(await msg_ids(bus, stream.name)) == sorted(str(i) for i in ids)
    assert await stream_count(bus, stream.name) == 60
