"""HQ's referral rule (推荐有礼): what a referrer and the member it brought get when that member
registers. One rule for the chain, kept in one row; no row reads as an inactive rule. The
grant itself is ``campaigns.reward_referral_signup``, run by the registration consumer."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument
from services.loyalty import access
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import ts
from services.loyalty.models import coupon_templates, referral_rule

MAX_POINTS = 10**9
TEMPLATE_FIELDS = ("referrer_coupon_template_id", "referee_coupon_template_id")


def rule_pb(r) -> pb.ReferralRule:  # type: ignore[no-untyped-def]
    if r is None:
        return pb.ReferralRule()
    return pb.ReferralRule(
        active=r.active, referrer_points=r.referrer_points, referrer_coupon_template_id=r.referrer_coupon_template_id,
        referee_coupon_template_id=r.referee_coupon_template_id, updated_at=ts(r.updated_at),
    )  # fmt: skip


async def get_rule(ctx: LoyaltyContext, p: Principal) -> pb.ReferralRule:
    access.require(p, access.READERS, "read the referral rule")
    async with ctx.db.transaction() as session:
        row = (await session.execute(select(referral_rule).where(referral_rule.c.id == 1))).first()
    return rule_pb(row)


async def check_templates(session, req: pb.ReferralRule) -> None:  # type: ignore[no-untyped-def]
    """A template the rule names must exist (it may be stopped later: then nothing is issued)."""
    for field in TEMPLATE_FIELDS:
        value = getattr(req, field)
        if not value:
            continue
        try:
            tpl_id = uuid.UUID(value)
        except ValueError:
            raise InvalidArgument(f"{field} is not a coupon template id", field=field) from None
        found = (
            await session.execute(select(coupon_templates.c.id).where(coupon_templates.c.id == tpl_id))
        ).first()
        if found is None:
            raise InvalidArgument(f"no coupon template {value}", field=field)


async def set_rule(ctx: LoyaltyContext, p: Principal, req: pb.ReferralRule) -> pb.ReferralRule:
    """Replace the rule. An active rule must give something: points or a coupon."""
    access.require(p, access.HQ, "change the referral rule")
    if not 0 <= req.referrer_points <= MAX_POINTS:
        raise InvalidArgument(f"referrer_points must be between 0 and {MAX_POINTS}", field="referrer_points")
    if req.active and not (
        req.referrer_points or req.referrer_coupon_template_id or req.referee_coupon_template_id
    ):
        raise InvalidArgument("an active referral rule must give points or a coupon", field="referrer_points")
    values = dict(
        active=req.active, referrer_points=req.referrer_points,
        referrer_coupon_template_id=req.referrer_coupon_template_id,
        referee_coupon_template_id=req.referee_coupon_template_id, updated_at=ctx.now(),
    )  # fmt: skip
    async with ctx.db.transaction() as session:
        await check_templates(session, req)
        row = (
            await session.execute(
                insert(referral_rule)
                .values(id=1, **values)
                .on_conflict_do_update(index_elements=[referral_rule.c.id], set_=values)
                .returning(*referral_rule.c)
            )
        ).one()
    return rule_pb(row)
