"""Event handlers, each run in the inbox transaction (a redelivered event has no second
effect): top-up bonus points, the payment recovery path, welcome and the referral rule on
registration."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chainclub.events.v1 import members_pb2 as mev
from chainclub.events.v1 import wallet_pb2 as wev
from kit.events import Event
from kit.inbox import Later, Route
from services.loyalty import campaigns, checkout, coupons, points
from services.loyalty.context import LoyaltyContext
from services.loyalty.models import points_accounts, purchases, reservations


def wallet_routes(ctx: LoyaltyContext) -> dict[str, Route]:
    async def top_up_completed(session: AsyncSession, event: Event, msg: wev.TopUpCompleted) -> None:
        if msg.bonus_points <= 0 or not msg.member_no:
            return
        account = await points.ensure_account(session, msg.member_no, msg.home_store_path)
        await points.add_lot(
            ctx, session, account, msg.bonus_points, source="bonus", reference=msg.transaction_id, now=ctx.now(),
            rules=["top_up_bonus"],
        )  # fmt: skip

    async def payment_captured(session: AsyncSession, event: Event, msg: wev.PaymentCaptured) -> None:
        # The gateway pays with request id = checkout id: a pending reservation of that id
        # was paid for, so it is confirmed even if the gateway never came back to do it. The
        # gateway confirms right after paying: a fresh event waits for it (no lock taken, so
        # the gateway's Confirm never queues behind this one) and finds the work done.
        status = (
            await session.execute(
                select(reservations.c.status).where(reservations.c.checkout_id == msg.request_id)
            )
        ).scalar()
        if status != "pending":
            return
        age = (datetime.now(UTC) - event.time).total_seconds()  # wall clocks, as ce-time
        grace = ctx.settings.loyalty_recovery_grace_seconds
        if age < grace:
            raise Later(grace - age, f"checkout {msg.request_id} is for the gateway to confirm first")
        row = (
            await session.execute(
                select(reservations).where(reservations.c.checkout_id == msg.request_id).with_for_update()
            )
        ).first()
        if row is None or row.status != "pending" or not row.quote:
            return
        tender = [{"method": "stored_value", "amount": msg.amount, "reference": msg.transaction_id}]
        quote_due = checkout.pb.PriceQuote.FromString(row.quote).total_due
        # Other tenders of a mixed payment are unknown here: record what wallet took.
        await checkout.confirm_locked(
            ctx, session, row, tender if msg.amount == quote_due else [], recovery=True
        )

    async def payment_settled(conn: AsyncConnection, event: Event, msg: wev.PaymentCaptured) -> bool:
        """Most payments were confirmed by the gateway before their event arrives: one read
        says so, and the event is acknowledged without a write. A fresh one still pending is
        for the gateway to confirm first: it comes back later, nothing opened meanwhile. A
        payment its payer records itself (a checkout that reserved nothing: the gateway and its
        resumer confirm it from the quote) has nothing here to recover: acknowledged unread."""
        if msg.recorded_by_payer:
            return True
        status = (
            await conn.execute(
                select(reservations.c.status).where(reservations.c.checkout_id == msg.request_id)
            )
        ).scalar()
        if status == "pending":
            age = (datetime.now(UTC) - event.time).total_seconds()  # wall clocks, as ce-time
            grace = ctx.settings.loyalty_recovery_grace_seconds
            if age < grace:
                raise Later(grace - age, f"checkout {msg.request_id} is for the gateway to confirm first")
        return status != "pending"

    return {
        "wallet.topup.completed": Route(wev.TopUpCompleted, top_up_completed),
        "wallet.payment.captured": Route(wev.PaymentCaptured, payment_captured, done=payment_settled),
    }


def members_routes(ctx: LoyaltyContext) -> dict[str, Route]:
    async def member_registered(session: AsyncSession, event: Event, msg: mev.MemberRegistered) -> None:
        await points.ensure_account(session, msg.member_no, msg.home_store_path)
        await session.execute(
            update(points_accounts)
            .where(points_accounts.c.member_no == msg.member_no)
            .values(
                home_store_path=msg.home_store_path, birthday=msg.birthday,
                referrer_member_no=msg.referrer_member_no,
            )
        )  # fmt: skip
        await coupons.issue_campaign(ctx, session, "welcome", msg.member_no, msg.home_store_path, event.id)
        await campaigns.reward_referral_signup(
            ctx, session, msg.member_no, msg.referrer_member_no, msg.home_store_path, ctx.now()
        )
        if msg.referrer_member_no:
            # The first purchase may have been confirmed before this event arrived (the account
            # had no referrer then): reward the referrer now, once (the grant is keyed).
            first = (
                await session.execute(
                    select(purchases.c.checkout_id)
                    .where(purchases.c.member_no == msg.member_no)
                    .order_by(purchases.c.created_at)
                    .limit(1)
                )
            ).scalar()
            if first is not None:
                referee = await points.ensure_account(session, msg.member_no, msg.home_store_path)
                await campaigns.reward_referral(ctx, session, referee, first, ctx.now())

    return {"members.member.registered": Route(mev.MemberRegistered, member_registered)}
