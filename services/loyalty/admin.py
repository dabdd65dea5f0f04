"""Programme settings: tiers, earn rules, promotions. Everyone at the counter may read them;
only HQ changes them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument
from services.loyalty import access, domain
from services.loyalty.context import LoyaltyContext
from services.loyalty.coupons import when
from services.loyalty.journal import ts
from services.loyalty.models import earn_rules, promotions, tiers


def tier_pb(r) -> pb.Tier:  # type: ignore[no-untyped-def]
    return pb.Tier(
        code=r.code, name=r.name, rank=r.rank, min_spend_12m=r.min_spend_12m, min_points_12m=r.min_points_12m,
        discount_bps=r.discount_bps, points_multiplier_bps=r.points_multiplier_bps,
        birthday_gift_template_id=r.birthday_gift_template_id,
    )  # fmt: skip


async def list_tiers(ctx: LoyaltyContext, p: Principal) -> pb.ListTiersResponse:
    access.require(p, access.READERS, "read tiers")
    async with ctx.db.transaction() as session:
        rows = (await session.execute(select(tiers).order_by(tiers.c.rank))).all()
    return pb.ListTiersResponse(tiers=[tier_pb(r) for r in rows])


async def upsert_tier(ctx: LoyaltyContext, p: Principal, req: pb.Tier) -> pb.Tier:
    access.require(p, access.HQ, "change tiers")
    if not req.code or len(req.code) > 32:
        raise InvalidArgument("code is required (at most 32 characters)", field="code")
    if req.rank < 0 or min(req.min_spend_12m, req.min_points_12m) < 0:
        raise InvalidArgument("rank and thresholds must not be negative")
    domain.check_bps(req.discount_bps, "discount_bps")
    domain.check_bps(req.points_multiplier_bps or 10_000, "points_multiplier_bps", 100_000)
    values = dict(
        name=req.name or req.code, rank=req.rank, min_spend_12m=req.min_spend_12m,
        min_points_12m=req.min_points_12m, discount_bps=req.discount_bps,
        points_multiplier_bps=req.points_multiplier_bps or 10_000,
        birthday_gift_template_id=req.birthday_gift_template_id,
    )  # fmt: skip
    async with ctx.db.transaction() as session:
        clash = (
            await session.execute(
                select(tiers.c.code).where(tiers.c.rank == req.rank, tiers.c.code != req.code)
            )
        ).first()
        if clash is not None:
            raise InvalidArgument(f"rank {req.rank} belongs to tier {clash.code}", field="rank")
        row = (
            await session.execute(
                insert(tiers)
                .values(code=req.code, **values)
                .on_conflict_do_update(index_elements=[tiers.c.code], set_=values)
                .returning(*tiers.c)
            )
        ).one()
    return tier_pb(row)


def earn_rule_pb(r) -> pb.EarnRule:  # type: ignore[no-untyped-def]
    return pb.EarnRule(
        id=str(r.id), name=r.name, scope=r.scope, category=r.category, points_per_yuan_bps=r.points_per_yuan_bps,
        member_day=r.member_day, member_day_multiplier_bps=r.member_day_multiplier_bps,
        birthday_month_multiplier_bps=r.birthday_month_multiplier_bps, active=r.active,
    )  # fmt: skip


async def list_earn_rules(ctx: LoyaltyContext, p: Principal) -> pb.ListEarnRulesResponse:
    access.require(p, access.READERS, "read earn rules")
    async with ctx.db.transaction() as session:
        rows = (await session.execute(select(earn_rules).order_by(earn_rules.c.created_at))).all()
    return pb.ListEarnRulesResponse(
        rules=[earn_rule_pb(r) for r in rows if p.may_access(r.scope) or r.scope == "HQ"]
    )


async def create_earn_rule(ctx: LoyaltyContext, p: Principal, req: pb.EarnRule) -> pb.EarnRule:
    access.require(p, access.HQ, "create earn rules")
    if not req.name:
        raise InvalidArgument("name is required", field="name")
    scope = req.scope or p.scope
    if not p.may_access(scope):
        raise InvalidArgument("scope lies outside yours", field="scope")
    if not 0 <= req.points_per_yuan_bps <= 1_000_000:
        raise InvalidArgument(
            "points_per_yuan_bps must be between 0 and 1000000", field="points_per_yuan_bps"
        )
    if not 0 <= req.member_day <= 31:
        raise InvalidArgument("member_day must be a day of the month (0 = none)", field="member_day")
    for name in ("member_day_multiplier_bps", "birthday_month_multiplier_bps"):
        domain.check_bps(getattr(req, name) or 10_000, name, 100_000)
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                earn_rules.insert()
                .values(
                    id=uuid.uuid4(),
                    name=req.name,
                    scope=scope,
                    category=req.category,
                    points_per_yuan_bps=req.points_per_yuan_bps,
                    member_day=req.member_day,
                    member_day_multiplier_bps=req.member_day_multiplier_bps or 10_000,
                    birthday_month_multiplier_bps=req.birthday_month_multiplier_bps or 10_000,
                    active=req.active,
                )
                .returning(*earn_rules.c)
            )
        ).one()
    return earn_rule_pb(row)


def promotion_pb(r) -> pb.Promotion:  # type: ignore[no-untyped-def]
    return pb.Promotion(
        id=str(r.id), name=r.name, kind=r.kind, spend_threshold=r.spend_threshold, save_amount=r.save_amount,
        category=r.category, discount_bps=r.discount_bps, day_of_month=r.day_of_month,
        members_only=r.members_only, scope=r.scope, starts_at=ts(r.starts_at), ends_at=ts(r.ends_at),
        active=r.active,
    )  # fmt: skip


async def list_promotions(ctx: LoyaltyContext, p: Principal) -> pb.ListPromotionsResponse:
    access.require(p, access.READERS, "read promotions")
    async with ctx.db.transaction() as session:
        rows = (await session.execute(select(promotions).order_by(promotions.c.created_at))).all()
    return pb.ListPromotionsResponse(promotions=[promotion_pb(r) for r in rows])


async def create_promotion(ctx: LoyaltyContext, p: Principal, req: pb.Promotion) -> pb.Promotion:
    access.require(p, access.HQ, "create promotions")
    if not req.name:
        raise InvalidArgument("name is required", field="name")
    if req.kind not in domain.PROMOTION_KINDS:
        raise InvalidArgument(f"kind must be one of {', '.join(domain.PROMOTION_KINDS)}", field="kind")
    if req.kind == "spend_x_save_y" and not 0 < req.save_amount <= req.spend_threshold:
        raise InvalidArgument("spend_x_save_y needs 0 < save_amount <= spend_threshold", field="save_amount")
    if req.kind == "category_discount" and not req.category:
        raise InvalidArgument("category_discount needs a category", field="category")
    if req.kind == "member_day" and not 1 <= req.day_of_month <= 31:
        raise InvalidArgument("member_day needs day_of_month 1..31", field="day_of_month")
    domain.check_bps(req.discount_bps, "discount_bps")
    scope = req.scope or p.scope
    if not p.may_access(scope):
        raise InvalidArgument("scope lies outside yours", field="scope")
    starts, ends = when(req.starts_at), when(req.ends_at)
    if starts and ends and ends <= starts:
        raise InvalidArgument("ends_at must be after starts_at", field="ends_at")
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                promotions.insert()
                .values(
                    id=uuid.uuid4(),
                    name=req.name,
                    kind=req.kind,
                    spend_threshold=req.spend_threshold,
                    save_amount=req.save_amount,
                    category=req.category,
                    discount_bps=req.discount_bps,
                    day_of_month=req.day_of_month,
                    members_only=req.members_only,
                    scope=scope,
                    starts_at=starts,
                    ends_at=ends,
                    active=req.active,
                )
                .returning(*promotions.c)
            )
        ).one()
    return promotion_pb(row)
