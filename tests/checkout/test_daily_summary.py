"""The daily business summary (营业汇报): each service's DailySummary RPC after real
registrations, top-ups, checkouts and refunds; the local-day boundary in the chain's
timezone; scope; bad input. (The gateway's report over them: test_daily_summary_route.py.)"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest
from sqlalchemy import text

from chainclub.common.v1 import common_pb2
from chainclub.loyalty.v1 import loyalty_pb2_grpc
from chainclub.members.v1 import members_pb2_grpc
from chainclub.wallet.v1 import wallet_pb2_grpc
from kit.db import Database
from tests.checkout.conftest import CheckoutWorld

pytestmark = pytest.mark.integration


@dataclass
class Day:
    """A fresh region with two stores, their clerks and managers."""

    region: str
    s1: str
    s2: str
    clerk1: str
    clerk2: str
    manager: str  # region manager
    sm2: str  # store manager of s2

    @property
    def path(self) -> str:
        return f"HQ/{self.region}"

    @property
    def p1(self) -> str:
        return f"{self.path}/{self.s1}"

    @property
    def p2(self) -> str:
        return f"{self.path}/{self.s2}"


async def a_day(w: CheckoutWorld) -> Day:
    region = await w.unit("region", "HQ")
    s1, s2 = await w.unit("store", region), await w.unit("store", region)
    return Day(
        region, s1, s2, await w.staff("clerk", s1), await w.staff("clerk", s2),
        await w.staff("region_manager", region), await w.staff("store_manager", s2),
    )  # fmt: skip


def local_today(w: CheckoutWorld) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(w.settings.chain_timezone)).date()


async def summary(w: CheckoutWorld, service: str, token: str, day: str = "", org_path: str = "") -> dict:
    """``{store_path: {figure: value}}`` as ``service`` answers DailySummary for ``token``."""
    stub_type = {
        "members": members_pb2_grpc.MembersServiceStub,
        "wallet": wallet_pb2_grpc.WalletServiceStub,
        "loyalty": loyalty_pb2_grpc.LoyaltyServiceStub,
    }[service]
    async with grpc.aio.insecure_channel(getattr(w.settings, f"{service}_addr")) as channel:
        reply = await stub_type(channel).DailySummary(
            common_pb2.DailySummaryRequest(date=day, org_path=org_path),
            metadata=[("authorization", f"Bearer {token}")],
            timeout=10,
        )
    assert reply.date == (day or local_today(w).isoformat())
    return {s.store_path: dict(s.figures) for s in reply.stores}


async def top_up(w: CheckoutWorld, clerk: str, card_no: str, amount: int) -> dict:
    r = await w.call("POST", f"/api/v1/cards/{card_no}/top-ups", clerk, json={"amount": amount, "channel": "cash"},
                     headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


async def pay(w: CheckoutWorld, clerk: str, body: dict, method: str = "cash") -> dict:
    q = await w.quote(body, clerk)
    r = await w.checkout({**body, "payments": [{"method": method, "amount": q["total_due"]}]}, token=clerk)
    assert r.status_code == 201, r.text
    return r.json()


def discount(receipt: dict) -> int:
    return sum(d["amount"] for d in receipt["discounts"] if d["kind"] != "points")


async def test_each_service_reports_its_figures_of_the_day_per_store(checkout_world: CheckoutWorld) -> None:
    w = checkout_world
    d = await a_day(w)
    r = await w.call("POST", "/api/v1/wallet/bonus-rules", w.admin,
                     json={"name": "day bonus", "min_amount": 10_000, "bonus_amount": 1_000, "scope": d.s1})  # fmt: skip
    assert r.status_code == 201, r.text
    m1, m2, m3 = await w.register(d.clerk1), await w.register(d.clerk1), await w.register(d.clerk2)
    card1, card2, card3 = (m["card"]["card_no"] for m in (m1, m2, m3))
    await top_up(w, d.clerk1, card1, 20_000)  # + 1 000 bonus at s1
    await top_up(w, d.clerk1, card2, 5_000)
    await top_up(w, d.clerk1, card3, 3_000)  # m3's card (home s2), topped up at s1: counts at s1

    sku = await w.product(3_000)
    coupon = await w.coupon({"member_no": m1["member_no"]}, 500)
    paid = await pay(w, d.clerk1, {"card_no": card1, "lines": [{"sku": sku, "qty": 1}], "coupon_code": coupon},
                     method="stored_value")  # fmt: skip
    earned = await pay(w, d.clerk1, {"card_no": card2, "lines": [{"sku": await w.product(10_000), "qty": 1}]})
    used = await pay(w, d.clerk1, {"card_no": card2, "lines": [{"sku": sku, "qty": 1}], "points_to_use": 50})
    anonymous = await pay(w, d.clerk2, {"lines": [{"sku": sku, "qty": 2}]})
    assert discount(paid) == 500 and used["points_used"] == 50 and earned["points_earned"] > 0
    refund = await w.call("POST", f"/api/v1/checkouts/{paid['checkout_id']}/refund", d.clerk1,
                          headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert refund.status_code == 201, refund.text
    assert refund.json()["stored_value_refunded"] == paid["total_due"]

    assert await summary(w, "members", d.manager) == {d.p1: {"new_members": 2}, d.p2: {"new_members": 1}}
    assert await summary(w, "wallet", d.manager) == {
        d.p1: {
            "top_up_count": 3, "top_up_amount": 28_000, "top_up_bonus": 1_000,
            "payment_count": 1, "payment_amount": paid["total_due"], "refund_amount": paid["total_due"],
        }
    }  # fmt: skip
    at_s1 = (paid, earned, used)
    assert await summary(w, "loyalty", d.manager) == {
        d.p1: {
            "sales_count": 3, "sales_amount": sum(x["total_due"] for x in at_s1),
            "discount_amount": sum(discount(x) for x in at_s1), "refund_count": 1, "refund_amount": paid["total_due"],
            "points_earned": sum(x["points_earned"] for x in at_s1), "points_redeemed": 50,
        },
        d.p2: {
            "sales_count": 1, "sales_amount": anonymous["total_due"], "discount_amount": discount(anonymous),
            "refund_count": 0, "refund_amount": 0, "points_earned": 0, "points_redeemed": 0,
        },
    }  # fmt: skip

    # Scope: the store manager of s2 sees s2 only; a subtree inside the scope narrows it.
    assert await summary(w, "members", d.sm2) == {d.p2: {"new_members": 1}}
    assert list(await summary(w, "loyalty", d.sm2)) == [d.p2]
    assert await summary(w, "wallet", d.sm2) == {}  # nothing moved at s2's counter
    assert list(await summary(w, "loyalty", d.manager, org_path=d.p2)) == [d.p2]
    # HQ (and a service caller) see these stores among the whole chain's.
    chain = await summary(w, "members", w.service_token())
    assert chain[d.p1] == {"new_members": 2} and chain[d.p2] == {"new_members": 1}
    assert (await summary(w, "wallet", w.admin, org_path=d.path)).keys() == {d.p1}
    # Another day has none of it.
    yesterday = (local_today(w) - timedelta(days=1)).isoformat()
    assert await summary(w, "loyalty", d.manager, day=yesterday) == {}


@pytest.mark.parametrize("service", ["members", "wallet", "loyalty"])
async def test_daily_summary_refuses_bad_input_other_roles_and_foreign_subtrees(
    checkout_world: CheckoutWorld, service: str
) -> None:
    w = checkout_world
    d = await a_day(w)

    async def code(token: str, day: str = "", org_path: str = "") -> grpc.StatusCode:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await summary(w, service, token, day, org_path)
        return err.value.code()

    for bad in ("2026-02-30", "2026-1-05", "yesterday", "1999-12-31", "20261105"):
        assert await code(d.manager, day=bad) == grpc.StatusCode.INVALID_ARGUMENT, bad
    for bad in ("HQ//X", "HQ/ X", "/HQ", "HQ/" + "A" * 70):
        assert await code(d.manager, org_path=bad) == grpc.StatusCode.INVALID_ARGUMENT, bad
    # another region's store, or HQ above the manager's own scope: no such unit for them
    elsewhere = await w.unit("store", await w.unit("region", "HQ"))
    assert await code(d.manager, org_path=f"HQ/X/{elsewhere}") == grpc.StatusCode.NOT_FOUND
    assert await code(d.manager, org_path="HQ") == grpc.StatusCode.NOT_FOUND
    assert await code(d.sm2, org_path=d.p1) == grpc.StatusCode.NOT_FOUND
    # counter roles read no reports
    assert await code(d.clerk1) == grpc.StatusCode.PERMISSION_DENIED
    assert await code(await w.terminal(d.s1)) == grpc.StatusCode.PERMISSION_DENIED


async def test_the_day_is_the_chain_local_day(checkout_world: CheckoutWorld) -> None:
    """Rows stamped 23:59:59 local on one day and 00:00:00 local the next fall on two days,
    though both lie on one UTC day (Asia/Shanghai is UTC+8)."""
    w = checkout_world
    assert w.settings.chain_timezone == "Asia/Shanghai"
    d = await a_day(w)
    late, early = await w.register(d.clerk1), await w.register(d.clerk1)
    late_top_up = await top_up(w, d.clerk1, late["card"]["card_no"], 1_000)
    early_top_up = await top_up(w, d.clerk1, early["card"]["card_no"], 2_000)
    sku = await w.product(700)
    late_sale = await pay(w, d.clerk1, {"lines": [{"sku": sku, "qty": 1}]})
    early_sale = await pay(w, d.clerk1, {"lines": [{"sku": sku, "qty": 3}]})

    day = date(2024, 3, 9) + timedelta(days=uuid.uuid4().int % 300)
    zone = ZoneInfo("Asia/Shanghai")
    before = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=zone)
    after = before + timedelta(seconds=1)
    assert before.astimezone(UTC).date() == after.astimezone(UTC).date()
    stamps = [
        ("members", "UPDATE members SET created_at = :at WHERE member_no = :id", late["member_no"], before),
        ("members", "UPDATE members SET created_at = :at WHERE member_no = :id", early["member_no"], after),
        ("wallet", "UPDATE transactions SET created_at = :at WHERE id = CAST(:id AS uuid)",
         late_top_up["transaction_id"], before),
        ("wallet", "UPDATE transactions SET created_at = :at WHERE id = CAST(:id AS uuid)",
         early_top_up["transaction_id"], after),
        ("loyalty", "UPDATE purchases SET created_at = :at WHERE checkout_id = :id", late_sale["checkout_id"], before),
        ("loyalty", "UPDATE purchases SET created_at = :at WHERE checkout_id = :id", early_sale["checkout_id"], after),
    ]  # fmt: skip
    for service, sql, key, at in stamps:
        db = Database(w.settings.database_url_for(service))
        try:
            async with db.transaction() as session:
                assert (await session.execute(text(sql), {"at": at, "id": key})).rowcount == 1, (service, key)
        finally:
            await db.dispose()

    first, second = day.isoformat(), (day + timedelta(days=1)).isoformat()
    assert await summary(w, "members", d.manager, day=first) == {d.p1: {"new_members": 1}}
    assert await summary(w, "members", d.manager, day=second) == {d.p1: {"new_members": 1}}
    assert (await summary(w, "wallet", d.manager, day=first))[d.p1]["top_up_amount"] == 1_000
    assert (await summary(w, "wallet", d.manager, day=second))[d.p1]["top_up_amount"] == 2_000
    assert (await summary(w, "loyalty", d.manager, day=first))[d.p1]["sales_amount"] == late_sale["total_due"]
    assert (await summary(w, "loyalty", d.manager, day=second))[d.p1]["sales_amount"] == early_sale[
        "total_due"
    ]
    assert await summary(w, "members", d.manager) == {}  # and none of it is today's any more
