"""Rewards that campaigns hand out: the referrer's reward on a referee's first purchase, the
tier-upgrade coupon, birthday coupons. Each grant is recorded in ``campaign_grants`` under a
key of its own, so a replay, a redelivery or a concurrent twin grants nothing twice."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty import coupons, points
from services.loyalty.context import LoyaltyContext
from services.loyalty.models import campaign_grants, coupon_templates, tiers


async def grant_once(
    session: AsyncSession, campaign: str, member_no: str, period: str, reference: str, now: datetime
) -> bool:
    """Claim the grant (campaign, member, period); False when it was granted before."""
    claimed = await session.execute(
        insert(campaign_grants)
        .values(campaign=campaign, member_no=member_no, period=period, reference=reference, created_at=now)
        .on_conflict_do_nothing()
        .returning(campaign_grants.c.member_no)
    )
    return claimed.first() is not None


async def reward_referral(
    ctx: LoyaltyContext,
    session: AsyncSession,
    referee,  # type: ignore[no-untyped-def]  # the referee's points account, locked by the caller
    checkout_id: str,
    now: datetime,
) -> bool:
    """On the referee's confirmed purchase: reward the referrer once (points per
    ``loyalty_referral_points`` and every active "referral" coupon template). The referee's
    account lock serialises concurrent confirms; the grant's key makes it once for ever."""
    referrer = referee.referrer_member_no
    if not referrer or referrer == referee.member_no:
        return False
    if not await grant_once(session, "referral", referee.member_no, "", checkout_id, now):
        return False
    account = await points.ensure_account(session, referrer)
    reference = f"referral:{referee.member_no}"
    if ctx.settings.loyalty_referral_points:
        await points.add_lot(
            ctx, session, account, ctx.settings.loyalty_referral_points, source="referral", reference=reference,
            now=now, rules=["referral"],
        )  # fmt: skip
    await coupons.issue_campaign(ctx, session, "referral", referrer, account.home_store_path, reference)
    return True


async def tier_upgrade_coupons(
    ctx: LoyaltyContext, session: AsyncSession, member_no: str, home: str, tier: str
) -> list[str]:
    """Every active "tier_upgrade" template, to a member just upgraded (account locked)."""
    return await coupons.issue_campaign(ctx, session, "tier_upgrade", member_no, home, f"tier:{tier}")


def birthday_suffixes(today: date) -> list[str]:
    """The ``-MM-DD`` ends of the birthdays celebrated ``today``; 29 February is celebrated on
    the 28th in a common year."""
    out = [today.strftime("-%m-%d")]
    if today.month == 2 and today.day == 28:
        try:
            date(today.year, 2, 29)
        except ValueError:
            out.append("-02-29")
    return out


async def birthday_gifts(
    ctx: LoyaltyContext, session: AsyncSession, member_no: str, today: date, now: datetime
) -> list[str] | None:
    """This year's birthday coupons for one member: every active "birthday" template and the
    tier's birthday gift template. None when they were given already this year."""
    account = await points.ensure_account(session, member_no)
    if not await grant_once(session, "birthday", member_no, str(today.year), "", now):
        return None
    reference = f"birthday:{today.year}"
    codes = await coupons.issue_campaign(
        ctx, session, "birthday", member_no, account.home_store_path, reference
    )
    gift = (
        await session.execute(select(tiers.c.birthday_gift_template_id).where(tiers.c.code == account.tier))
    ).scalar_one_or_none()
    try:
        gift_id = uuid.UUID(gift) if gift else None
    except ValueError:
        gift_id = None
    if gift_id is not None:
        tpl = (
            await session.execute(
                select(coupon_templates).where(
                    coupon_templates.c.id == gift_id,
                    coupon_templates.c.active,
                    coupon_templates.c.campaign != "birthday",
                )
            )
        ).first()
        if tpl is not None and (tpl.valid_until is None or tpl.valid_until > now):
            code = await coupons.issue_one(
                ctx, session, tpl, member_no, account.home_store_path, reference, now
            )
            if code:
                codes.append(code)
    return codes
