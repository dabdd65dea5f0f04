"""Programme settings: tiers, earn rules, promotions. Everyone at the counter may read them;
only HQ changes them: creates, deactivates and activates them, deletes what nothing uses.

Quotes and earning read the rules from the database on every call (``pricing``), so a
change applies to the next quote; there is no cache to invalidate."""

from __future__ import annotations

import uuid

from sqlalchemy import Table, Text, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import Conflict, InvalidArgument, NotFound
from services.loyalty import access, domain
from services.loyalty.context import LoyaltyContext
from services.loyalty.coupons import template_pb, when
from services.loyalty.journal import ts
from services.loyalty.models import (
    coupon_templates,
    earn_rules,
    points_accounts,
    points_entries,
    promotions,
    purchases,
    tiers,
)

ENTRY_TIER = "standard"  # a new points account's tier (models.points_accounts)


def tier_pb(r) -> pb.Tier:  # type: ignore[no-untyped-def]
    return pb.Tier(
        code=r.code, name=r.name, rank=r.rank, min_spend_12m=r.min_spend_12m, min_points_12m=r.min_points_12m,
        discount_bps=r.discount_bps, points_multiplier_bps=r.points_multiplier_bps,
        birthday_gift_template_id=r.birthday_gift_template_id, birthday_points=r.birthday_points,
        keep_spend_12m=r.keep_spend_12m, keep_points_12m=r.keep_points_12m,
    )  # fmt: skip


async def list_tiers(ctx: LoyaltyContext, p: Principal) -> pb.ListTiersResponse:
    access.require(p, access.READERS, "read tiers")
    async with ctx.db.transaction() as session:
        rows = (await session.execute(select(tiers).order_by(tiers.c.rank))).all()
    return pb.ListTiersResponse(tiers=[tier_pb(r) for r in rows])


def _check_keep(keep: int, reach: int, field: str) -> None:
    """A keep threshold (保级) is 0 (the same as reaching the tier) or at most the threshold to
    reach it: a member who just reached a tier must not lose it at the next review."""
    if keep < 0:
        raise InvalidArgument(f"{field} must not be negative", field=field)
    if keep and (reach == 0 or keep > reach):
        raise InvalidArgument(f"{field} must be at most the threshold to reach the tier", field=field)


async def upsert_tier(ctx: LoyaltyContext, p: Principal, req: pb.Tier) -> pb.Tier:
    access.require(p, access.HQ, "change tiers")
    if not req.code or len(req.code) > 32:
        raise InvalidArgument("code is required (at most 32 characters)", field="code")
    if req.rank < 0 or min(req.min_spend_12m, req.min_points_12m) < 0:
        raise InvalidArgument("rank and thresholds must not be negative")
    domain.check_bps(req.discount_bps, "discount_bps")
    domain.check_bps(req.points_multiplier_bps or 10_000, "points_multiplier_bps", 100_000)
    if not 0 <= req.birthday_points <= 10**9:
        raise InvalidArgument("birthday_points must be between 0 and 1000000000", field="birthday_points")
    _check_keep(req.keep_spend_12m, req.min_spend_12m, "keep_spend_12m")
    _check_keep(req.keep_points_12m, req.min_points_12m, "keep_points_12m")
    values = dict(
        name=req.name or req.code, rank=req.rank, min_spend_12m=req.min_spend_12m,
        min_points_12m=req.min_points_12m, discount_bps=req.discount_bps,
        points_multiplier_bps=req.points_multiplier_bps or 10_000,
        birthday_gift_template_id=req.birthday_gift_template_id, birthday_points=req.birthday_points,
        keep_spend_12m=req.keep_spend_12m, keep_points_12m=req.keep_points_12m,
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


def check_earn_rule(p: Principal, req: pb.EarnRule) -> str:
    """Refuse an earn rule the caller may not make (creating or editing it); its scope."""
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
    return scope


def earn_rule_values(req: pb.EarnRule, scope: str) -> dict:
    """The columns of a checked earn rule (a multiplier of 0 means none: x1)."""
    return dict(
        name=req.name, scope=scope, category=req.category, points_per_yuan_bps=req.points_per_yuan_bps,
        member_day=req.member_day, member_day_multiplier_bps=req.member_day_multiplier_bps or 10_000,
        birthday_month_multiplier_bps=req.birthday_month_multiplier_bps or 10_000, active=req.active,
    )  # fmt: skip


async def create_earn_rule(ctx: LoyaltyContext, p: Principal, req: pb.EarnRule) -> pb.EarnRule:
    access.require(p, access.HQ, "create earn rules")
    values = earn_rule_values(req, check_earn_rule(p, req))
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                earn_rules.insert().values(id=uuid.uuid4(), **values).returning(*earn_rules.c)
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


def check_promotion(p: Principal, req: pb.Promotion) -> str:
    """Refuse a promotion the caller may not make (creating or editing it); its scope."""
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
    return scope


def promotion_values(req: pb.Promotion, scope: str) -> dict:
    """The columns of a checked promotion."""
    return dict(
        name=req.name, kind=req.kind, spend_threshold=req.spend_threshold, save_amount=req.save_amount,
        category=req.category, discount_bps=req.discount_bps, day_of_month=req.day_of_month,
        members_only=req.members_only, scope=scope, starts_at=when(req.starts_at), ends_at=when(req.ends_at),
        active=req.active,
    )  # fmt: skip


async def create_promotion(ctx: LoyaltyContext, p: Principal, req: pb.Promotion) -> pb.Promotion:
    access.require(p, access.HQ, "create promotions")
    values = promotion_values(req, check_promotion(p, req))
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                promotions.insert().values(id=uuid.uuid4(), **values).returning(*promotions.c)
            )
        ).one()
    return promotion_pb(row)


# --- taking rules back ---------------------------------------------------------------------------
async def delete_tier(ctx: LoyaltyContext, p: Principal, req: pb.DeleteTierRequest) -> pb.DeleteTierResponse:
    """Delete a tier (HQ) while no points account is on it; else a conflict saying how many are."""
    access.require(p, access.HQ, "change tiers")
    if not req.code or len(req.code) > 32:
        raise InvalidArgument("code is required (at most 32 characters)", field="code")
    if req.code == ENTRY_TIER:
        raise Conflict(f"tier {ENTRY_TIER} is where new members start: it cannot be deleted")
    async with ctx.db.transaction() as session:
        # Lock the tier: an upgrade landing on it meanwhile waits, then finds it gone.
        found = (
            await session.execute(select(tiers.c.code).where(tiers.c.code == req.code).with_for_update())
        ).first()
        if found is None:
            raise NotFound(f"no tier {req.code}")
        on_it = (
            await session.execute(
                select(func.count()).select_from(points_accounts).where(points_accounts.c.tier == req.code)
            )
        ).scalar_one()
        if on_it:
            raise Conflict(
                f"tier {req.code} has {on_it} member{'s' if on_it != 1 else ''}: "
                "it can be deleted once none is on it",
                members=on_it,
            )
        await session.execute(delete(tiers).where(tiers.c.code == req.code))
    return pb.DeleteTierResponse()


def _rule_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument("id is not a valid id", field="id") from None


async def own_rule(session: AsyncSession, p: Principal, table: Table, value: str, what: str, *, lock: bool):  # type: ignore[no-untyped-def]
    """The rule ``value`` when it lies in the caller's scope (creating one needs the same)."""
    query = select(table).where(table.c.id == _rule_id(value))
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound(f"no {what} {value}")
    access.check_scope(p, row.scope, what)
    return row


async def _set_active(session: AsyncSession, table: Table, row, active: bool):  # type: ignore[no-untyped-def]
    return (
        await session.execute(
            update(table).where(table.c.id == row.id).values(active=active).returning(*table.c)
        )
    ).one()


async def set_earn_rule_active(
    ctx: LoyaltyContext, p: Principal, req: pb.SetRuleActiveRequest
) -> pb.EarnRule:
    access.require(p, access.HQ, "change earn rules")
    async with ctx.db.transaction() as session:
        row = await own_rule(session, p, earn_rules, req.id, "earn rule", lock=True)
        return earn_rule_pb(await _set_active(session, earn_rules, row, req.active))


async def set_promotion_active(
    ctx: LoyaltyContext, p: Principal, req: pb.SetRuleActiveRequest
) -> pb.Promotion:
    access.require(p, access.HQ, "change promotions")
    async with ctx.db.transaction() as session:
        row = await own_rule(session, p, promotions, req.id, "promotion", lock=True)
        return promotion_pb(await _set_active(session, promotions, row, req.active))


async def set_coupon_template_active(
    ctx: LoyaltyContext, p: Principal, req: pb.SetRuleActiveRequest
) -> pb.CouponTemplate:
    """A stopped template is issued no more (by hand or by a campaign); coupons members hold
    already stay usable until they expire."""
    access.require(p, access.HQ, "change coupon templates")
    async with ctx.db.transaction() as session:
        row = await own_rule(session, p, coupon_templates, req.id, "coupon template", lock=True)
        return template_pb(await _set_active(session, coupon_templates, row, req.active))


async def earn_rule_used(session: AsyncSession, name: str) -> bool:
    """Whether a purchase or points entry names the earn rule ``name`` (they name the rules that
    earned, with ``:member_day``/``:birthday_month`` for a multiplier)."""
    names = literal([name, f"{name}:member_day", f"{name}:birthday_month"], ARRAY(Text))
    used = (
        await session.execute(
            select(literal(1)).where(
                or_(
                    select(purchases.c.checkout_id).where(purchases.c.earn_rules.overlap(names)).exists(),
                    select(points_entries.c.id).where(points_entries.c.rules.overlap(names)).exists(),
                )
            )
        )
    ).first()
    return used is not None


async def promotion_used(session: AsyncSession, row) -> bool:  # type: ignore[no-untyped-def]
    """Whether a purchase since the promotion's creation took a discount from it.

    The stored quote names the promotion of each discount; a purchase whose quote holds the
    name counts as using it (another text equal to the name would only keep it)."""
    used = (
        await session.execute(
            select(purchases.c.checkout_id)
            .where(
                purchases.c.created_at >= row.created_at,
                purchases.c.discount_total > 0,
                func.position(literal(row.name.encode()).op("IN")(purchases.c.quote)) > 0,
            )
            .limit(1)
        )
    ).first()
    return used is not None


async def delete_earn_rule(
    ctx: LoyaltyContext, p: Principal, req: pb.DeleteRuleRequest
) -> pb.DeleteRuleResponse:
    """Delete an earn rule no purchase or points entry names (they name the rules that earned,
    with ``:member_day``/``:birthday_month`` for a multiplier); else a conflict: deactivate it."""
    access.require(p, access.HQ, "change earn rules")
    async with ctx.db.transaction() as session:
        row = await own_rule(session, p, earn_rules, req.id, "earn rule", lock=True)
        if await earn_rule_used(session, row.name):
            raise Conflict(f"earn rule {row.name} has earned points already: deactivate it instead")
        await session.execute(delete(earn_rules).where(earn_rules.c.id == row.id))
    return pb.DeleteRuleResponse(id=str(row.id), name=row.name, scope=row.scope)


async def delete_promotion(
    ctx: LoyaltyContext, p: Principal, req: pb.DeleteRuleRequest
) -> pb.DeleteRuleResponse:
    """Delete a promotion no purchase since its creation took a discount from; a purchase
    keeps its quote with the promotion's name, so a used promotion is a conflict: deactivate it."""
    access.require(p, access.HQ, "change promotions")
    async with ctx.db.transaction() as session:
        row = await own_rule(session, p, promotions, req.id, "promotion", lock=True)
        if await promotion_used(session, row):
            raise Conflict(f"promotion {row.name} has discounted purchases already: deactivate it instead")
        await session.execute(delete(promotions).where(promotions.c.id == row.id))
    return pb.DeleteRuleResponse(id=str(row.id), name=row.name, scope=row.scope)
