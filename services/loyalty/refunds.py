"""Refunding (part of) a purchase: used points come back as a new lot, earned points are
clawed back in proportion (never below zero), the coupon returns when the whole purchase
is refunded and it is still valid. Idempotent per request id."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import loyalty_pb2 as ev
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import Conflict, InvalidArgument, NotFound
from services.loyalty import access, domain, points
from services.loyalty.checkout import purchase_pb
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import run_once, ts
from services.loyalty.models import coupons, purchase_refunds, purchases


async def refund_purchase(ctx: LoyaltyContext, p: Principal, req: pb.RefundPurchaseRequest) -> pb.Purchase:
    access.require(p, access.CHECKOUT, "refund purchases")
    if not req.checkout_id:
        raise InvalidArgument("checkout_id is required", field="checkout_id")

    async def work(session: AsyncSession) -> pb.Purchase:
        row = (
            await session.execute(
                select(purchases).where(purchases.c.checkout_id == req.checkout_id).with_for_update()
            )
        ).first()
        if row is None or not p.may_access(row.store_path):
            raise NotFound(f"no purchase for checkout {req.checkout_id}")
        quote = pb.PriceQuote.FromString(row.quote)
        done: dict[str, list[int]] = {
            k: list(v) for k, v in (row.refunded_qty or {}).items()
        }  # sku -> [qty, fen]
        lines = {x.sku: x for x in quote.lines}
        wanted = (
            {x.sku: x.qty for x in req.lines}
            if req.lines
            else {sku: x.qty - done.get(sku, [0, 0])[0] for sku, x in lines.items()}
        )
        amount_before = sum(v[1] for v in done.values())
        refunded_now = 0
        for sku, qty in wanted.items():
            if sku not in lines:
                raise InvalidArgument(f"sku {sku} is not in this purchase", field="lines.sku")
            already_qty, already_fen = done.get(sku, [0, 0])
            if qty < 0 or (req.lines and qty == 0) or already_qty + qty > lines[sku].qty:
                raise InvalidArgument(
                    f"sku {sku}: at most {lines[sku].qty - already_qty} left to refund", field="lines.qty"
                )
            if qty == 0:
                continue
            fen = domain.refund_amount(lines[sku].amount, lines[sku].qty, already_qty, qty, already_fen)
            done[sku] = [already_qty + qty, already_fen + fen]
            refunded_now += fen
        if not any(wanted.values()):
            raise Conflict(f"checkout {req.checkout_id} is refunded already")
        whole = sum(x.amount for x in quote.lines)
        amount_after = amount_before + refunded_now
        # Cumulative shares: the parts of several partial refunds add up to the whole exactly.
        money = domain.share(quote.total_due, amount_after, whole) - domain.share(
            quote.total_due, amount_before, whole
        )
        restore = domain.share(row.points_used, amount_after, whole) - domain.share(
            row.points_used, amount_before, whole
        )
        claw = domain.share(row.points_earned, amount_after, whole) - domain.share(
            row.points_earned, amount_before, whole
        )
        fully = all(done.get(sku, [0])[0] >= x.qty for sku, x in lines.items())
        now = ctx.now()
        clawed = 0
        if row.member_no:
            account = await points.ensure_account(session, row.member_no, row.store_path)
            clawed = min(claw, account.balance - account.reserved)  # never below zero
            if clawed > 0:
                balance = await points.take(session, row.member_no, clawed, now=now)
                await points.entry(session, row.member_no, "clawback", -clawed, req.request_id, now)
                await ctx.emit(
                    session, "loyalty.points.redeemed",
                    ev.PointsChanged(
                        member_no=row.member_no, kind="clawback", points=clawed, balance=balance,
                        reference=row.checkout_id, home_store_path=account.home_store_path, at=ts(now),
                    ),
                    account.home_store_path,
                )  # fmt: skip
            if restore > 0:
                account = await points.ensure_account(session, row.member_no)
                await points.add_lot(
                    ctx, session, account, restore, source="restore", reference=row.checkout_id, now=now
                )
            if fully and row.coupon_code:
                await session.execute(
                    update(coupons)
                    .where(
                        coupons.c.code == row.coupon_code,
                        coupons.c.status == "redeemed",
                        (coupons.c.valid_until.is_(None)) | (coupons.c.valid_until > now),
                    )
                    .values(status="available", checkout_id=None, updated_at=now)
                )
        updated = (
            await session.execute(
                update(purchases)
                .where(purchases.c.checkout_id == row.checkout_id)
                .values(
                    status="refunded" if fully else "partially_refunded",
                    refunded_qty=done,
                    refunded_amount=purchases.c.refunded_amount + money,
                    points_restored=purchases.c.points_restored + restore,
                    points_clawed_back=purchases.c.points_clawed_back + clawed,
                )
                .returning(*purchases.c)
            )
        ).one()
        await session.execute(
            purchase_refunds.insert().values(
                request_id=req.request_id, checkout_id=row.checkout_id, store_path=row.store_path, amount=money,
                points_restored=restore, points_clawed_back=clawed, created_at=now,
            )
        )  # fmt: skip
        await ctx.emit(
            session,
            "loyalty.purchase.refunded",
            ev.PurchaseRefunded(
                checkout_id=row.checkout_id, request_id=req.request_id, member_no=row.member_no,
                store_path=row.store_path, amount=money, points_restored=restore, points_clawed_back=clawed, at=ts(now),
            ),
            row.store_path,
        )  # fmt: skip
        return await purchase_pb(session, updated)

    return await run_once(ctx, "refund", req, pb.Purchase, work)
