"""A checkout's life in loyalty: reserve (hold points and the coupon), confirm (record the
purchase, spend the points, redeem the coupon, earn, upgrade the tier — one transaction),
cancel (release). Each is idempotent per checkout id."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import loyalty_pb2 as ev
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import ChainclubError, Conflict, InvalidArgument, NotFound
from services.loyalty import access, campaigns, domain, points, quick_checkout
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import ts
from services.loyalty.models import (
    coupon_templates,
    coupons,
    points_accounts,
    points_entries,
    purchases,
    reservations,
)
from services.loyalty.pricing import checkout_store, price_request, quote_pb

TENDER_METHODS = ("stored_value", "cash", "bank_card", "wechat_pay", "alipay")


def _check_checkout_id(checkout_id: str) -> None:
    if not checkout_id or len(checkout_id) > 100:
        raise InvalidArgument("checkout_id is required (at most 100 characters)", field="checkout_id")


def reservation_pb(row) -> pb.Reservation:  # type: ignore[no-untyped-def]
    return pb.Reservation(
        checkout_id=row.checkout_id,
        status=row.status,
        quote=pb.PriceQuote.FromString(row.quote),
        expires_at=ts(row.expires_at),
    )


async def reserve(ctx: LoyaltyContext, p: Principal, req: pb.ReserveRequest) -> pb.Reservation:
    access.require(p, access.CHECKOUT, "reserve")
    _check_checkout_id(req.checkout_id)
    store_path = checkout_store(p, req.quote.store_path)
    if req.ttl_seconds < 0:
        raise InvalidArgument("ttl_seconds must not be negative", field="ttl_seconds")
    now = ctx.now()
    expires_at = now + timedelta(seconds=req.ttl_seconds or ctx.settings.loyalty_reservation_ttl_seconds)
    request = req.quote.SerializeToString(deterministic=True)
    async with ctx.db.transaction() as session:
        # The primary key serialises two calls for one checkout: the second waits, then replays.
        claimed = await session.execute(
            insert(reservations)
            .values(
                checkout_id=req.checkout_id, status="pending", member_no=req.quote.member_no,
                card_no=req.quote.card_no, store_path=store_path, request=request, quote=b"", expires_at=expires_at,
                created_at=now, updated_at=now,
            )
            .on_conflict_do_nothing()
            .returning(reservations.c.checkout_id)
        )  # fmt: skip
        if claimed.first() is None:
            row = (
                await session.execute(
                    select(reservations).where(reservations.c.checkout_id == req.checkout_id)
                )
            ).one()
            if row.request not in (request, b""):
                raise domain.IdempotencyKeyReused("this checkout id was reserved for a different quote")
            return reservation_pb(row)
        account = None
        if req.quote.member_no:
            home = req.quote.member_home_store_path or store_path
            account = await points.ensure_account(session, req.quote.member_no, home)
        q = await price_request(ctx, session, req.quote, store_path, now, account=account)
        if q.points_used:
            # Under the account's row lock; the CHECK (reserved <= balance) backs this up.
            await session.execute(
                update(points_accounts)
                .where(points_accounts.c.member_no == req.quote.member_no)
                .values(reserved=points_accounts.c.reserved + q.points_used, updated_at=now)
            )
        if req.quote.coupon_code:
            held = await session.execute(
                update(coupons)
                .where(
                    coupons.c.code == req.quote.coupon_code,
                    coupons.c.member_no == req.quote.member_no,
                    coupons.c.status == "available",
                )
                .values(status="reserved", checkout_id=req.checkout_id, updated_at=now)
                .returning(coupons.c.code)
            )
            if held.first() is None:
                raise domain.CouponUnavailable(f"coupon {req.quote.coupon_code} was taken meanwhile")
        quote = quote_pb(q)
        row = (
            await session.execute(
                update(reservations)
                .where(reservations.c.checkout_id == req.checkout_id)
                .values(
                    quote=quote.SerializeToString(), points=q.points_used, coupon_code=req.quote.coupon_code
                )
                .returning(*reservations.c)
            )
        ).one()
        return reservation_pb(row)


async def purchase_pb(session: AsyncSession, row) -> pb.Purchase:  # type: ignore[no-untyped-def]
    balance = 0
    if row.member_no:
        balance = (
            await session.execute(
                select(points_accounts.c.balance).where(points_accounts.c.member_no == row.member_no)
            )
        ).scalar_one_or_none() or 0
    return pb.Purchase(
        checkout_id=row.checkout_id, member_no=row.member_no, card_no=row.card_no, store_path=row.store_path,
        status=row.status, quote=pb.PriceQuote.FromString(row.quote),
        tenders=[pb.Tender(**t) for t in row.tenders], points_earned=row.points_earned, points_balance=balance,
        tier=row.tier, refunded_amount=row.refunded_amount, created_at=ts(row.created_at),
    )  # fmt: skip


async def confirm(ctx: LoyaltyContext, p: Principal, req: pb.ConfirmRequest) -> pb.Purchase:
    access.require(p, access.CHECKOUT, "confirm")
    _check_checkout_id(req.checkout_id)
    tenders = []
    for t in req.tenders:
        if t.method not in TENDER_METHODS:
            raise InvalidArgument(
                f"tender method must be one of {', '.join(TENDER_METHODS)}", field="tenders"
            )
        if t.amount < 0:
            raise InvalidArgument("a tender amount must not be negative", field="tenders")
        tenders.append({"method": t.method, "amount": t.amount, "reference": t.reference})
    if req.HasField("quoted"):
        return await _confirm_quoted(ctx, p, req, tenders)
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                select(reservations).where(reservations.c.checkout_id == req.checkout_id).with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound(f"no reservation for checkout {req.checkout_id}")
        if not p.may_access(row.store_path):
            raise NotFound(f"no reservation for checkout {req.checkout_id}")
        return await confirm_locked(ctx, session, row, tenders, recovery=False)


async def _confirm_quoted(
    ctx: LoyaltyContext, p: Principal, req: pb.ConfirmRequest, tenders: list[dict]
) -> pb.Purchase:
    """A checkout that reserved nothing (quick_checkout); one known before is replayed, and a
    reserved one is confirmed as a reservation (a cancelled one refused)."""
    checkout_store(p, req.quoted.request.store_path)
    async with ctx.db.begin() as session:  # a Core connection: nothing here needs the ORM
        done = await quick_checkout.confirm_quoted(ctx, session, req.checkout_id, req.quoted, tenders)
        if done is not None:
            return done
        purchase, reservation = await quick_checkout.known(session, req.checkout_id)
        row = purchase if purchase is not None else reservation
        if not p.may_access(row.store_path):
            raise NotFound(f"no purchase for checkout {req.checkout_id}")
        if purchase is not None:
            return await purchase_pb(session, purchase)
        return await confirm_locked(ctx, session, reservation, tenders, recovery=False)


async def confirm_locked(
    ctx: LoyaltyContext,
    session: AsyncSession,
    row,  # type: ignore[no-untyped-def]  # the reservation, locked
    tenders: list[dict],
    *,
    recovery: bool,
) -> pb.Purchase:
    """Confirm a locked reservation inside the caller's transaction. A confirmed one replays
    its purchase; a cancelled one is a conflict (the recovery path also confirms a pending
    reservation whose TTL passed: the payment was taken, so the purchase stands)."""
    if row.status == "confirmed":
        done = (
            await session.execute(select(purchases).where(purchases.c.checkout_id == row.checkout_id))
        ).one()
        return await purchase_pb(session, done)
    if row.status != "pending" or not row.quote:
        raise Conflict(f"checkout {row.checkout_id} is {row.status}")
    quote = pb.PriceQuote.FromString(row.quote)
    if tenders and sum(t["amount"] for t in tenders) != quote.total_due:
        raise ChainclubError(
            f"tenders add up to {sum(t['amount'] for t in tenders)} fen, {quote.total_due} due",
            reason="payment_mismatch",
        )
    if not tenders and quote.total_due and recovery:
        tenders = [{"method": "stored_value", "amount": quote.total_due, "reference": ""}]
    now = ctx.now()
    member_no = row.member_no
    tier = ""
    first_at_store = False
    home = row.store_path
    if member_no:
        account = await points.ensure_account(session, member_no, row.store_path)
        home, tier = account.home_store_path or row.store_path, account.tier
        if row.points:
            balance = await points.take(session, member_no, row.points, now=now, unreserve=row.points)
            await points.entry(session, member_no, "redeem", -row.points, row.checkout_id, now)
            await ctx.emit(
                session,
                "loyalty.points.redeemed",
                ev.PointsChanged(
                    member_no=member_no, kind="redeem", points=row.points, balance=balance,
                    reference=row.checkout_id, home_store_path=home, at=ts(now),
                ),
                home,
            )  # fmt: skip
        if row.coupon_code:
            redeemed = (
                await session.execute(
                    update(coupons)
                    .where(
                        coupons.c.code == row.coupon_code,
                        coupons.c.checkout_id == row.checkout_id,
                        coupons.c.status == "reserved",
                    )
                    .values(status="redeemed", updated_at=now)
                    .returning(coupons.c.template_id, coupons.c.valid_until)
                )
            ).first()
            if redeemed is None:
                raise AssertionError("a pending reservation's coupon must be held by it")
            tpl = (
                await session.execute(
                    select(coupon_templates.c.name, coupon_templates.c.kind).where(
                        coupon_templates.c.id == redeemed.template_id
                    )
                )
            ).one()
            await ctx.emit(
                session,
                "loyalty.coupon.redeemed",
                ev.CouponChanged(
                    member_no=member_no, code=row.coupon_code, template_id=str(redeemed.template_id), name=tpl.name,
                    kind=tpl.kind,
                    valid_until=redeemed.valid_until.date().isoformat() if redeemed.valid_until else "",
                    home_store_path=home, at=ts(now),
                ),
                home,
            )  # fmt: skip
        first_at_store = (
            await session.execute(
                select(func.count())
                .select_from(purchases)
                .where(purchases.c.member_no == member_no, purchases.c.store_path == row.store_path)
            )
        ).scalar_one() == 0
    discount_total = sum(d.amount for d in quote.discounts if d.kind != "points")
    done = (
        await session.execute(
            purchases.insert().values(
                checkout_id=row.checkout_id, member_no=member_no, card_no=row.card_no, store_path=row.store_path,
                status="completed", quote=row.quote, tenders=tenders, subtotal=quote.subtotal,
                discount_total=discount_total, points_used=quote.points_used, points_value=quote.points_value,
                total_due=quote.total_due, points_earned=quote.points_to_earn, earn_rules=list(quote.earn_rules),
                coupon_code=row.coupon_code, tier=tier, created_at=now,
            ).returning(*purchases.c)
        )
    ).one()  # fmt: skip
    if member_no and quote.points_to_earn:  # ``account``: locked above, in this transaction
        await points.add_lot(
            ctx, session, account, quote.points_to_earn, source="earn", reference=row.checkout_id, now=now,
            rules=list(quote.earn_rules),
        )  # fmt: skip
    if member_no and account.referrer_member_no:
        await campaigns.reward_referral(ctx, session, account, row.checkout_id, now)
    if member_no:
        upgraded = await _maybe_upgrade(ctx, session, member_no, tier, home, now)
        if upgraded != tier:
            tier = upgraded
            done = (
                await session.execute(
                    update(purchases)
                    .where(purchases.c.checkout_id == row.checkout_id)
                    .values(tier=tier)
                    .returning(*purchases.c)
                )
            ).one()
    await session.execute(
        update(reservations)
        .where(reservations.c.checkout_id == row.checkout_id)
        .values(status="confirmed", updated_at=now)
    )
    await ctx.emit(
        session,
        "loyalty.purchase.recorded",
        ev.PurchaseRecorded(
            checkout_id=row.checkout_id, member_no=member_no, card_no=row.card_no, store_path=row.store_path,
            subtotal=quote.subtotal, total_due=quote.total_due, discount_total=discount_total,
            points_used=quote.points_used, points_earned=quote.points_to_earn,
            first_purchase_at_store=first_at_store, at=ts(now), home_store_path=home if member_no else "",
        ),
        row.store_path,
    )  # fmt: skip
    return await purchase_pb(session, done)


async def _maybe_upgrade(
    ctx: LoyaltyContext, session: AsyncSession, member_no: str, current: str, home: str, now: datetime
) -> str:
    """Upgrade at once when the rolling 12-month spend or points reach a higher tier."""
    spend, earned = await rolling_12m(session, member_no, now)
    config = await ctx.pricing.current(session)
    target = domain.upgrade_to(list(config.tiers), current, spend, earned)
    if target is None:
        return current
    return await campaigns.upgrade_tier(ctx, session, member_no, current, target.code, home, now)


async def rolling_12m(session: AsyncSession, member_no: str, now: datetime) -> tuple[int, int]:
    """The member's spend (fen, net of refunds) and points earned over the 365 days to ``now``."""
    since = now - timedelta(days=365)
    spend = (
        select(func.coalesce(func.sum(purchases.c.total_due + purchases.c.points_value - purchases.c.refunded_amount), 0))
        .where(purchases.c.member_no == member_no, purchases.c.created_at >= since)
        .scalar_subquery()
    )  # fmt: skip
    earned = (
        select(func.coalesce(func.sum(points_entries.c.points), 0))
        .where(
            points_entries.c.member_no == member_no,
            points_entries.c.kind.in_(("earn", "clawback")),
            points_entries.c.created_at >= since,
        )
        .scalar_subquery()
    )
    both = (await session.execute(select(spend, earned))).one()  # one round trip
    return int(both[0]), int(both[1])


async def cancel(ctx: LoyaltyContext, p: Principal, req: pb.CancelRequest) -> pb.Reservation:
    access.require(p, access.CHECKOUT, "cancel")
    _check_checkout_id(req.checkout_id)
    now = ctx.now()
    async with ctx.db.transaction() as session:
        # A cancel that overtakes its reserve leaves a tombstone: the late reserve finds it.
        await session.execute(
            insert(reservations)
            .values(
                checkout_id=req.checkout_id, status="cancelled", store_path=p.scope, request=b"",
                quote=pb.PriceQuote().SerializeToString(), expires_at=now, created_at=now, updated_at=now,
            )
            .on_conflict_do_nothing()
        )  # fmt: skip
        row = (
            await session.execute(
                select(reservations).where(reservations.c.checkout_id == req.checkout_id).with_for_update()
            )
        ).one()
        if not p.may_access(row.store_path):
            raise NotFound(f"no reservation for checkout {req.checkout_id}")
        if row.status == "confirmed":
            raise Conflict(f"checkout {req.checkout_id} is confirmed; refund it instead")
        if row.status != "pending":
            return reservation_pb(row)
        row = await release_locked(session, row, "cancelled", now)
        return reservation_pb(row)


async def release_locked(session: AsyncSession, row, status: str, now: datetime):  # type: ignore[no-untyped-def]
    """Give back what a locked pending reservation holds."""
    if row.points:
        await points.ensure_account(session, row.member_no)
        await session.execute(
            update(points_accounts)
            .where(points_accounts.c.member_no == row.member_no)
            .values(reserved=points_accounts.c.reserved - row.points, updated_at=now)
        )
    if row.coupon_code:
        await session.execute(
            update(coupons)
            .where(
                coupons.c.code == row.coupon_code,
                coupons.c.checkout_id == row.checkout_id,
                coupons.c.status == "reserved",
            )
            .values(status="available", checkout_id=None, updated_at=now)
        )
    return (
        await session.execute(
            update(reservations)
            .where(reservations.c.checkout_id == row.checkout_id)
            .values(status=status, updated_at=now)
            .returning(*reservations.c)
        )
    ).one()


async def get_purchase(ctx: LoyaltyContext, p: Principal, req: pb.GetPurchaseRequest) -> pb.Purchase:
    access.require(p, access.READERS, "read purchases")
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(select(purchases).where(purchases.c.checkout_id == req.checkout_id))
        ).first()
        if row is None or not p.may_access(row.store_path):
            raise NotFound(f"no purchase for checkout {req.checkout_id}")
        return await purchase_pb(session, row)
