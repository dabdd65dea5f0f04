"""Rewards catalog (积分商城): HQ keeps the gifts and their stock; a member redeems points for
them. A redemption is idempotent per request id, takes stock with one guarded UPDATE (never
below zero, under any concurrency) and spends points FIFO from the lots."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import loyalty_pb2 as ev
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument, NotFound
from services.loyalty import access, domain, points
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import run_once, ts
from services.loyalty.models import redemptions, rewards

MAX_QTY = 1_000


class OutOfStock(domain.LoyaltyError):
    """The reward has fewer units left than asked for."""

    reason = "out_of_stock"


def reward_pb(r) -> pb.Reward:  # type: ignore[no-untyped-def]
    return pb.Reward(
        id=str(r.id), name=r.name, points_cost=r.points_cost, stock=r.stock, active=r.active,
        created_at=ts(r.created_at),
    )  # fmt: skip


async def create_reward(ctx: LoyaltyContext, p: Principal, req: pb.Reward) -> pb.Reward:
    access.require(p, access.HQ, "create rewards")
    if not req.name or len(req.name) > 100:
        raise InvalidArgument("name is required (at most 100 characters)", field="name")
    if req.points_cost <= 0:
        raise InvalidArgument("points_cost must be positive", field="points_cost")
    if req.stock < 0:
        raise InvalidArgument("stock must not be negative", field="stock")
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                rewards.insert()
                .values(
                    id=uuid.uuid4(),
                    name=req.name,
                    points_cost=req.points_cost,
                    stock=req.stock,
                    active=req.active,
                )
                .returning(*rewards.c)
            )
        ).one()
    return reward_pb(row)


async def list_rewards(
    ctx: LoyaltyContext, p: Principal, req: pb.ListRewardsRequest
) -> pb.ListRewardsResponse:
    access.require(p, access.READERS, "read rewards")
    query = select(rewards).order_by(rewards.c.created_at, rewards.c.id)
    if req.active_only:
        query = query.where(rewards.c.active)
    async with ctx.db.transaction() as session:
        rows = (await session.execute(query)).all()
    return pb.ListRewardsResponse(rewards=[reward_pb(r) for r in rows])


async def redeem(ctx: LoyaltyContext, p: Principal, req: pb.RedeemRewardRequest) -> pb.Redemption:
    access.require(p, access.CHECKOUT, "redeem rewards")
    if not req.member_no:
        raise InvalidArgument("member_no is required", field="member_no")
    qty = req.qty or 1
    if not 0 < qty <= MAX_QTY:
        raise InvalidArgument(f"qty must be between 1 and {MAX_QTY}", field="qty")
    try:
        reward_id = uuid.UUID(req.reward_id)
    except ValueError:
        raise InvalidArgument("reward_id is not a valid id", field="reward_id") from None

    async def work(session: AsyncSession) -> pb.Redemption:
        now = ctx.now()
        reward = (await session.execute(select(rewards).where(rewards.c.id == reward_id))).first()
        if reward is None or not reward.active:
            raise NotFound(f"no reward {req.reward_id}")
        # The account lock first (as checkout does), then the stock.
        account = (
            await session.execute(
                select(points.points_accounts)
                .where(points.points_accounts.c.member_no == req.member_no)
                .with_for_update()
            )
        ).first()
        if account is None:
            raise domain.InsufficientPoints(f"member {req.member_no} holds no points")
        access.check_member_read(p, account.home_store_path)
        cost = reward.points_cost * qty
        if account.balance - account.reserved < cost:
            raise domain.InsufficientPoints(
                f"{cost} points needed, {account.balance - account.reserved} available"
            )
        # The stock check and the decrement are one statement: never below zero.
        left = (
            await session.execute(
                update(rewards)
                .where(rewards.c.id == reward_id, rewards.c.active, rewards.c.stock >= qty)
                .values(stock=rewards.c.stock - qty)
                .returning(rewards.c.stock)
            )
        ).first()
        if left is None:
            raise OutOfStock(f"reward {reward.name} has fewer than {qty} left")
        balance = await points.take(session, req.member_no, cost, now=now)
        redemption_id = uuid.uuid4()
        await session.execute(
            redemptions.insert().values(
                id=redemption_id, request_id=req.request_id, member_no=req.member_no, reward_id=reward_id, qty=qty,
                points=cost, store_path=p.scope, created_at=now,
            )
        )  # fmt: skip
        reference = f"redemption:{redemption_id}"
        await points.entry(session, req.member_no, "redeem", -cost, reference, now, [f"reward:{reward.name}"])
        home = account.home_store_path
        await ctx.emit(
            session,
            "loyalty.points.redeemed",
            ev.PointsChanged(
                member_no=req.member_no, kind="reward", points=cost, balance=balance, reference=reference,
                rules=[f"reward:{reward_id}"], home_store_path=home, at=ts(now),
            ),
            home or p.scope,
        )  # fmt: skip
        return pb.Redemption(
            id=str(redemption_id), member_no=req.member_no, reward_id=str(reward_id), reward_name=reward.name,
            qty=qty, points=cost, points_balance=balance, stock_left=left.stock, created_at=ts(now),
        )  # fmt: skip

    return await run_once(ctx, "redeem_reward", req, pb.Redemption, work)
