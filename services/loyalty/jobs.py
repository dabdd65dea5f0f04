"""Scheduled jobs of the loyalty process: expired reservations, points expiry and the
expiring announcements (points and coupons, in ``expiry.py``), the tier review, birthday coupons. Each is a
plain ``async (ctx, now)`` function (tests call them with a chosen ``now``); ``run_jobs`` runs
them periodically.

Two replicas may run them at once: rows are claimed ``FOR UPDATE SKIP LOCKED`` (a row one
replica works on is skipped by the other) and every effect is re-checked under its lock, so a
job never does twice what it did once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime

import grpc
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import loyalty_pb2 as ev
from chainclub.wallet.v1 import wallet_pb2, wallet_pb2_grpc
from kit import grpcclient
from kit.auth import KeySet
from kit.config import Settings
from kit.grpcclient import ServiceToken
from services.loyalty import campaigns, checkout, domain
from services.loyalty.context import LoyaltyContext
from services.loyalty.expiry import announce_expiring, announce_expiring_coupons, expire_points
from services.loyalty.journal import ts
from services.loyalty.models import points_accounts, reservations
from services.loyalty.pricing import all_tiers

log = logging.getLogger("loyalty.jobs")

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
            metadata=grpcclient.metadata(self.token.get()),
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
    current = next(t for t in tiers if t.code == account.tier)
    if domain.keeps(current, spend, earned):
        return 0
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


async def run_jobs(ctx: LoyaltyContext) -> None:
    """Background job of the loyalty process: the reservation job every
    ``loyalty_jobs_interval_seconds``, the date jobs once a day (and at start)."""
    last_day: date | None = None
    while True:
        now = ctx.now()
        today = ctx.local_date(now)
        await run_all(ctx, now, daily=today != last_day)
        last_day = today
        await asyncio.sleep(ctx.settings.loyalty_jobs_interval_seconds)


__all__ = [
    "WalletClient",
    "birthday_coupons",
    "expire_reservations",
    "review_tiers",
    "run_all",
    "run_jobs",
]
