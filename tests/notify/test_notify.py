"""Notify against real PostgreSQL, NATS, members and an aiosmtpd server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import grpc
import pytest
from sqlalchemy import select

from chainclub.events.v1 import loyalty_pb2 as lev
from chainclub.events.v1 import wallet_pb2 as wev
from chainclub.members.v1 import members_pb2
from chainclub.notify.v1 import notify_pb2 as pb
from services.notify import sender
from services.notify.channels import HttpChannel, Message, ProviderBusy, retry_after_seconds
from services.notify.consumers import loyalty_routes, members_routes, wallet_routes
from services.notify.models import deliveries
from tests.notify.conftest import chain_time, random_store
from tests.notify.provider_stub import ProviderStub

DAYTIME = chain_time(11)  # 11:00 in Shanghai tomorrow
NIGHT = chain_time(22)  # 22:00 in Shanghai tomorrow
MORNING_AFTER = chain_time(9, days=2)  # 09:00 the morning after NIGHT: the quiet hours end


async def _deliveries(world, member_no: str, deadline: float = 20.0) -> list:  # type: ignore[no-untyped-def]
    end = time.monotonic() + deadline
    while True:
        async with world.ctx.db.transaction() as s:
            rows = (await s.execute(select(deliveries).where(deliveries.c.member_no == member_no))).all()
        if rows or time.monotonic() > end:
            return rows
        await asyncio.sleep(0.1)


async def test_registration_gives_one_welcome_per_consenting_channel_even_when_redelivered(
    notify_world,
) -> None:
    w = notify_world
    store = random_store()
    member = await w.register(store, sms=True, email=True, wechat=False)
    rows = await _deliveries(w, member.member_no)
    assert {r.channel for r in rows} == {"sms", "wechat", "email"}, rows
    # The same event handled again (a redelivery past the inbox) adds nothing.
    handler = members_routes(w.notify.context)["members.member.registered"].handler
    from chainclub.events.v1 import members_pb2 as mev

    async with w.ctx.db.transaction() as s:
        event = SimpleNamespace(id=rows[0].event_id)
        await handler(s, event, mev.MemberRegistered(member_no=member.member_no, home_store_path=store))
    assert len(await _deliveries(w, member.member_no)) == 3

    before = len(w.mailbox.messages)
    await sender.send_due(w.ctx, DAYTIME)
    rows = {r.channel: r for r in await _deliveries(w, member.member_no)}
    assert rows["sms"].status == "sent" and rows["email"].status == "sent", rows
    assert rows["wechat"].status == "skipped"
    mails = w.mailbox.messages[before:]
    assert [m.rcpt_tos for m in mails if member.email in m.rcpt_tos] == [[member.email]]
    lines = (w.settings.run_dir / "outbox-messages" / "sms.jsonl").read_text().splitlines()
    mine = [json.loads(x) for x in lines if json.loads(x)["member_no"] == member.member_no]
    assert len(mine) == 1 and "欢迎" in mine[0]["body"]
    await sender.send_due(w.ctx, DAYTIME)  # nothing is sent twice
    assert len(w.mailbox.messages[before:]) == len(mails)


async def test_marketing_in_quiet_hours_is_deferred_then_sent(notify_world) -> None:
    w = notify_world
    member = await w.register(random_store(), sms=True, email=False, wechat=False)
    await _deliveries(w, member.member_no)
    await sender.send_due(w.ctx, NIGHT)
    sms = {r.channel: r for r in await _deliveries(w, member.member_no)}["sms"]
    assert sms.status == "pending" and sms.attempts == 0
    assert sms.next_attempt_at == MORNING_AFTER  # 09:00 next morning
    await sender.send_due(w.ctx, MORNING_AFTER + timedelta(seconds=1))
    sms = {r.channel: r for r in await _deliveries(w, member.member_no)}["sms"]
    assert sms.status == "sent"


async def test_template_with_unknown_variable_is_rejected(notify_world) -> None:
    w = notify_world
    md = w.md(w.token("hq_admin", "HQ"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.api.PutTemplate(
            pb.PutTemplateRequest(event="payment", channel="sms", body="{{ balance_secret }}"), metadata=md
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "balance_secret" in err.value.details()
    preview = await w.api.PreviewTemplate(
        pb.PreviewTemplateRequest(event="payment", channel="sms", body="{{ amount_yuan }} 元"), metadata=md
    )
    assert preview.body == "128.00 元"


async def test_first_purchase_creates_333_follow_ups_and_completing_one_writes_a_visit(notify_world) -> None:
    w = notify_world
    store = random_store()
    member = await w.register(store, sms=False, email=False, wechat=False)
    handler = loyalty_routes(w.notify.context)["loyalty.purchase.recorded"].handler
    msg = lev.PurchaseRecorded(
        checkout_id=uuid.uuid4().hex,
        member_no=member.member_no,
        store_path=store,
        first_purchase_at_store=True,
    )
    msg.at.FromDatetime(datetime(2026, 11, 30, 8, 30, tzinfo=UTC))  # 16:30 in Shanghai
    for _ in range(2):  # redelivered: still three
        async with w.ctx.db.transaction() as s:
            await handler(s, SimpleNamespace(id=uuid.uuid4()), msg)
    clerk = w.token("clerk", store)
    listed = await w.api.ListFollowUps(pb.ListFollowUpsRequest(), metadata=w.md(clerk))
    got = [(f.stage, f.due_on, f.window_start, f.window_end) for f in listed.follow_ups]
    assert got == [
        ("3d", "2026-12-03", "16:00", "17:00"),
        ("3w", "2026-12-21", "16:00", "17:00"),
        ("3m", "2027-02-28", "16:00", "17:00"),
    ]
    first = listed.follow_ups[0]
    other = w.token("clerk", random_store())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.api.CompleteFollowUp(
            pb.CompleteFollowUpRequest(id=first.id, outcome="x"), metadata=w.md(other)
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    done = await w.api.CompleteFollowUp(
        pb.CompleteFollowUpRequest(id=first.id, outcome="满意", notes="回访"), metadata=w.md(clerk)
    )
    assert done.status == "done" and done.visit_id
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await w.api.CompleteFollowUp(
            pb.CompleteFollowUpRequest(id=first.id, outcome="again"), metadata=w.md(clerk)
        )
    assert err.value.code() == grpc.StatusCode.ABORTED
    visits = await w.members_api.ListVisits(
        members_pb2.ListVisitsRequest(member_no=member.member_no), metadata=w.md(clerk)
    )
    assert [v.outcome for v in visits.visits] == ["满意"]


@pytest.fixture
async def provider(notify_world):  # type: ignore[no-untyped-def]
    """SMS through a real local HTTP provider stub for one test."""
    stub = ProviderStub()
    url = await stub.start()
    # Whatever other tests left due goes out through the old channels first, so the stub sees
    # only this test's messages.
    while sum((await sender.send_due(notify_world.ctx, DAYTIME)).values()):
        pass
    channels = notify_world.ctx.channels
    saved = channels["sms"]
    channels["sms"] = HttpChannel(url, retries=1, backoff=0.01, timeout=2)
    try:
        yield stub
    finally:
        channels["sms"] = saved
        await stub.stop()


async def _sms(world, member_no: str):  # type: ignore[no-untyped-def]
    return {r.channel: r for r in await _deliveries(world, member_no)}["sms"]


async def test_provider_outage_retries_with_backoff_then_succeeds(notify_world, provider) -> None:
    w = notify_world
    member = await w.register(random_store(), sms=True, email=False, wechat=False)
    await _deliveries(w, member.member_no)
    provider.failures = 3  # the first attempt (two requests) fails, the second gets through
    await sender.send_due(w.ctx, DAYTIME)
    sms = await _sms(w, member.member_no)
    assert (sms.status, sms.attempts) == ("pending", 1) and "503" in sms.last_error
    assert sms.next_attempt_at == DAYTIME + timedelta(seconds=60)
    await sender.send_due(w.ctx, DAYTIME + timedelta(seconds=30))  # not due yet
    assert (await _sms(w, member.member_no)).attempts == 1
    await sender.send_due(w.ctx, DAYTIME + timedelta(seconds=60))
    sms = await _sms(w, member.member_no)
    assert (sms.status, sms.attempts) == ("sent", 2)
    assert [m["to"] for m in provider.received] == [member.phone]


async def test_provider_down_ends_dead_and_visible(notify_world, provider) -> None:
    w = notify_world
    store = random_store()
    member = await w.register(store, sms=True, email=False, wechat=False)
    await _deliveries(w, member.member_no)
    provider.down = True
    now = DAYTIME
    for _ in range(w.settings.notify_max_attempts):
        await sender.send_due(w.ctx, now)
        now += timedelta(hours=1)
    sms = await _sms(w, member.member_no)
    assert (sms.status, sms.attempts) == ("dead", w.settings.notify_max_attempts)
    listed = await w.api.ListDeliveries(
        pb.ListDeliveriesRequest(member_no=member.member_no, status="dead"),
        metadata=w.md(w.token("clerk", store)),
    )
    assert [d.channel for d in listed.deliveries] == ["sms"] and "503" in listed.deliveries[0].last_error
    assert provider.received == []


async def test_risk_alert_is_mailed_to_the_hq_contacts(notify_world) -> None:
    w = notify_world
    handler = wallet_routes(w.notify.context)["wallet.alert.raised"].handler
    alert_id = uuid.uuid4().hex
    msg = wev.AlertRaised(alert_id=alert_id, rule_name="单笔大额", kind="single_amount", action="alert",
                          card_no="8800000001", amount=600_000, acting_store_path="HQ/E/S1", detail=alert_id)  # fmt: skip
    async with w.ctx.db.transaction() as s:
        await handler(s, SimpleNamespace(id=uuid.uuid4()), msg)
    before = len(w.mailbox.messages)
    await sender.send_due(w.ctx, NIGHT)  # transactional: quiet hours do not apply
    parsed = [
        (m, email.message_from_bytes(m.content, policy=email.policy.default))
        for m in w.mailbox.messages[before:]
    ]
    mails = [(m, p) for m, p in parsed if alert_id in p.get_content()]
    assert [m.rcpt_tos for m, _ in mails] == [["hq-risk@example.com"]]
    assert "6000.00" in mails[0][1].get_content() and "单笔大额" in mails[0][1]["Subject"]


async def test_provider_429_defers_to_its_retry_after_without_using_an_attempt(
    notify_world, provider
) -> None:
    w = notify_world
    member = await w.register(random_store(), sms=True, email=False, wechat=False)
    await _deliveries(w, member.member_no)
    provider.throttled, provider.retry_after = 1, "120"
    await sender.send_due(w.ctx, DAYTIME)
    sms = await _sms(w, member.member_no)
    assert (sms.status, sms.attempts) == ("pending", 0) and "429" in sms.last_error
    # Retry-After is counted from the answer (real time); the delivery waits about that long.
    assert timedelta(seconds=119) <= sms.next_attempt_at - DAYTIME <= timedelta(seconds=121)
    assert provider.requests == 1  # one 429, no retries hammering the provider
    w.ctx.channels["sms"]._busy_until = 0.0  # type: ignore[attr-defined]  # as if the 120 s had passed
    await sender.send_due(w.ctx, DAYTIME + timedelta(seconds=121))
    sms = await _sms(w, member.member_no)
    assert (sms.status, sms.attempts) == ("sent", 1)
    assert [m["to"] for m in provider.received] == [member.phone]


async def test_http_channel_respects_the_provider_rate(notify_world) -> None:
    stub = ProviderStub()
    url = await stub.start()
    try:
        channel = HttpChannel(url, rate=5, burst=1, timeout=2)
        started = time.monotonic()
        for n in range(4):
            await channel.send(Message(delivery_id=str(uuid.uuid4()), event="payment", channel="sms",
                                       to=f"+86139000000{n:02d}", subject="", body="x"))  # fmt: skip
        gaps = [b - a for a, b in zip(stub.accepted_at, stub.accepted_at[1:], strict=False)]
        assert len(stub.accepted_at) == 4 and min(gaps) >= 0.15, gaps  # 5/s: one every 0.2 s
        assert time.monotonic() - started >= 0.55

        # While the provider's Retry-After runs, the channel refuses at once without calling.
        stub.throttled, stub.retry_after = 1, "30"
        message = Message(delivery_id=str(uuid.uuid4()), event="payment", channel="sms", to="+8613900000099",
                          subject="", body="x")  # fmt: skip
        with pytest.raises(ProviderBusy) as busy:
            await channel.send(message)
        assert 29 <= busy.value.retry_after <= 30
        requests = stub.requests
        with pytest.raises(ProviderBusy):
            await channel.send(message)
        assert stub.requests == requests
    finally:
        await stub.stop()


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now, 60) == 120
    assert retry_after_seconds("Mon, 23 Nov 2026 03:05:00 GMT", now, 60) == 300
    assert retry_after_seconds("soon", now, 60) == retry_after_seconds(None, now, 60) == 60
