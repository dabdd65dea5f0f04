"""Notify beside the real trading services (members, wallet, loyalty and the gateway's
checkout saga): a real checkout's consumption notice, and the daily business summary
(营业汇报) that asks members, wallet and loyalty for yesterday's figures and mails each
configured manager contact its subtree's stores and regions, once, whichever replica runs it."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kit.runtime import Service
from services.loyalty.main import spec as loyalty_spec
from services.notify import report, schedules, sender
from services.notify.context import NotifyContext
from services.notify.models import deliveries
from services.wallet.main import spec as wallet_spec


@pytest.fixture(scope="module")
async def trading(notify_gateway) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """Wallet and loyalty beside the notify world's members, so checkouts run for real."""
    settings = notify_gateway.world.settings
    wallet, loyalty = Service(wallet_spec(), settings), Service(loyalty_spec(), settings)
    await wallet.start(settings.wallet_addr)
    await loyalty.start(settings.loyalty_addr)
    try:
        yield
    finally:
        await loyalty.stop()
        await wallet.stop()


async def _unit(gw, kind: str, parent: str) -> str:  # type: ignore[no-untyped-def]
    code = f"{kind[0].upper()}{uuid.uuid4().hex[:10].upper()}"
    r = await gw.call("POST", "/api/v1/org-units", gw.world.token("hq_admin", "HQ"),
                      json={"code": code, "name": code, "kind": kind, "parent": parent})  # fmt: skip
    assert r.status_code == 201, r.text
    return code


async def _consumption(world, member_no: str, want: int) -> list:  # type: ignore[no-untyped-def]
    """The member's consumption notices once ``want`` exist and a second passed without more."""
    end, settled = monotonic() + 30, None
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
            settled = settled or monotonic()
        if (settled and monotonic() - settled > 1.0) or monotonic() > end:
            return rows
        await asyncio.sleep(0.1)


def _mails_to(world, address: str, since: int) -> list:  # type: ignore[no-untyped-def]
    return [
        email.message_from_bytes(m.content, policy=email.policy.default)
        for m in world.mailbox.messages[since:]
        if address in m.rcpt_tos
    ]


async def test_daily_summary_mails_each_manager_its_stores_and_regions_once(notify_gateway, trading) -> None:
    gw, w = notify_gateway, notify_gateway.world
    admin = w.token("hq_admin", "HQ")
    region = await _unit(gw, "region", "HQ")
    s1, s2 = await _unit(gw, "store", region), await _unit(gw, "store", region)
    p1, p2 = f"HQ/{region}/{s1}", f"HQ/{region}/{s2}"
    member = await w.register(p1, sms=False, email=False, wechat=False)
    card = member.cards[0].card_no
    r = await gw.call("POST", f"/api/v1/cards/{card}/top-ups", w.token("clerk", p1),
                      json={"amount": 50_000, "channel": "cash"}, headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    sku = f"SKU-{uuid.uuid4().hex[:10]}"
    r = await gw.call("POST", "/api/v1/products", admin,
                      json={"sku": sku, "name": sku, "category": "food", "retail_price": 12_800})  # fmt: skip
    assert r.status_code == 201, r.text
    clerk2 = w.token("clerk", p2)
    body = {"card_no": card, "lines": [{"sku": sku, "qty": 1}]}
    q = await gw.call("POST", "/api/v1/checkouts/quote", clerk2, json=body)
    assert q.status_code == 200, q.text
    paid = await gw.call("POST", "/api/v1/checkouts", clerk2, headers={"Idempotency-Key": uuid.uuid4().hex},
                         json={**body, "payments": [{"method": "stored_value", "amount": q.json()["total_due"]}]})  # fmt: skip
    assert paid.status_code == 201, paid.text
    total = paid.json()["total_due"]

    # The checkout's own events (wallet.payment.captured, loyalty.purchase.recorded) gave one
    # consumption notice per channel, for the whole amount.
    notices = await _consumption(w, member.member_no, 3)
    assert sorted(n.channel for n in notices) == ["email", "sms", "wechat"], notices
    assert {n.variables["amount_yuan"] for n in notices} == {f"{total // 100}.{total % 100:02d}"}
    assert {n.variables["store"] for n in notices} == {p2} and {n.org_path for n in notices} == {p1}

    tz = ZoneInfo(w.settings.chain_timezone)
    today = datetime.now(UTC).astimezone(tz).date()
    run_at = datetime.combine(today + timedelta(days=1), time(8, 30), tz)  # the next morning
    region_mail, store_mail = f"r-{region.lower()}@example.com", f"s-{s2.lower()}@example.com"
    ctx = dataclasses.replace(
        w.ctx,
        settings=w.settings.model_copy(update={
            "notify_summary_contacts": {f"HQ/{region}": [region_mail], p2: [store_mail]},
            "notify_summary_hour": 8,
        }),
    )  # fmt: skip
    assert isinstance(ctx, NotifyContext)
    assert await schedules.run_daily_summary(ctx, run_at - timedelta(hours=1)) is None  # 07:30: not yet
    results = await asyncio.gather(
        *(schedules.run_daily_summary(ctx, run_at) for _ in range(2))
    )  # two replicas
    assert sorted(results, key=str) == sorted([2, None], key=str), results
    assert await schedules.run_daily_summary(ctx, run_at + timedelta(hours=2)) is None

    before = len(w.mailbox.messages)
    await sender.send_due(ctx, run_at)  # transactional staff mail: quiet hours do not apply
    (region_report,) = _mails_to(w, region_mail, before)
    assert region_report["Subject"] == f"营业汇报 {today.isoformat()} HQ/{region}"
    text = region_report.get_content()
    assert f"{p1} | 0 | 0.00 | 0.00 | 1 | 500.00 | 0.00 | 1 | 0 | 0" in text, text
    assert (
        f"{p2} | 1 | {total // 100}.{total % 100:02d} | 0.00 | 0 | 0.00 | {total // 100}.{total % 100:02d} | 0 |"
        in text
    )
    assert f"HQ/{region} | 1 | " in text and "新会员 1 人" in text and "充值 1 笔 500.00 元" in text
    (store_report,) = _mails_to(w, store_mail, before)
    assert p2 in store_report.get_content() and p1 not in store_report.get_content()
    await sender.send_due(ctx, run_at + timedelta(hours=1))
    assert len(_mails_to(w, region_mail, before)) == 1


def test_report_keeps_a_subtree_and_adds_up_regions() -> None:
    stores = report.merge({
        "members": [("HQ/E/S1", {"new_members": 2})],
        "wallet": [("HQ/E/S1", {"top_up_count": 1, "top_up_amount": 50_000, "refund_amount": 7})],
        "loyalty": [("HQ/E/S2", {"sales_count": 3, "sales_amount": 12_345, "refund_amount": 100}),
                    ("HQ/W/S3", {"sales_count": 1, "sales_amount": 1})],
    })  # fmt: skip
    v = report.variables_for("HQ/E", "2026-11-22", stores)
    assert (v["sales_count"], v["sales_yuan"], v["refund_yuan"], v["top_up_yuan"], v["new_members"]) == (
        "3",
        "123.45",
        "1.00",
        "500.00",
        "2",
    )  # wallet's refund_amount is not loyalty's
    assert v["regions"] == "HQ/E | 3 | 123.45 | 1.00 | 1 | 500.00 | 0.00 | 2 | 0 | 0"
    assert v["stores"].splitlines() == [
        "HQ/E/S1 | 0 | 0.00 | 0.00 | 1 | 500.00 | 0.00 | 2 | 0 | 0",
        "HQ/E/S2 | 3 | 123.45 | 1.00 | 0 | 0.00 | 0.00 | 0 | 0 | 0",
    ]
    assert report.variables_for("HQ/N", "2026-11-22", stores)["stores"] == "-"
    assert set(v) == set(report.VARIABLES)
