"""Rewards catalog (积分商城): stock never negative under concurrency, points FIFO from the
lots, idempotent redemption, refusals."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import grpc
import pytest
from sqlalchemy import select

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.errors import from_rpc_error
from services.loyalty import points as points_uc
from services.loyalty.models import points_accounts, points_lots, redemptions
from tests.loyalty.conftest import STORE, random_member_no

pytestmark = pytest.mark.integration


def reason(exc: grpc.aio.AioRpcError) -> str:
    return from_rpc_error(exc).reason


async def reward(w, stock: int, cost: int = 100) -> pb.Reward:  # type: ignore[no-untyped-def]
    return await w.stub.CreateReward(
        pb.Reward(name=f"gift {uuid.uuid4().hex[:6]}", points_cost=cost, stock=stock, active=True),
        metadata=w.hq,
    )


async def balance(w, member_no: str) -> int:  # type: ignore[no-untyped-def]
    async with w.db.transaction() as s:
        return (
            await s.execute(select(points_accounts.c.balance).where(points_accounts.c.member_no == member_no))
        ).scalar_one()


def redeem(member_no: str, reward_id: str, qty: int = 1, key: str | None = None) -> pb.RedeemRewardRequest:
    return pb.RedeemRewardRequest(
        request_id=key or uuid.uuid4().hex, member_no=member_no, reward_id=reward_id, qty=qty
    )


async def test_twenty_concurrent_redemptions_of_five_in_stock(loyalty_world):
    w = loyalty_world
    r = await reward(w, stock=5)
    members = [random_member_no() for _ in range(20)]
    for m in members:
        await w.give_points(m, 100)
    results = await asyncio.gather(
        *(w.stub.RedeemReward(redeem(m, r.id), metadata=w.md()) for m in members), return_exceptions=True
    )
    won = [x for x in results if isinstance(x, pb.Redemption)]
    lost = [x for x in results if not isinstance(x, pb.Redemption)]
    assert len(won) == 5 and len(lost) == 15
    assert {reason(x) for x in lost} == {"out_of_stock"}  # type: ignore[arg-type]
    assert sorted(x.stock_left for x in won) == [0, 1, 2, 3, 4]
    listed = await w.stub.ListRewards(pb.ListRewardsRequest(), metadata=w.md())
    assert next(x for x in listed.rewards if x.id == r.id).stock == 0
    spent = sorted([await balance(w, m) for m in members])
    assert spent == [0] * 5 + [100] * 15
    async with w.db.transaction() as s:
        rows = (await s.execute(select(redemptions).where(redemptions.c.reward_id == uuid.UUID(r.id)))).all()
    assert len(rows) == 5


async def test_redemption_is_idempotent_and_spends_the_oldest_lots_first(loyalty_world):
    w = loyalty_world
    r = await reward(w, stock=10, cost=150)
    m = random_member_no()
    ctx = w.service.context
    today = ctx.local_date(ctx.now())
    async with w.db.transaction() as s:
        acct = await points_uc.ensure_account(s, m, STORE)
        await points_uc.add_lot(ctx, s, acct, 400, source="bonus", reference="late", now=ctx.now(),
                                expires_on=today + timedelta(days=300))  # fmt: skip
        await points_uc.add_lot(ctx, s, acct, 200, source="bonus", reference="soon", now=ctx.now(),
                                expires_on=today + timedelta(days=20))  # fmt: skip
    key = uuid.uuid4().hex
    first = await w.stub.RedeemReward(redeem(m, r.id, qty=2, key=key), metadata=w.md())
    again = await asyncio.gather(
        *(w.stub.RedeemReward(redeem(m, r.id, qty=2, key=key), metadata=w.md()) for _ in range(5))
    )
    assert all(x == first for x in again)
    assert first.points == 300 and first.points_balance == 300 and first.stock_left == 8
    assert await balance(w, m) == 300
    async with w.db.transaction() as s:
        lots = dict(
            (await s.execute(select(points_lots.c.reference, points_lots.c.remaining).where(
                points_lots.c.member_no == m))).all()
        )  # fmt: skip
    assert lots == {"soon": 0, "late": 300}
    history = await w.stub.ListPointsHistory(pb.ListPointsHistoryRequest(member_no=m), metadata=w.md())
    assert (history.entries[0].kind, history.entries[0].points) == ("redeem", -300)
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.RedeemReward(redeem(m, r.id, qty=1, key=key), metadata=w.md())
    assert reason(exc.value) == "idempotency_key_reused"


async def test_redemption_refusals(loyalty_world):
    w = loyalty_world
    r = await reward(w, stock=3, cost=100)
    m = random_member_no()
    await w.give_points(m, 250)
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.RedeemReward(redeem(m, r.id, qty=3), metadata=w.md())
    assert reason(exc.value) == "insufficient_points"
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.RedeemReward(redeem(random_member_no(), r.id), metadata=w.md())
    assert reason(exc.value) == "insufficient_points"
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.RedeemReward(redeem(m, str(uuid.uuid4())), metadata=w.md())
    assert reason(exc.value) == "not_found"
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.RedeemReward(redeem(m, r.id, qty=-1), metadata=w.md())
    assert reason(exc.value) == "invalid_argument"
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.CreateReward(pb.Reward(name="x", points_cost=1, stock=1), metadata=w.md("store_manager"))
    assert reason(exc.value) == "forbidden"
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.RedeemReward(redeem(m, r.id), metadata=w.md("auditor"))
    assert reason(exc.value) == "forbidden"
    assert await balance(w, m) == 250
    # points held by a pending checkout are not available for a reward
    cid = "co-" + uuid.uuid4().hex
    await w.stub.Reserve(
        pb.ReserveRequest(checkout_id=cid, quote=w.quote_request(m, points_to_use=200)), metadata=w.md()
    )
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await w.stub.RedeemReward(redeem(m, r.id), metadata=w.md())
    assert reason(exc.value) == "insufficient_points"
