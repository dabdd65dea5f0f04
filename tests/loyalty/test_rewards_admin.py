"""Keeping the rewards catalog (edit, restock, deactivate, delete only while never redeemed),
the referral rule applied on registration (once per new member, nothing while inactive) and
the tier's birthday points (once per member and year), on a loyalty database of its own: the
referral rule and the tiers are the chain's, and would disturb the other tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
import pytest
from sqlalchemy import func, select, update

from chainclub.events.v1 import members_pb2 as mev
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.errors import from_rpc_error
from kit.testing import Infra, eventually
from services.loyalty import jobs
from services.loyalty import points as points_uc
from services.loyalty.models import coupons, points_accounts, points_entries
from tests.loyalty.conftest import STORE, LoyaltyWorld, random_member_no, serving_loyalty
from tests.loyalty.test_checkout import publish

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def world(infra: Infra) -> AsyncIterator[LoyaltyWorld]:
    async with serving_loyalty(infra, "lrw") as w:
        yield w


def reason(exc: grpc.aio.AioRpcError) -> str:
    return from_rpc_error(exc).reason


async def refused(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await call
    return reason(exc.value)


async def new_reward(w: LoyaltyWorld, stock: int, cost: int = 100) -> pb.Reward:
    return await w.stub.CreateReward(
        pb.Reward(name=f"gift {uuid.uuid4().hex[:6]}", points_cost=cost, stock=stock, active=True),
        metadata=w.hq,
    )


def redeem(member_no: str, reward_id: str, qty: int = 1) -> pb.RedeemRewardRequest:
    return pb.RedeemRewardRequest(
        request_id=uuid.uuid4().hex, member_no=member_no, reward_id=reward_id, qty=qty
    )


async def listed(w: LoyaltyWorld, reward_id: str) -> pb.Reward:
    rows = await w.stub.ListRewards(pb.ListRewardsRequest(), metadata=w.md("auditor", "HQ"))
    return next(r for r in rows.rewards if r.id == reward_id)


async def balance(w: LoyaltyWorld, member_no: str) -> int:
    async with w.db.transaction() as s:
        found = await s.execute(
            select(points_accounts.c.balance).where(points_accounts.c.member_no == member_no)
        )
        return found.scalar_one_or_none() or 0


async def coupon_templates_of(w: LoyaltyWorld, member_no: str) -> list[str]:
    async with w.db.transaction() as s:
        rows = await s.execute(select(coupons.c.template_id).where(coupons.c.member_no == member_no))
        return sorted(str(t) for t in rows.scalars())


# --- rewards -----------------------------------------------------------------------------------


async def test_edit_restock_and_take_out_of_stock(world):
    w = world
    r = await new_reward(w, stock=5, cost=100)
    edited = await w.stub.UpdateReward(
        pb.UpdateRewardRequest(id=r.id, name="保温杯", points_cost=250, stock_delta=10), metadata=w.hq
    )
    assert (edited.name, edited.points_cost, edited.stock, edited.active) == ("保温杯", 250, 15, True)
    only_stock = await w.stub.UpdateReward(pb.UpdateRewardRequest(id=r.id, stock_delta=-15), metadata=w.hq)
    assert (only_stock.name, only_stock.points_cost, only_stock.stock) == ("保温杯", 250, 0)
    assert await refused(
        w.stub.UpdateReward(pb.UpdateRewardRequest(id=r.id, stock_delta=-1), metadata=w.hq)
    ) == ("conflict")
    assert await refused(w.stub.UpdateReward(pb.UpdateRewardRequest(id=r.id, name=" "), metadata=w.hq)) == (
        "invalid_argument"
    )
    assert await refused(
        w.stub.UpdateReward(pb.UpdateRewardRequest(id=r.id, points_cost=0), metadata=w.hq)
    ) == ("invalid_argument")
    assert await refused(
        w.stub.UpdateReward(pb.UpdateRewardRequest(id=str(uuid.uuid4()), stock_delta=1), metadata=w.hq)
    ) == ("not_found")
    assert await refused(w.stub.UpdateReward(pb.UpdateRewardRequest(id="nope"), metadata=w.hq)) == (
        "invalid_argument"
    )
    assert await refused(
        w.stub.UpdateReward(pb.UpdateRewardRequest(id=r.id, stock_delta=1), metadata=w.md("store_manager"))
    ) == ("forbidden")
    assert (await listed(w, r.id)).stock == 0  # the refusals changed nothing


async def test_ten_members_race_for_the_last_item(world):
    w = world
    r = await new_reward(w, stock=1, cost=10)
    members = [random_member_no() for _ in range(10)]
    for m in members:
        await w.give_points(m, 10)
    outcomes = await asyncio.gather(
        *(w.stub.RedeemReward(redeem(m, r.id), metadata=w.md()) for m in members), return_exceptions=True
    )
    won = [x for x in outcomes if isinstance(x, pb.Redemption)]
    assert len(won) == 1 and won[0].stock_left == 0
    assert {reason(x) for x in outcomes if not isinstance(x, pb.Redemption)} == {"out_of_stock"}
    row = await listed(w, r.id)
    assert (row.stock, row.redeemed) == (0, 1)
    assert sorted([await balance(w, m) for m in members]) == [0] + [10] * 9


async def test_restocks_racing_redemptions_of_the_last_item_lose_nothing(world):
    w = world
    r = await new_reward(w, stock=1, cost=10)
    members = [random_member_no() for _ in range(8)]
    for m in members:
        await w.give_points(m, 10)
    redemptions = [w.stub.RedeemReward(redeem(m, r.id), metadata=w.md()) for m in members]
    restocks = [
        w.stub.UpdateReward(pb.UpdateRewardRequest(id=r.id, stock_delta=1), metadata=w.hq) for _ in range(3)
    ]
    outcomes = await asyncio.gather(*redemptions, *restocks, return_exceptions=True)
    won = [x for x in outcomes[: len(members)] if isinstance(x, pb.Redemption)]
    lost = [x for x in outcomes[: len(members)] if not isinstance(x, pb.Redemption)]
    assert all(isinstance(x, pb.Reward) for x in outcomes[len(members) :])
    assert {reason(x) for x in lost} <= {"out_of_stock"}  # type: ignore[arg-type]
    assert 1 <= len(won) <= 4
    row = await listed(w, r.id)
    assert row.stock == 1 + 3 - len(won) >= 0
    assert row.redeemed == len(won)
    assert sorted([await balance(w, m) for m in members]) == [0] * len(won) + [10] * (len(members) - len(won))


async def test_takings_out_of_stock_racing_redemptions_never_go_below_zero(world):
    w = world
    r = await new_reward(w, stock=3, cost=10)
    members = [random_member_no() for _ in range(6)]
    for m in members:
        await w.give_points(m, 10)
    takes = [
        w.stub.UpdateReward(pb.UpdateRewardRequest(id=r.id, stock_delta=-2), metadata=w.hq) for _ in range(2)
    ]
    outcomes = await asyncio.gather(
        *takes,
        *(w.stub.RedeemReward(redeem(m, r.id), metadata=w.md()) for m in members),
        return_exceptions=True,
    )
    taken = sum(2 for x in outcomes[:2] if isinstance(x, pb.Reward))
    redeemed = sum(1 for x in outcomes[2:] if isinstance(x, pb.Redemption))
    assert {reason(x) for x in outcomes if isinstance(x, grpc.aio.AioRpcError)} <= {
        "conflict",
        "out_of_stock",
    }
    assert taken + redeemed <= 3
    assert (await listed(w, r.id)).stock == 3 - taken - redeemed


async def test_deactivate_activate_and_delete_only_while_never_redeemed(world):
    w = world
    r = await new_reward(w, stock=2, cost=10)
    m = random_member_no()
    await w.give_points(m, 100)
    off = await w.stub.SetRewardActive(pb.SetRewardActiveRequest(id=r.id, active=False), metadata=w.hq)
    assert off.active is False
    assert await refused(w.stub.RedeemReward(redeem(m, r.id), metadata=w.md())) == "not_found"
    active = await w.stub.ListRewards(pb.ListRewardsRequest(active_only=True), metadata=w.md())
    assert r.id not in {x.id for x in active.rewards}
    on = await w.stub.SetRewardActive(pb.SetRewardActiveRequest(id=r.id, active=True), metadata=w.hq)
    assert on.active is True
    await w.stub.RedeemReward(redeem(m, r.id), metadata=w.md())
    assert await refused(w.stub.DeleteReward(pb.DeleteRewardRequest(id=r.id), metadata=w.hq)) == "conflict"
    assert (await listed(w, r.id)).redeemed == 1
    never = await new_reward(w, stock=4)
    assert await refused(
        w.stub.DeleteReward(pb.DeleteRewardRequest(id=never.id), metadata=w.md("store_manager"))
    ) == ("forbidden")
    await w.stub.DeleteReward(pb.DeleteRewardRequest(id=never.id), metadata=w.hq)
    rows = await w.stub.ListRewards(pb.ListRewardsRequest(), metadata=w.md())
    assert never.id not in {x.id for x in rows.rewards} and r.id in {x.id for x in rows.rewards}
    assert (
        await refused(w.stub.DeleteReward(pb.DeleteRewardRequest(id=never.id), metadata=w.hq)) == "not_found"
    )


# --- referral rule -----------------------------------------------------------------------------


async def template(w: LoyaltyWorld, name: str) -> pb.CouponTemplate:
    return await w.stub.CreateCouponTemplate(
        pb.CouponTemplate(name=name, kind="amount_off", amount_off=500), metadata=w.hq
    )


async def register(w: LoyaltyWorld, referee: str, referrer: str, event_id: str) -> None:
    msg = mev.MemberRegistered(member_no=referee, home_store_path=STORE, referrer_member_no=referrer)
    await publish(w, "members.member.registered", msg, event_id)


async def handled(w: LoyaltyWorld, *event_ids: str) -> None:
    inbox = w.service.runtime.tables.inbox
    wanted = [uuid.UUID(e) for e in event_ids]

    async def all_in():  # type: ignore[no-untyped-def]
        async with w.db.transaction() as s:
            found = await s.execute(select(func.count()).where(inbox.c.event_id.in_(wanted)))
            return found.scalar_one() == len(wanted)

    await eventually(all_in, timeout=20, what="the registration events handled")


async def test_referral_rule_validation_and_reading(world):
    w = world
    assert await refused(
        w.stub.SetReferralRule(pb.ReferralRule(active=True, referrer_points=-1), metadata=w.hq)
    ) == ("invalid_argument")
    assert (
        await refused(w.stub.SetReferralRule(pb.ReferralRule(active=True), metadata=w.hq))
        == "invalid_argument"
    )
    assert await refused(
        w.stub.SetReferralRule(
            pb.ReferralRule(active=True, referee_coupon_template_id=str(uuid.uuid4())), metadata=w.hq
        )
    ) == ("invalid_argument")
    assert await refused(
        w.stub.SetReferralRule(
            pb.ReferralRule(active=True, referrer_points=5), metadata=w.md("store_manager")
        )
    ) == ("forbidden")
    # Inactive and empty is a valid way to switch it off.
    off = await w.stub.SetReferralRule(pb.ReferralRule(active=False), metadata=w.hq)
    assert off.active is False
    read = await w.stub.GetReferralRule(pb.GetReferralRuleRequest(), metadata=w.md("auditor", "HQ"))
    assert read.active is False and read.updated_at.seconds > 0


async def test_referral_rule_grants_once_per_new_member_and_nothing_while_inactive(world):
    w = world
    t_referrer, t_referee = await template(w, "推荐人券"), await template(w, "新人券")
    rule = pb.ReferralRule(
        active=True,
        referrer_points=100,
        referrer_coupon_template_id=t_referrer.id,
        referee_coupon_template_id=t_referee.id,
    )
    saved = await w.stub.SetReferralRule(rule, metadata=w.hq)
    assert (saved.referrer_points, saved.referee_coupon_template_id) == (100, t_referee.id)
    referrer, referee = random_member_no(), random_member_no()
    first, again = str(uuid.uuid4()), str(uuid.uuid4())
    # The same registration delivered twice (two event ids: a replay the inbox cannot tell).
    await asyncio.gather(register(w, referee, referrer, first), register(w, referee, referrer, again))
    await handled(w, first, again)
    assert await balance(w, referrer) == 100
    assert await coupon_templates_of(w, referrer) == [t_referrer.id]
    assert await coupon_templates_of(w, referee) == [t_referee.id]
    async with w.db.transaction() as s:
        entries = (
            await s.execute(
                select(points_entries.c.kind, points_entries.c.rules).where(
                    points_entries.c.member_no == referrer
                )
            )
        ).all()
    assert [(x.kind, list(x.rules)) for x in entries] == [("referral", ["referral_signup"])]

    await w.stub.SetReferralRule(pb.ReferralRule(active=False, referrer_points=100), metadata=w.hq)
    other = random_member_no()
    event = str(uuid.uuid4())
    await register(w, other, referrer, event)
    await handled(w, event)
    assert await balance(w, referrer) == 100
    assert await coupon_templates_of(w, other) == []

    # A member registered without a referrer gets nothing from the rule, even when active.
    await w.stub.SetReferralRule(rule, metadata=w.hq)
    alone = random_member_no()
    event = str(uuid.uuid4())
    await publish(
        w, "members.member.registered", mev.MemberRegistered(member_no=alone, home_store_path=STORE), event
    )
    await handled(w, event)
    assert await coupon_templates_of(w, alone) == []


# --- birthday points ---------------------------------------------------------------------------


async def test_tier_birthday_points_and_gift_once_a_year(world):
    w = world
    ctx = w.service.context
    gift = await template(w, "生日礼券")
    tier = await w.stub.UpsertTier(
        pb.Tier(code="vip", name="VIP", rank=7, birthday_points=88, birthday_gift_template_id=gift.id),
        metadata=w.hq,
    )
    assert (tier.birthday_points, tier.birthday_gift_template_id) == (88, gift.id)
    assert await refused(
        w.stub.UpsertTier(pb.Tier(code="bad", rank=8, birthday_points=-1), metadata=w.hq)
    ) == ("invalid_argument")
    m, plain = random_member_no(), random_member_no()
    async with w.db.transaction() as s:
        for member_no, tier_code in ((m, "vip"), (plain, "standard")):
            await points_uc.ensure_account(s, member_no, STORE)
            await s.execute(
                update(points_accounts)
                .where(points_accounts.c.member_no == member_no)
                .values(birthday="1991-06-02", tier=tier_code)
            )
    day = datetime(2027, 6, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    # The day's run twice at once, then again later that day: one gift.
    await asyncio.gather(jobs.birthday_coupons(ctx, day), jobs.birthday_coupons(ctx, day))
    await jobs.birthday_coupons(ctx, day.replace(hour=8))
    assert await balance(w, m) == 88
    assert await coupon_templates_of(w, m) == [gift.id]
    assert await balance(w, plain) == 0
    await jobs.birthday_coupons(ctx, datetime(2028, 6, 2, 1, 0, tzinfo=UTC))  # next year: again
    assert await balance(w, m) == 176
    assert await coupon_templates_of(w, m) == [gift.id, gift.id]
