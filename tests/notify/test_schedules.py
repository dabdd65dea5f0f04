"""Daily schedules inside notify (birthday and join-anniversary greetings, guarded so two
replicas never double-send) and the expiry reminders loyalty announces, on real PostgreSQL,
NATS and members."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from chainclub.events.v1 import loyalty_pb2 as lev
from kit.dev import free_port
from services.members.models import members as members_table
from services.notify import schedules, sender
from services.notify.context import MembersClient
from services.notify.models import deliveries, schedule_runs
from tests.notify.conftest import chain_time, random_store

# 2021-07-14 in Shanghai: 08:30 (before the greetings hour at 09:00) and 09:30. Long past, so
# no member the session registers (joined on the real today) has an anniversary that day; the
# greetings are due at the job's ``now``, not at the real clock's.
BEFORE = datetime(2021, 7, 14, 0, 30, tzinfo=UTC)
RUN = datetime(2021, 7, 14, 1, 30, tzinfo=UTC)


async def _of(world, member_no: str, event: str) -> dict:  # type: ignore[no-untyped-def]
    async with world.ctx.db.transaction() as s:
        rows = (
            await s.execute(
                select(deliveries).where(deliveries.c.member_no == member_no, deliveries.c.event == event)
            )
        ).all()
    return {r.channel: r for r in rows}


def _sms_to(world, member_no: str) -> list[dict]:  # type: ignore[no-untyped-def]
    path = world.settings.run_dir / "outbox-messages" / "sms.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [m for m in map(json.loads, lines) if m["member_no"] == member_no]


async def test_birthday_and_anniversary_greetings_run_once_a_day_across_replicas(notify_world) -> None:
    w = notify_world
    store = random_store()
    fan = await w.register(store, sms=True, email=False, wechat=False, birthday="1990-07-14")
    quiet = await w.register(store, sms=False, email=False, wechat=False, birthday="1988-07-14")
    other_day = await w.register(store, sms=True, email=False, wechat=False, birthday="1990-07-15")
    veteran = await w.register(store, sms=True, email=False, wechat=False)
    async with w.members.runtime.db.transaction() as s:
        await s.execute(
            update(members_table)
            .where(members_table.c.member_no == veteran.member_no)
            .values(joined_on=date(2018, 7, 14))
        )

    assert await schedules.run_greetings(w.ctx, "birthday", BEFORE) is None  # not yet the hour
    # Two replicas at once: one runs the day, the other finds it taken.
    results = await asyncio.gather(*(schedules.run_greetings(w.ctx, "birthday", RUN) for _ in range(2)))
    assert sorted(results, key=str) == sorted([6, None], key=str), results
    assert await schedules.run_greetings(w.ctx, "birthday", RUN + timedelta(hours=3)) is None  # done today
    assert set(await _of(w, fan.member_no, "birthday")) == {"sms", "wechat", "email"}
    assert set(await _of(w, quiet.member_no, "birthday")) == {"sms", "wechat", "email"}
    assert await _of(w, other_day.member_no, "birthday") == {}
    async with w.ctx.db.transaction() as s:
        run = (
            await s.execute(
                select(schedule_runs).where(
                    schedule_runs.c.job == "birthday", schedule_runs.c.run_date == date(2021, 7, 14)
                )
            )
        ).one()
    assert run.deliveries == 6 and run.finished_at is not None

    assert await schedules.run_due(w.ctx, RUN) == {"birthday": None, "anniversary": 3, "daily_summary": None}
    anniversary = await _of(w, veteran.member_no, "anniversary")
    assert set(anniversary) == {"sms", "wechat", "email"} and anniversary["sms"].variables["years"] == "3"
    assert anniversary["sms"].org_path == store

    # Marketing: sent where consented, skipped where not.
    await sender.send_due(w.ctx, RUN)
    assert [m["event"] for m in _sms_to(w, fan.member_no)].count("birthday") == 1
    assert (await _of(w, quiet.member_no, "birthday"))["sms"].status == "skipped"
    assert [m["body"] for m in _sms_to(w, veteran.member_no) if m["event"] == "anniversary"] == [
        "通知会员您好，今天是您加入会员的第 3 周年，感谢您的陪伴！"
    ]


async def test_greetings_wait_for_members_and_retry_at_the_next_tick(notify_world) -> None:
    w = notify_world
    day = datetime(2031, 8, 1, 2, 0, tzinfo=UTC)
    saved = w.ctx.members
    w.ctx.members = MembersClient(f"127.0.0.1:{free_port()}", saved.keys)  # nobody listens there
    try:
        assert await schedules.run_due(w.ctx, day) == {
            "birthday": None,
            "anniversary": None,
            "daily_summary": None,
        }
    finally:
        await w.ctx.members.close()
        w.ctx.members = saved
    async with w.ctx.db.transaction() as s:  # nothing claimed the day: the next tick runs it
        assert (
            await s.execute(select(schedule_runs).where(schedule_runs.c.run_date == day.date()))
        ).all() == []
    assert (await schedules.run_due(w.ctx, day))["birthday"] is not None


async def test_expiry_reminders_are_transactional_but_wait_out_quiet_hours(notify_world) -> None:
    w = notify_world
    store = random_store()
    member = await w.register(store, sms=False, email=False, wechat=False)  # no marketing consent
    await w.publish(
        "loyalty.points.expiring",
        lev.PointsChanged(member_no=member.member_no, kind="expiring", points=300, balance=1200,
                          expires_on="2031-12-31", home_store_path=store),
        str(uuid.uuid4()),
    )  # fmt: skip
    coupon = lev.CouponChanged(member_no=member.member_no, code="C-" + uuid.uuid4().hex[:8], name="满100减10",
                               valid_until="2031-08-03", home_store_path=store)  # fmt: skip
    coupon_event = str(uuid.uuid4())
    for _ in range(2):  # redelivered: one reminder
        await w.publish("loyalty.coupon.expiring", coupon, coupon_event, msg_id=str(uuid.uuid4()))
    end = time.monotonic() + 30
    while True:
        points, coupons = (
            await _of(w, member.member_no, "points_expiring"),
            await _of(w, member.member_no, "coupon_expiring"),
        )
        if (len(points), len(coupons)) == (4, 4) or time.monotonic() > end:
            break
        await asyncio.sleep(0.1)
    assert set(points) == set(coupons) == {"sms", "wechat", "email", "announcement"}

    night = chain_time(22)  # 22:00 in Shanghai tomorrow (the reminders are due at the real now)
    await sender.send_due(w.ctx, night)
    assert {r.status for r in (await _of(w, member.member_no, "coupon_expiring")).values()} == {"pending"}
    await sender.send_due(w.ctx, chain_time(9, days=2))  # 09:00 the morning after
    sent = await _of(w, member.member_no, "coupon_expiring")
    assert sent["sms"].status == "sent" and sent["announcement"].status == "sent", sent
    assert [m["body"] for m in _sms_to(w, member.member_no) if m["event"] == "coupon_expiring"] == [
        f"通知会员您好，您的优惠券「满100减10」（{coupon.code}）将于 2031-08-03 过期，请及时使用。"
    ]
    assert (await _of(w, member.member_no, "points_expiring"))["sms"].status == "sent"
