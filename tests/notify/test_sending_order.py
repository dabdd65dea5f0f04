"""The sender sends what is due transactional notices first: a top-up notice goes out before
marketing messages that were due earlier (a bulk import's welcomes, a campaign)."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import select

from chainclub.events.v1 import wallet_pb2 as wev
from services.notify import sender
from services.notify.models import deliveries
from tests.notify.conftest import random_store
from tests.notify.test_notify import DAYTIME


async def _rows(w, member_no: str, event: str, want: int, deadline: float = 30.0) -> list:  # type: ignore[no-untyped-def]
    end = time.monotonic() + deadline
    rows: list = []
    while time.monotonic() < end:
        async with w.ctx.db.sessions() as s:
            rows = (
                await s.execute(
                    select(deliveries).where(deliveries.c.member_no == member_no, deliveries.c.event == event)
                )
            ).all()
        if len(rows) >= want:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"{want} {event} deliveries for {member_no} expected, saw {rows}")


async def test_a_top_up_notice_is_sent_before_earlier_marketing(notify_world) -> None:
    w = notify_world
    while sum((await sender.send_due(w.ctx, DAYTIME)).values()):  # nothing else is waiting
        pass
    store = random_store()
    member = await w.register(store, sms=True, email=True, wechat=True)
    welcomes = await _rows(w, member.member_no, "welcome", 3)
    assert {r.marketing for r in welcomes} == {True}
    topup = wev.TopUpCompleted(
        transaction_id=str(uuid.uuid4()), card_no="8800000000000000", member_no=member.member_no,
        amount=50_000, bonus=5_000, channel="cash", acting_store_path=store, home_store_path=store,
    )  # fmt: skip
    await w.publish("wallet.topup.completed", topup, str(uuid.uuid4()))
    notices = await _rows(w, member.member_no, "top_up", 1)
    assert min(n.created_at for n in notices) > max(r.created_at for r in welcomes)

    counts = await sender.send_due(w.ctx, DAYTIME, batch=len(notices))

    assert sum(counts.values()) == len(notices)
    after = {r.id: r.status for r in await _rows(w, member.member_no, "top_up", 1)}
    assert set(after.values()) <= {"sent", "skipped"} and "sent" in after.values(), after
    assert {r.status for r in await _rows(w, member.member_no, "welcome", 3)} == {"pending"}
