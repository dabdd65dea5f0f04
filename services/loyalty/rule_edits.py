"""Editing loyalty rules in place: an earn rule, a coupon template or a promotion keeps its id
and takes the values of the fields named in the request; the others keep theirs. The result is
checked exactly as creating it is (``admin.check_*``, ``coupons.check_template``), by HQ within
the rule's scope (another scope's rule is not found).

Two things history relies on stay fixed once used: a coupon template's face value after coupons
of it were issued (a member's coupon is worth what its template says at checkout), and the name
of an earn rule or promotion that purchases have named (deleting it finds its history by that
name). Quotes read the rules on every call, so an edit applies to the next quote."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.message import Message
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import Conflict, InvalidArgument
from services.loyalty import access, admin, coupons
from services.loyalty.context import LoyaltyContext
from services.loyalty.models import coupon_templates, earn_rules, promotions
from services.loyalty.models import coupons as coupons_table

FIXED = frozenset({"id", "issued", "created_at"})
FACE_VALUE = ("kind", "amount_off", "percent_off_bps", "gift_sku")


def merged(current: Message, given: Message, fields: Iterable[str]) -> Message:
    """``current`` with the named ``fields`` taken from ``given`` (an unknown or fixed name is
    refused; an unset timestamp given clears it)."""
    names = list(dict.fromkeys(fields))
    if not names:
        raise InvalidArgument("name at least one field to change", field="fields")
    known = {f.name for f in current.DESCRIPTOR.fields} - FIXED
    out = type(current)()
    out.CopyFrom(current)
    for name in names:
        if name not in known:
            raise InvalidArgument(f"{name!r} is not a field that can change", field="fields")
        field = current.DESCRIPTOR.fields_by_name[name]
        if field.message_type is not None:
            if given.HasField(name):
                getattr(out, name).CopyFrom(getattr(given, name))
            else:
                out.ClearField(name)
        else:
            setattr(out, name, getattr(given, name))
    return out


async def _store(session: AsyncSession, table: Table, row, values: dict):  # type: ignore[no-untyped-def]
    return (
        await session.execute(update(table).where(table.c.id == row.id).values(**values).returning(*table.c))
    ).one()


async def update_earn_rule(ctx: LoyaltyContext, p: Principal, req: pb.UpdateEarnRuleRequest) -> pb.EarnRule:
    access.require(p, access.HQ, "change earn rules")
    async with ctx.db.transaction() as session:
        row = await admin.own_rule(session, p, earn_rules, req.rule.id, "earn rule", lock=True)
        rule = merged(admin.earn_rule_pb(row), req.rule, req.fields)
        values = admin.earn_rule_values(rule, admin.check_earn_rule(p, rule))  # type: ignore[arg-type]
        if values["name"] != row.name and await admin.earn_rule_used(session, row.name):
            raise Conflict(
                f"earn rule {row.name} has earned points already: its name stays (history names it)",
                field="name",
            )
        return admin.earn_rule_pb(await _store(session, earn_rules, row, values))


async def update_promotion(ctx: LoyaltyContext, p: Principal, req: pb.UpdatePromotionRequest) -> pb.Promotion:
    access.require(p, access.HQ, "change promotions")
    async with ctx.db.transaction() as session:
        row = await admin.own_rule(session, p, promotions, req.promotion.id, "promotion", lock=True)
        promo = merged(admin.promotion_pb(row), req.promotion, req.fields)
        values = admin.promotion_values(promo, admin.check_promotion(p, promo))  # type: ignore[arg-type]
        if values["name"] != row.name and await admin.promotion_used(session, row):
            raise Conflict(
                f"promotion {row.name} has discounted purchases already: its name stays (history names it)",
                field="name",
            )
        return admin.promotion_pb(await _store(session, promotions, row, values))


async def update_coupon_template(
    ctx: LoyaltyContext, p: Principal, req: pb.UpdateCouponTemplateRequest
) -> pb.CouponTemplate:
    access.require(p, access.HQ, "change coupon templates")
    async with ctx.db.transaction() as session:
        row = await admin.own_rule(
            session, p, coupon_templates, req.template.id, "coupon template", lock=True
        )
        tpl = merged(coupons.template_pb(row), req.template, req.fields)
        values = coupons.template_values(tpl, coupons.check_template(p, tpl))  # type: ignore[arg-type]
        values["active"] = tpl.active  # type: ignore[attr-defined]
        changed = [name for name in FACE_VALUE if values[name] != getattr(row, name)]
        if changed and await _issued_any(session, row):
            raise Conflict(
                f"coupons of {row.name} were issued already: its face value ({', '.join(changed)}) "
                "cannot change; make a new template instead",
                field=changed[0],
            )
        if values["total_quantity"] and values["total_quantity"] < row.issued:
            raise InvalidArgument(
                f"total_quantity cannot be below the {row.issued} coupons issued already",
                field="total_quantity",
            )
        return coupons.template_pb(await _store(session, coupon_templates, row, values))


async def _issued_any(session: AsyncSession, row) -> bool:  # type: ignore[no-untyped-def]
    """Whether a coupon of the template exists (its row is locked: no issue runs meanwhile)."""
    if row.issued:
        return True
    found = await session.execute(
        select(coupons_table.c.code).where(coupons_table.c.template_id == row.id).limit(1)
    )
    return found.first() is not None
