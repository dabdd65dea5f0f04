"""Rewards catalog (积分商城): HQ keeps the gifts and their stock; a member redeems points for
them. A redemption is idempotent per request id, takes stock with one guarded UPDATE (never
below zero, under any concurrency) and spends points FIFO from the lots."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import loyalty_pb2 as ev
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.db import in_scope
from kit.errors import Conflict, InvalidArgument, NotFound
from services.loyalty import access, domain, points
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import run_once, ts
from services.loyalty.models import redemptions, rewards

MAX_QTY = 1_000


class OutOfStock(domain.LoyaltyError):
    """The reward has fewer units left than asked for."""

    reason = "out_of_stock"


MAX_STOCK = 10**9


def reward_pb(r, redeemed: int = 0) -> pb.Reward:  # type: ignore[no-untyped-def]
    return pb.Reward(
        id=str(r.id), name=r.name, points_cost=r.points_cost, stock=r.stock, active=r.active,
        created_at=ts(r.created_at), redeemed=redeemed,
    )  # fmt: skip


def parse_reward_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument("id is not a valid reward id", field="id") from None


def check_name(name: str) -> None:
    if not name.strip() or len(name) > 100:
        raise InvalidArgument("name is required (at most 100 characters)", field="name")


async def units_redeemed(session: AsyncSession, reward_id: uuid.UUID, scope: str = "HQ") -> int:
    """Units of a reward redeemed at the stores of ``scope``."""
    total = await session.execute(
        select(func.coalesce(func.sum(redemptions.c.qty), 0)).where(
            redemptions.c.reward_id == reward_id, in_scope(redemptions.c.store_path, scope)
        )
    )
    return int(total.scalar_one())


async def create_reward(ctx: LoyaltyContext, p: Principal, req: pb.Reward) -> pb.Reward:
    access.require(p, access.HQ, "create rewards")
    check_name(req.name)
    if req.points_cost <= 0:
        raise InvalidArgument("points_cost must be positive", field="points_cost")
    if not 0 <= req.stock <= MAX_STOCK:
        raise InvalidArgument(f"stock must be between 0 and {MAX_STOCK}", field="stock")
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
    counted = (
        select(redemptions.c.reward_id, func.sum(redemptions.c.qty).label("units"))
        .where(in_scope(redemptions.c.store_path, p.scope))
        .group_by(redemptions.c.reward_id)
    ).subquery()
    query = query.outerjoin(counted, counted.c.reward_id == rewards.c.id).add_columns(
        func.coalesce(counted.c.units, 0).label("units")
    )
    async with ctx.db.transaction() as session:
        rows = (await session.execute(query)).all()
    return pb.ListRewardsResponse(rewards=[reward_pb(r, int(r.units)) for r in rows])


async def update_reward(ctx: LoyaltyContext, p: Principal, req: pb.UpdateRewardRequest) -> pb.Reward:
    """Rename, reprice and restock (or take out of stock) a reward. The stock moves by a
    delta in one guarded UPDATE, so a restock racing a redemption loses neither, and taking
    out more than is left is refused rather than clipped."""
    access.require(p, access.HQ, "change rewards")
    reward_id = parse_reward_id(req.id)
    values: dict[str, object] = {}
    if req.HasField("name"):
        check_name(req.name)
        values["name"] = req.name
    if req.HasField("points_cost"):
        if not 0 < req.points_cost <= 10**12:
            raise InvalidArgument("points_cost must be positive", field="points_cost")
        values["points_cost"] = req.points_cost
    if abs(req.stock_delta) > MAX_STOCK:
        raise InvalidArgument(f"stock_delta must be within ±{MAX_STOCK}", field="stock_delta")
    if req.stock_delta:
        values["stock"] = rewards.c.stock + req.stock_delta
    async with ctx.db.transaction() as session:
        if not values:
            row = (await session.execute(select(rewards).where(rewards.c.id == reward_id))).first()
        else:
            row = (
                await session.execute(
                    update(rewards)
                    .where(rewards.c.id == reward_id, rewards.c.stock + req.stock_delta >= 0)
                    .values(**values)
                    .returning(*rewards.c)
                )
            ).first()
            if row is None and req.stock_delta < 0:
                left = (
                    await session.execute(select(rewards.c.stock).where(rewards.c.id == reward_id))
                ).scalar_one_or_none()
                if left is not None:
                    raise Conflict(
                        f"only {left} left in stock: cannot take out {-req.stock_delta}", field="stock_delta"
                    )
        if row is None:
            raise NotFound(f"no reward {req.id}")
        return reward_pb(row, await units_redeemed(session, reward_id, p.scope))


async def set_reward_active(ctx: LoyaltyContext, p: Principal, req: pb.SetRewardActiveRequest) -> pb.Reward:
    """A deactivated reward cannot be redeemed (redemptions made stay); activating restores it."""
    access.require(p, access.HQ, "deactivate or activate rewards")
    reward_id = parse_reward_id(req.id)
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                update(rewards)
                .where(rewards.c.id == reward_id)
                .values(active=req.active)
                .returning(*rewards.c)
            )
        ).first()
        if row is None:
            raise NotFound(f"no reward {req.id}")
        return reward_pb(row, await units_redeemed(session, reward_id, p.scope))


async def delete_reward(
    ctx: LoyaltyContext, p: Principal, req: pb.DeleteRewardRequest
) -> pb.DeleteRewardResponse:
    """Only a reward never redeemed goes: redemptions name it. The row lock makes a redemption
    that races the delete either wait and find no reward or commit first and block it."""
    access.require(p, access.HQ, "delete rewards")
    reward_id = parse_reward_id(req.id)
    async with ctx.db.transaction() as session:
        found = (
            await session.execute(select(rewards.c.id).where(rewards.c.id == reward_id).with_for_update())
        ).first()
        if found is None:
            raise NotFound(f"no reward {req.id}")
        if units := await units_redeemed(session, reward_id):
            raise Conflict(f"the reward was redeemed {units} times: deactivate it instead")
        await session.execute(delete(rewards).where(rewards.c.id == reward_id))
    return pb.DeleteRewardResponse()


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
