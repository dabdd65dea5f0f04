"""Event handlers, each run in the inbox transaction: they only record deliveries and
follow-up tasks (one per event x channel); the sender job does the sending.

The consumption notice of a checkout comes from whichever of ``wallet.payment.captured``
(its ``reference`` is the checkout id the gateway's saga pays under) and
``loyalty.purchase.recorded`` arrives first, keyed by the checkout id, so one checkout gives
one notice per channel in any order and however often each event is delivered. The purchase
event knows the whole amount due (cash-only checkouts have no payment event at all), so it
refreshes a notice the payment event created if that one has not been attempted yet. A wallet
payment without a checkout reference keeps a notice of its own (keyed by its event id)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import loyalty_pb2 as lev
from chainclub.events.v1 import members_pb2 as mev
from chainclub.events.v1 import wallet_pb2 as wev
from kit.events import Event
from kit.inbox import Route
from services.notify import service
from services.notify.context import NotifyContext
from services.notify.domain import consumption_key, yuan


def _time(ctx: NotifyContext, at: Timestamp, fallback: datetime) -> str:
    when = at.ToDatetime(tzinfo=fallback.tzinfo) if at.seconds else fallback
    return when.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")


def members_routes(ctx: NotifyContext) -> dict[str, Route]:
    async def registered(session: AsyncSession, event: Event, msg: mev.MemberRegistered) -> None:
        now = ctx.now()
        await service.add_deliveries(
            ctx, session, event_id=event.id, event="welcome", org_path=msg.home_store_path, member_no=msg.member_no,
            variables={"member_no": msg.member_no, "card_no": msg.card_no, "store": msg.home_store_path,
                       "time": _time(ctx, msg.joined_at, now)},
            now=now,
        )  # fmt: skip

    async def card_status(session: AsyncSession, event: Event, msg: mev.CardStatusChanged) -> None:
        if msg.to_status not in ("lost", "frozen", "active"):
            return
        now = ctx.now()
        await service.add_deliveries(
            ctx, session, event_id=event.id, event="card_status", org_path=msg.home_store_path,
            member_no=msg.member_no, now=now,
            variables={"member_no": msg.member_no, "card_no": msg.card_no, "status": msg.to_status,
                       "store": msg.acting_store_path, "time": _time(ctx, Timestamp(), now)},
        )  # fmt: skip

    return {
        "members.member.registered": Route(mev.MemberRegistered, registered),
        "members.card.status_changed": Route(mev.CardStatusChanged, card_status),
    }


def wallet_routes(ctx: NotifyContext) -> dict[str, Route]:
    async def payment(session: AsyncSession, event: Event, msg: wev.PaymentCaptured) -> None:
        now = ctx.now()
        key = consumption_key(msg.reference) if msg.reference else event.id
        await service.add_deliveries(
            ctx, session, event_id=key, event="payment", org_path=msg.home_store_path, member_no=msg.member_no,
            variables={"member_no": msg.member_no, "card_no": msg.card_no, "amount_yuan": yuan(msg.amount),
                       "store": msg.acting_store_path, "time": _time(ctx, msg.at, now)},
            now=now,
        )  # fmt: skip

    async def top_up(session: AsyncSession, event: Event, msg: wev.TopUpCompleted) -> None:
        now = ctx.now()
        await service.add_deliveries(
            ctx, session, event_id=event.id, event="top_up", org_path=msg.home_store_path, member_no=msg.member_no,
            variables={"member_no": msg.member_no, "card_no": msg.card_no, "amount_yuan": yuan(msg.amount),
                       "bonus_yuan": yuan(msg.bonus), "bonus_points": str(msg.bonus_points),
                       "store": msg.acting_store_path, "time": _time(ctx, msg.at, now)},
            now=now,
        )  # fmt: skip

    async def alert(session: AsyncSession, event: Event, msg: wev.AlertRaised) -> None:
        contacts = ctx.settings.notify_alert_emails
        if not contacts:
            return
        now = ctx.now()
        await service.add_deliveries(
            ctx, session, event_id=event.id, event="risk_alert", org_path="HQ", recipient=",".join(contacts),
            channels=("email",), now=now,
            variables={"rule_name": msg.rule_name, "kind": msg.kind, "action": msg.action, "card_no": msg.card_no,
                       "amount_yuan": yuan(msg.amount), "store": msg.acting_store_path, "detail": msg.detail,
                       "time": _time(ctx, msg.at, now)},
        )  # fmt: skip

    return {
        "wallet.payment.captured": Route(wev.PaymentCaptured, payment),
        "wallet.topup.completed": Route(wev.TopUpCompleted, top_up),
        "wallet.alert.raised": Route(wev.AlertRaised, alert),
    }


def loyalty_routes(ctx: NotifyContext) -> dict[str, Route]:
    async def purchase(session: AsyncSession, event: Event, msg: lev.PurchaseRecorded) -> None:
        if not msg.member_no:
            return
        now = ctx.now()
        await service.add_deliveries(
            ctx, session, event_id=consumption_key(msg.checkout_id), event="payment",
            org_path=msg.home_store_path or msg.store_path, member_no=msg.member_no, now=now, refresh=True,
            variables={"member_no": msg.member_no, "card_no": msg.card_no, "amount_yuan": yuan(msg.total_due),
                       "store": msg.store_path, "time": _time(ctx, msg.at, now)},
        )  # fmt: skip
        if msg.first_purchase_at_store:
            at = msg.at.ToDatetime(tzinfo=ctx.tz) if msg.at.seconds else now
            await service.add_follow_ups(
                ctx,
                session,
                member_no=msg.member_no,
                store_path=msg.store_path,
                checkout_id=msg.checkout_id,
                at=at,
            )

    async def tier(session: AsyncSession, event: Event, msg: lev.TierChanged) -> None:
        now = ctx.now()
        await service.add_deliveries(
            ctx, session, event_id=event.id, event="tier_changed", org_path=msg.home_store_path,
            member_no=msg.member_no, now=now,
            variables={"member_no": msg.member_no, "from_tier": msg.from_tier, "to_tier": msg.to_tier,
                       "time": _time(ctx, msg.at, now)},
        )  # fmt: skip

    async def coupon(session: AsyncSession, event: Event, msg: lev.CouponChanged) -> None:
        now = ctx.now()
        await service.add_deliveries(
            ctx, session, event_id=event.id, event="coupon_issued", org_path=msg.home_store_path,
            member_no=msg.member_no, now=now,
            variables={"member_no": msg.member_no, "coupon_name": msg.name, "code": msg.code,
                       "valid_until": msg.valid_until, "time": _time(ctx, msg.at, now)},
        )  # fmt: skip

    async def points_earned(session: AsyncSession, event: Event, msg: lev.PointsChanged) -> None:
        now = ctx.now()
        await service.add_deliveries(
            ctx, session, event_id=event.id, event="points_earned", org_path=msg.home_store_path,
            member_no=msg.member_no, now=now,
            variables={"member_no": msg.member_no, "points": str(msg.points), "balance": str(msg.balance),
                       "time": _time(ctx, msg.at, now)},
        )  # fmt: skip

    async def points_expiring(session: AsyncSession, event: Event, msg: lev.PointsChanged) -> None:
        now = ctx.now()
        await service.add_deliveries(
            ctx, session, event_id=event.id, event="points_expiring", org_path=msg.home_store_path,
            member_no=msg.member_no, now=now,
            variables={"member_no": msg.member_no, "points": str(msg.points), "balance": str(msg.balance),
                       "expires_on": msg.expires_on, "time": _time(ctx, msg.at, now)},
        )  # fmt: skip

    async def coupon_expiring(session: AsyncSession, event: Event, msg: lev.CouponChanged) -> None:
        now = ctx.now()
        await service.add_deliveries(
            ctx, session, event_id=event.id, event="coupon_expiring", org_path=msg.home_store_path,
            member_no=msg.member_no, now=now,
            variables={"member_no": msg.member_no, "coupon_name": msg.name, "code": msg.code,
                       "valid_until": msg.valid_until, "time": _time(ctx, msg.at, now)},
        )  # fmt: skip

    return {
        "loyalty.purchase.recorded": Route(lev.PurchaseRecorded, purchase),
        "loyalty.points.expiring": Route(lev.PointsChanged, points_expiring),
        "loyalty.coupon.expiring": Route(lev.CouponChanged, coupon_expiring),
        "loyalty.tier.changed": Route(lev.TierChanged, tier),
        "loyalty.coupon.issued": Route(lev.CouponChanged, coupon),
        "loyalty.points.earned": Route(lev.PointsChanged, points_earned),
    }
