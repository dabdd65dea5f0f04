"""One consumption notice per checkout x channel, from wallet.payment.captured and
loyalty.purchase.recorded published on the world's real NATS in any order, each delivered
twice; a wallet payment without a checkout keeps a notice of its own."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import time
import uuid

from sqlalchemy import select

from chainclub.events.v1 import loyalty_pb2 as lev
from chainclub.events.v1 import wallet_pb2 as wev
from services.notify import sender
from services.notify.models import deliveries
from tests.notify.conftest import random_store
from tests.notify.test_notify import DAYTIME


async def _payments(world, member_no: str, want: int, deadline: float = 30.0) -> list:  # type: ignore[no-untyped-def]
    """The member's consumption deliveries once ``want`` exist and the consumers had a moment
    to add more (which they must not)."""
    end = time.monotonic() + deadline
    settled_at = None
    while True:
        async with world.ctx.db.transaction() as s:
            rows = (
                await s.execute(
                    select(deliveries).where(
                        deliveries.c.member_no == member_no, deliveries.c.event == "payment"
                    )
                )
            ).all()
        if len(rows) >= want:
            settled_at = settled_at or time.monotonic()
            if time.monotonic() - settled_at > 1.0:
                return rows
        if time.monotonic() > end:
            return rows
        await asyncio.sleep(0.1)


def _notices(mails: list, address: str) -> list:  # type: ignore[type-arg]
    """Consumption notices (not the welcome) mailed to ``address``."""
    parsed = [
        email.message_from_bytes(m.content, policy=email.policy.default)
        for m in mails
        if address in m.rcpt_tos
    ]
    return [p for p in parsed if p["Subject"] == "消费通知"]


def _purchase(member, store: str, checkout_id: str, total: int) -> lev.PurchaseRecorded:  # type: ignore[no-untyped-def]
    return lev.PurchaseRecorded(
        checkout_id=checkout_id, member_no=member.member_no, card_no=member.cards[0].card_no if member.cards else "",
        store_path=store, home_store_path=member.home_store_path, subtotal=total, total_due=total,
    )  # fmt: skip


def _payment(member, store: str, checkout_id: str, amount: int) -> wev.PaymentCaptured:  # type: ignore[no-untyped-def]
    return wev.PaymentCaptured(
        transaction_id=uuid.uuid4().hex, request_id=checkout_id, member_no=member.member_no, amount=amount,
        acting_store_path=store, home_store_path=member.home_store_path, reference=checkout_id,
    )  # fmt: skip


async def test_checkout_gives_one_consumption_notice_per_channel_in_any_order_redelivered(
    notify_world,
) -> None:
    w = notify_world
    home, away = random_store(), random_store()
    member = await w.register(home, sms=False, email=True, wechat=False)

    # Checkout 1: the purchase first, then the card payment; every event delivered twice.
    first = str(uuid.uuid4())
    purchase_id, payment_id = str(uuid.uuid4()), str(uuid.uuid4())
    for _ in range(2):
        await w.publish("loyalty.purchase.recorded", _purchase(member, away, first, 12_800), purchase_id,
                        msg_id=str(uuid.uuid4()))  # fmt: skip
        await w.publish("wallet.payment.captured", _payment(member, away, first, 10_000), payment_id,
                        msg_id=str(uuid.uuid4()))  # fmt: skip
    rows = await _payments(w, member.member_no, 3)
    assert sorted(r.channel for r in rows) == ["email", "sms", "wechat"], rows
    assert {r.variables["amount_yuan"] for r in rows} == {"128.00"}  # the whole checkout, not the card part
    assert {r.org_path for r in rows} == {home}  # scoped by the member's home store

    # Checkout 2, the other way round: payment first, then the purchase refreshes the notice.
    second = str(uuid.uuid4())
    payment_id, purchase_id = str(uuid.uuid4()), str(uuid.uuid4())
    for _ in range(2):
        await w.publish("wallet.payment.captured", _payment(member, away, second, 3_000), payment_id,
                        msg_id=str(uuid.uuid4()))  # fmt: skip
    await _payments(w, member.member_no, 6)
    for _ in range(2):
        await w.publish("loyalty.purchase.recorded", _purchase(member, away, second, 5_000), purchase_id,
                        msg_id=str(uuid.uuid4()))  # fmt: skip
    # A wallet payment outside any checkout: a notice of its own.
    loose = _payment(member, away, "", 700)
    loose.request_id = uuid.uuid4().hex
    await w.publish("wallet.payment.captured", loose, str(uuid.uuid4()))
    rows = await _payments(w, member.member_no, 9)
    assert len(rows) == 9, rows
    by_amount = sorted(r.variables["amount_yuan"] for r in rows if r.channel == "sms")
    end = time.monotonic() + 10
    while by_amount != ["128.00", "50.00", "7.00"] and time.monotonic() < end:  # the refresh may lag
        await asyncio.sleep(0.1)
        rows = await _payments(w, member.member_no, 9, deadline=0)
        by_amount = sorted(r.variables["amount_yuan"] for r in rows if r.channel == "sms")
    assert by_amount == ["128.00", "50.00", "7.00"], by_amount

    # Sent once each: transactional, so no marketing consent is needed for SMS.
    before = len(w.mailbox.messages)
    await sender.send_due(w.ctx, DAYTIME)
    assert len(_notices(w.mailbox.messages[before:], member.email)) == 3
    lines = (w.settings.run_dir / "outbox-messages" / "sms.jsonl").read_text().splitlines()
    sms = [json.loads(x) for x in lines if json.loads(x)["member_no"] == member.member_no]
    assert sorted(m["event"] for m in sms) == ["payment"] * 3
    await asyncio.sleep(0.5)  # late redeliveries would show up now
    await sender.send_due(w.ctx, DAYTIME)
    assert len(_notices(w.mailbox.messages[before:], member.email)) == 3
    assert len(await _payments(w, member.member_no, 9, deadline=0)) == 9
