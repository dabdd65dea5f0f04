"""Points and coupons running out: expire what is left in lots past their day, and announce
points (``loyalty.points.expiring``) and unused coupons (``loyalty.coupon.expiring``) ahead of
it, once each. Plain ``async (ctx, now)`` jobs run by ``services.loyalty.jobs``; rows are
claimed ``FOR UPDATE SKIP LOCKED`` so two replicas never do one thing twice."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import loyalty_pb2 as ev
from services.loyalty import points
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import ts
from services.loyalty.models import coupon_templates, coupons, points_accounts, points_lots

log = logging.getLogger("loyalty.jobs")

EXPIRING_NOTICE_DAYS = 30


async def expire_points(ctx: LoyaltyContext, now: datetime, *, batch: int = 500) -> int:
    """Expire what is left in lots past ``expires_on`` (a lot is good through that day):
    balance down, a history entry and ``loyalty.points.expired`` per lot. Points held by a
    pending checkout are not taken from under it (they go at its end, or the next run)."""
    today = ctx.local_date(now)
    async with ctx.db.transaction() as session:
        members = (
            (
                await session.execute(
                    select(points_lots.c.member_no)
                    .where(points_lots.c.remaining > 0, points_lots.c.expires_on < today)
                    .group_by(points_lots.c.member_no)
                    .order_by(points_lots.c.member_no)
                    .limit(batch)
                )
            )
            .scalars()
            .all()
        )
    total = 0
    for member_no in members:
        try:
            async with ctx.db.transaction() as session:
                total += await _expire_member(ctx, session, member_no, today, now)
        except Exception:
            log.exception("points expiry of member %s failed; next run", member_no)
    return total


async def _expire_member(
    ctx: LoyaltyContext, session: AsyncSession, member_no: str, today: date, now: datetime
) -> int:
    account = (
        await session.execute(
            select(points_accounts)
            .where(points_accounts.c.member_no == member_no)
            .with_for_update(skip_locked=True)
        )
    ).first()
    if account is None:  # another replica (or a checkout) has it: next run
        return 0
    lots = (
        await session.execute(
            select(points_lots.c.id, points_lots.c.remaining, points_lots.c.expires_on)
            .where(
                points_lots.c.member_no == member_no,
                points_lots.c.remaining > 0,
                points_lots.c.expires_on < today,
            )
            .order_by(points_lots.c.expires_on, points_lots.c.id)
            .with_for_update()
        )
    ).all()
    free = account.balance - account.reserved
    done = 0
    balance = account.balance
    for lot in lots:
        n = min(lot.remaining, free - done)
        if n <= 0:
            break
        await session.execute(
            update(points_lots)
            .where(points_lots.c.id == lot.id)
            .values(remaining=points_lots.c.remaining - n)
        )
        balance = (
            await session.execute(
                update(points_accounts)
                .where(points_accounts.c.member_no == member_no)
                .values(balance=points_accounts.c.balance - n, updated_at=now)
                .returning(points_accounts.c.balance)
            )
        ).scalar_one()
        reference = f"lot:{lot.id}"
        await points.entry(session, member_no, "expire", -n, reference, now)
        await ctx.emit(
            session,
            "loyalty.points.expired",
            ev.PointsChanged(
                member_no=member_no, kind="expire", points=n, balance=balance, reference=reference,
                expires_on=lot.expires_on.isoformat(), home_store_path=account.home_store_path, at=ts(now),
            ),
            account.home_store_path,
        )  # fmt: skip
        done += n
    return done


async def announce_expiring(
    ctx: LoyaltyContext, now: datetime, *, days: int = EXPIRING_NOTICE_DAYS, batch: int = 500
) -> int:
    """Announce once per lot (``loyalty.points.expiring``) the points expiring within ``days``."""
    today = ctx.local_date(now)
    announced = 0
    while True:
        async with ctx.db.transaction() as session:
            claim = (
                select(points_lots.c.id)
                .where(
                    points_lots.c.remaining > 0,
                    points_lots.c.expiring_announced.is_(False),
                    points_lots.c.expires_on >= today,
                    points_lots.c.expires_on <= today + timedelta(days=days),
                )
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
            rows = (
                await session.execute(
                    update(points_lots)
                    .where(points_lots.c.id.in_(claim.scalar_subquery()))
                    .values(expiring_announced=True)
                    .returning(
                        points_lots.c.id,
                        points_lots.c.member_no,
                        points_lots.c.remaining,
                        points_lots.c.expires_on,
                    )
                )
            ).all()
            if not rows:
                return announced
            accounts = {
                a.member_no: a
                for a in (
                    await session.execute(
                        select(
                            points_accounts.c.member_no,
                            points_accounts.c.balance,
                            points_accounts.c.home_store_path,
                        ).where(points_accounts.c.member_no.in_({r.member_no for r in rows}))
                    )
                ).all()
            }
            for r in rows:
                a = accounts.get(r.member_no)
                home = a.home_store_path if a else ""
                await ctx.emit(
                    session,
                    "loyalty.points.expiring",
                    ev.PointsChanged(
                        member_no=r.member_no, kind="expiring", points=r.remaining, balance=a.balance if a else 0,
                        reference=f"lot:{r.id}", expires_on=r.expires_on.isoformat(), home_store_path=home, at=ts(now),
                    ),
                    home,
                )  # fmt: skip
            announced += len(rows)


async def announce_expiring_coupons(ctx: LoyaltyContext, now: datetime, *, batch: int = 500) -> int:
    """Announce once per coupon (``loyalty.coupon.expiring``) the unused coupons that run out
    within ``loyalty_coupon_expiring_days``; the flag is set in the claiming statement, so two
    replicas never announce one coupon twice."""
    horizon = now + timedelta(days=ctx.settings.loyalty_coupon_expiring_days)
    announced = 0
    while True:
        async with ctx.db.transaction() as session:
            claim = (
                select(coupons.c.code)
                .where(
                    coupons.c.status == "available",
                    coupons.c.expiring_announced.is_(False),
                    coupons.c.valid_until > now,
                    coupons.c.valid_until <= horizon,
                )
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
            rows = (
                await session.execute(
                    update(coupons)
                    .where(coupons.c.code.in_(claim.scalar_subquery()))
                    .values(expiring_announced=True, updated_at=now)
                    .returning(
                        coupons.c.code, coupons.c.member_no, coupons.c.template_id, coupons.c.valid_until
                    )
                )
            ).all()
            if not rows:
                return announced
            names = {
                t.id: t
                for t in (
                    await session.execute(
                        select(coupon_templates.c.id, coupon_templates.c.name, coupon_templates.c.kind).where(
                            coupon_templates.c.id.in_({r.template_id for r in rows})
                        )
                    )
                ).all()
            }
            homes = dict(
                (
                    await session.execute(
                        select(points_accounts.c.member_no, points_accounts.c.home_store_path).where(
                            points_accounts.c.member_no.in_({r.member_no for r in rows})
                        )
                    )
                ).all()
            )
            for r in rows:
                home, tpl = homes.get(r.member_no, ""), names[r.template_id]
                await ctx.emit(
                    session,
                    "loyalty.coupon.expiring",
                    ev.CouponChanged(
                        member_no=r.member_no, code=r.code, template_id=str(r.template_id), name=tpl.name,
                        kind=tpl.kind, valid_until=ctx.local_date(r.valid_until).isoformat(), home_store_path=home,
                        at=ts(now),
                    ),
                    home,
                )  # fmt: skip
            announced += len(rows)
