"""Rewards that campaigns hand out: the referrer's reward on a referee's first purchase, HQ's
referral rule on a referee's registration, the tier-upgrade coupon, birthday coupons and the
tier's birthday points. Each grant is recorded in ``campaign_grants`` under a
key of its own, so a replay, a redelivery or a concurrent twin grants nothing twice."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import loyalty_pb2 as ev
from services.loyalty import coupons, points
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import ts
from services.loyalty.models import campaign_grants, coupon_templates, points_accounts, referral_rule, tiers


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


async def upgrade_tier(
    ctx: LoyaltyContext,
    session: AsyncSession,
    member_no: str,
    current: str,
    target: str,
    home: str,
    now: datetime,
) -> str:
    """Move a member (account locked) up to ``target`` at once: the account's tier, the
    ``loyalty.tier.changed`` event and the "tier_upgrade" campaign's coupons. Returns ``target``."""
    await session.execute(
        update(points_accounts).where(points_accounts.c.member_no == member_no).values(tier=target)
    )
    await ctx.emit(
        session,
        "loyalty.tier.changed",
        ev.TierChanged(
            member_no=member_no, from_tier=current, to_tier=target, home_store_path=home, at=ts(now)
        ),
        home,
    )
    await tier_upgrade_coupons(ctx, session, member_no, home, target)
    return target


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
    tier = (
        await session.execute(
            select(tiers.c.birthday_gift_template_id, tiers.c.birthday_points).where(
                tiers.c.code == account.tier
            )
        )
    ).first()
    if tier is None:
        return codes
    if tier.birthday_points > 0:
        await points.add_lot(
            ctx, session, account, tier.birthday_points, source="birthday", reference=reference,
            now=now, rules=[f"birthday:{account.tier}"],
        )  # fmt: skip
    # A template of the "birthday" campaign was issued above already.
    code = await issue_template(
        ctx, session, tier.birthday_gift_template_id, member_no, account.home_store_path, reference, now,
        not_campaign="birthday",
    )  # fmt: skip
    if code:
        codes.append(code)
    return codes


async def issue_template(
    ctx: LoyaltyContext,
    session: AsyncSession,
    template_id: str,
    member_no: str,
    home: str,
    reference: str,
    now: datetime,
    *,
    not_campaign: str = "",
) -> str | None:
    """One coupon of the template a rule names, when it is still active and valid (a rule
    may outlive its template's run): None otherwise or when a limit says no. The member's
    points account is locked by the caller."""
    try:
        tpl_id = uuid.UUID(template_id) if template_id else None
    except ValueError:
        return None
    if tpl_id is None:
        return None
    query = select(coupon_templates).where(coupon_templates.c.id == tpl_id, coupon_templates.c.active)
    if not_campaign:
        query = query.where(coupon_templates.c.campaign != not_campaign)
    tpl = (await session.execute(query)).first()
    if tpl is None or (tpl.valid_until is not None and tpl.valid_until <= now):
        return None
    return await coupons.issue_one(ctx, session, tpl, member_no, home, reference, now)


async def reward_referral_signup(
    ctx: LoyaltyContext, session: AsyncSession, referee: str, referrer: str, home: str, now: datetime
) -> bool:
    """HQ's referral rule, when a member registers with a referrer: points and/or a coupon to
    the referrer, a coupon to the new member. Once per new member (a redelivered or replayed
    registration finds the grant); an inactive or missing rule grants nothing."""
    if not referrer or referrer == referee:
        return False
    rule = (await session.execute(select(referral_rule).where(referral_rule.c.id == 1))).first()
    if rule is None or not rule.active:
        return False
    if not await grant_once(session, "referral_signup", referee, "", f"referee:{referee}", now):
        return False
    # Accounts are locked in member-number order, so two registrations naming each other
    # cannot deadlock.
    for member_no in sorted({referee, referrer}):
        await points.ensure_account(session, member_no, home if member_no == referee else "")
    referrer_account = await points.ensure_account(session, referrer)
    reference = f"referral_signup:{referee}"
    if rule.referrer_points:
        await points.add_lot(
            ctx, session, referrer_account, rule.referrer_points, source="referral", reference=reference,
            now=now, rules=["referral_signup"],
        )  # fmt: skip
    await issue_template(
        ctx,
        session,
        rule.referrer_coupon_template_id,
        referrer,
        referrer_account.home_store_path,
        reference,
        now,
    )
    await issue_template(ctx, session, rule.referee_coupon_template_id, referee, home, reference, now)
    return True
