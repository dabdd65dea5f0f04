"""Scheduled jobs of the loyalty process: expired reservations, points expiry and the
expiring announcements (points and coupons), the tier review, birthday coupons. Each is a
plain ``async (ctx, now)`` function (tests call them with a chosen ``now``); ``run_jobs`` runs
them periodically.

Two replicas may run them at once: rows are claimed ``FOR UPDATE SKIP LOCKED`` (a row one
replica works on is skipped by the other) and every effect is re-checked under its lock, so a
job never does twice what it did once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

import grpc
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import loyalty_pb2 as ev
from chainclub.wallet.v1 import wallet_pb2, wallet_pb2_grpc
from kit import grpcclient
from kit.auth import KeySet
from kit.config import Settings
from kit.grpcclient import ServiceToken
from kit.runtime import Runtime
from services.loyalty import campaigns, checkout, domain, points
from services.loyalty.consumers import context_for
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import ts
from services.loyalty.models import coupon_templates, coupons, points_accounts, points_lots, reservations
from services.loyalty.pricing import all_tiers

log = logging.getLogger("loyalty.jobs")

EXPIRING_NOTICE_DAYS = 30

# checkout id -> what wallet captured under that request id (Payment.found = False: nothing)
PaymentLookup = Callable[[str], Awaitable[wallet_pb2.Payment]]


class WalletClient:
    """Asks wallet about payments with a short-lived service token of loyalty's own."""

    CLAIMS = {"sub": "loyalty-jobs", "role": "service", "scope": "HQ"}

    def __init__(self, settings: Settings, keys: KeySet) -> None:
        self.token = ServiceToken(keys, self.CLAIMS)
        self.channel = grpcclient.channel(settings.wallet_addr)
        self.stub = wallet_pb2_grpc.WalletServiceStub(self.channel)

    @classmethod
    def from_settings(cls, settings: Settings) -> WalletClient | None:
        """None when this process cannot sign tokens (in production a service may hold only
        the public keys): the reservation job then has to be skipped."""
        try:
            keys = KeySet.from_settings(settings)
            keys.sign(cls.CLAIMS, 60)
        except Exception as exc:  # no keys, or public keys only
            log.warning(
                "loyalty jobs cannot sign a service token (%s): expired reservations are left alone", exc
            )
            return None
        return cls(settings, keys)

    async def __call__(self, checkout_id: str) -> wallet_pb2.Payment:
        return await self.stub.GetPayment(
            wallet_pb2.GetPaymentRequest(request_id=checkout_id),
            metadata=(("authorization", f"Bearer {self.token.get()}"),),
            timeout=10,
        )

    async def close(self) -> None:
        await self.channel.close()


# ---------------------------------------------------------------------------------------
# (a) expired reservations


async def expire_reservations(
    ctx: LoyaltyContext, now: datetime, wallet: PaymentLookup | None = None, *, batch: int = 200
) -> dict[str, int]:
    """Settle pending reservations past ``expires_at``: if wallet captured a payment under the
    checkout id (and did not refund it all), the purchase stands and is confirmed; otherwise
    the points and the coupon are released (status ``expired``). A reservation whose wallet
    lookup fails is left pending for the next run."""
    counts = {"expired": 0, "confirmed": 0, "failed": 0}
    own = wallet is None
    client = WalletClient.from_settings(ctx.settings) if own else None
    if own and client is None:
        return counts
    lookup: PaymentLookup = wallet or client  # type: ignore[assignment]
    skip: list[str] = []
    try:
        while sum(counts.values()) < batch:
            async with ctx.db.transaction() as session:
                query = (
                    select(reservations)
                    .where(reservations.c.status == "pending", reservations.c.expires_at < now)
                    .order_by(reservations.c.expires_at)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if skip:
                    query = query.where(reservations.c.checkout_id.not_in(skip))
                row = (await session.execute(query)).first()
                if row is None:
                    break
                try:
                    payment = await lookup(row.checkout_id)
                except grpc.aio.AioRpcError as exc:
                    log.warning(
                        "wallet unavailable (%s): expired reservations wait for the next run", exc.code()
                    )
                    break
                try:
                    async with session.begin_nested():
                        outcome = await _settle(ctx, session, row, payment, now)
                except Exception:
                    log.exception("expired reservation %s left pending", row.checkout_id)
                    skip.append(row.checkout_id)
                    counts["failed"] += 1
                    continue
                counts[outcome] += 1
    finally:
        if client is not None:
            await client.close()
    return counts


async def _settle(
    ctx: LoyaltyContext, session: AsyncSession, row, payment: wallet_pb2.Payment, now: datetime
) -> str:  # type: ignore[no-untyped-def]
    taken = payment.transaction.amount - payment.refunded if payment.found else 0
    if taken > 0 and row.quote:
        due = checkout.pb.PriceQuote.FromString(row.quote).total_due
        tenders = []
        if payment.transaction.amount == due:
            tenders = [
                {"method": "stored_value", "amount": due, "reference": payment.transaction.transaction_id}
            ]
        await checkout.confirm_locked(ctx, session, row, tenders, recovery=True)
        log.warning("expired reservation %s was paid for: confirmed", row.checkout_id)
        return "confirmed"
    await checkout.release_locked(session, row, "expired", now)
    return "expired"


# ---------------------------------------------------------------------------------------
# (b) points expiry and the expiring announcement


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


# ---------------------------------------------------------------------------------------
# (c) tier review


async def review_tiers(ctx: LoyaltyContext, now: datetime, *, batch: int = 1000) -> int:
    """Move down the members whose rolling 12-month spend and points no longer reach their
    tier (to the highest tier they still reach); upgrades happen at confirm, not here."""
    async with ctx.db.transaction() as session:
        tiers = await all_tiers(session)
    if not tiers:
        return 0
    ranks = {t.code: t.rank for t in tiers}
    entry = min(tiers, key=lambda t: t.rank).code
    moved = 0
    after = ""
    while True:
        async with ctx.db.transaction() as session:
            members = (
                (
                    await session.execute(
                        select(points_accounts.c.member_no)
                        .where(points_accounts.c.tier != entry, points_accounts.c.member_no > after)
                        .order_by(points_accounts.c.member_no)
                        .limit(batch)
                    )
                )
                .scalars()
                .all()
            )
        if not members:
            return moved
        after = members[-1]
        for member_no in members:
            try:
                async with ctx.db.transaction() as session:
                    moved += await _review_member(ctx, session, member_no, tiers, ranks, now)
            except Exception:
                log.exception("tier review of member %s failed; next run", member_no)


async def _review_member(ctx, session, member_no, tiers, ranks, now) -> int:  # type: ignore[no-untyped-def]
    account = (
        await session.execute(
            select(points_accounts)
            .where(points_accounts.c.member_no == member_no)
            .with_for_update(skip_locked=True)
        )
    ).first()
    if account is None or account.tier not in ranks:
        return 0
    spend, earned = await checkout.rolling_12m(session, member_no, now)
    reached = domain.tier_reached(tiers, spend, earned)
    if reached is None or reached.rank >= ranks[account.tier]:
        return 0
    await session.execute(
        update(points_accounts)
        .where(points_accounts.c.member_no == member_no)
        .values(tier=reached.code, updated_at=now)
    )
    home = account.home_store_path
    await ctx.emit(
        session,
        "loyalty.tier.changed",
        ev.TierChanged(
            member_no=member_no,
            from_tier=account.tier,
            to_tier=reached.code,
            home_store_path=home,
            at=ts(now),
        ),
        home,
    )
    return 1


# ---------------------------------------------------------------------------------------
# birthday coupons


async def birthday_coupons(ctx: LoyaltyContext, now: datetime) -> int:
    """Give the members whose birthday is today (the chain's calendar) their birthday coupons,
    once a year each. Returns the number of members who received something new."""
    today = ctx.local_date(now)
    suffixes = campaigns.birthday_suffixes(today)
    async with ctx.db.transaction() as session:
        members = (
            (
                await session.execute(
                    select(points_accounts.c.member_no)
                    .where(func.length(points_accounts.c.birthday) == 10)
                    .where(func.substr(points_accounts.c.birthday, 5).in_(suffixes))
                    .order_by(points_accounts.c.member_no)
                )
            )
            .scalars()
            .all()
        )
    given = 0
    for member_no in members:
        try:
            async with ctx.db.transaction() as session:
                if await campaigns.birthday_gifts(ctx, session, member_no, today, now) is not None:
                    given += 1
        except Exception:
            log.exception("birthday coupons of member %s failed; next run", member_no)
    return given


# ---------------------------------------------------------------------------------------
# the schedule


Job = Callable[[LoyaltyContext, datetime], Awaitable[object]]
# Every run: reservations hold points and coupons for minutes.
FREQUENT: tuple[tuple[str, Job], ...] = (("expire_reservations", expire_reservations),)
# Once per calendar day of the chain (and at start): they work on dates.
DAILY: tuple[tuple[str, Job], ...] = (
    ("expire_points", expire_points),
    ("announce_expiring", announce_expiring),
    ("announce_expiring_coupons", announce_expiring_coupons),
    ("review_tiers", review_tiers),
    ("birthday_coupons", birthday_coupons),
)


async def run_all(ctx: LoyaltyContext, now: datetime, *, daily: bool = True) -> None:
    for name, job in FREQUENT + (DAILY if daily else ()):
        try:
            result = await job(ctx, now)
            log.debug("loyalty job %s: %s", name, result)
        except Exception:
            log.exception("loyalty job %s failed; next run as scheduled", name)


async def run_jobs(rt: Runtime) -> None:
    """Background job of the loyalty process: the reservation job every
    ``loyalty_jobs_interval_seconds``, the date jobs once a day (and at start)."""
    ctx = context_for(rt)
    last_day: date | None = None
    while True:
        now = ctx.now()
        today = ctx.local_date(now)
        await run_all(ctx, now, daily=today != last_day)
        last_day = today
        await asyncio.sleep(rt.settings.loyalty_jobs_interval_seconds)


__all__ = [
    "WalletClient",
    "announce_expiring",
    "announce_expiring_coupons",
    "birthday_coupons",
    "expire_points",
    "expire_reservations",
    "review_tiers",
    "run_all",
    "run_jobs",
]
