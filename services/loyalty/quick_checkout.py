"""Confirming a checkout that holds nothing — no points to use, no coupon — the common one.

Such a checkout is not reserved: the caller quoted it (``Quote`` changes nothing), took the
payment, and sends the quote with ``Confirm`` (``ConfirmRequest.quoted``). The purchase is
recorded from it in one transaction of three statements for a member: the claim (the points
account locked and the pricing configuration's version), one write (purchase, earned lot,
history entry and balance; ``ON CONFLICT`` on the checkout id makes a second call a replay)
that also answers what the events and the tier review need, and the events. A customer
without a card takes two. Rare turns — the account's first purchase, a referral reward, a tier
upgrade — add their statements only when they happen.

The quote is taken as the caller sends it, as a quote's unit prices and card discount are:
the caller is the gateway, which had it from ``Quote`` a moment before.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from google.protobuf.message import Message
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chainclub.events.v1 import loyalty_pb2 as ev
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.errors import ChainclubError, Conflict, InvalidArgument
from services.loyalty import campaigns, domain, points
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import ts
from services.loyalty.models import purchases, reservations

# The account, locked (it serialises one member's checkouts), and the configuration's version.
CLAIM = text(
    """
    WITH a AS (
        SELECT member_no, home_store_path, balance, tier, referrer_member_no
        FROM points_accounts WHERE member_no = :member_no FOR UPDATE
    )
    SELECT v.version, a.* FROM pricing_config_version v LEFT JOIN a ON true WHERE v.id = 1
    """
)

# Everything the purchase writes, once: nothing when the checkout id was recorded before or
# was reserved (a cancelled checkout leaves its reservation as a tombstone). The answer's
# reads see the database as it was before this statement: the 12-month sums leave out this
# purchase, and "first at this store" is asked of the purchases before it.
WRITE = text(
    """
    WITH arg AS (
        SELECT CAST(:checkout_id AS varchar) AS checkout_id, CAST(:member_no AS varchar) AS member_no,
            CAST(:store_path AS text) AS store_path, CAST(:earn AS bigint) AS earn,
            CAST(:earn_rules AS text[]) AS earn_rules, CAST(:now AS timestamptz) AS now,
            CAST(:since AS timestamptz) AS since, CAST(:review AS boolean) AS review
    ),
    p AS (
        INSERT INTO purchases (checkout_id, member_no, card_no, store_path, status, quote, tenders,
            subtotal, discount_total, points_used, points_value, total_due, points_earned, earn_rules,
            coupon_code, tier, created_at)
        SELECT arg.checkout_id, arg.member_no, :card_no, arg.store_path, 'completed', :quote,
            CAST(:tenders AS jsonb), :subtotal, :discount_total, 0, 0, :total_due, arg.earn, arg.earn_rules,
            '', :tier, arg.now
        FROM arg WHERE NOT EXISTS (SELECT FROM reservations r WHERE r.checkout_id = arg.checkout_id)
        ON CONFLICT (checkout_id) DO NOTHING
        RETURNING checkout_id
    ),
    lot AS (
        INSERT INTO points_lots (id, member_no, source, reference, points, remaining, expires_on, created_at)
        SELECT CAST(:lot_id AS uuid), arg.member_no, 'earn', arg.checkout_id, arg.earn, arg.earn, :expires_on, arg.now
        FROM arg, p WHERE arg.earn > 0
    ),
    entry AS (
        INSERT INTO points_entries (member_no, kind, points, reference, rules, created_at)
        SELECT arg.member_no, 'earn', arg.earn, arg.checkout_id, arg.earn_rules, arg.now FROM arg, p WHERE arg.earn > 0
    ),
    account AS (
        UPDATE points_accounts a SET balance = a.balance + arg.earn, updated_at = arg.now
        FROM arg WHERE a.member_no = arg.member_no AND arg.earn > 0 AND EXISTS (SELECT FROM p)
    )
    SELECT
        (SELECT count(*) FROM p) AS written,
        CASE WHEN arg.review THEN (
            SELECT coalesce(sum(total_due + points_value - refunded_amount), 0)
            FROM purchases WHERE member_no = arg.member_no AND created_at >= arg.since
        ) ELSE 0 END AS spend,
        CASE WHEN arg.review THEN (
            SELECT coalesce(sum(points), 0) FROM points_entries
            WHERE member_no = arg.member_no AND kind IN ('earn', 'clawback') AND created_at >= arg.since
        ) ELSE 0 END AS earned,
        arg.member_no <> '' AND NOT EXISTS (
            SELECT FROM purchases WHERE member_no = arg.member_no AND store_path = arg.store_path
        ) AS first_at_store
    FROM arg
    """
)


def check_quoted(quoted: pb.QuotedCheckout, tenders: list[dict]) -> None:
    req, q = quoted.request, quoted.quote
    if not req.store_path:
        raise InvalidArgument("the quoted checkout names no store", field="quoted.request.store_path")
    if req.points_to_use or req.coupon_code or q.points_used:
        raise InvalidArgument("a checkout with points or a coupon is reserved first", field="quoted.request")
    if req.card_no and not req.member_no:
        raise InvalidArgument("member_no is required with a card", field="quoted.request.member_no")
    if min((q.total_due, q.subtotal, q.points_to_earn)) < 0:
        raise InvalidArgument("a quoted amount is negative", field="quoted.quote")
    paid = sum(t["amount"] for t in tenders)
    if tenders and paid != q.total_due:
        raise ChainclubError(f"tenders add up to {paid} fen, {q.total_due} due", reason="payment_mismatch")


async def confirm_quoted(
    ctx: LoyaltyContext,
    session: AsyncSession,
    checkout_id: str,
    quoted: pb.QuotedCheckout,
    tenders: list[dict],
) -> pb.Purchase | None:
    """Record the purchase; None when nothing was written because the checkout id is known
    (recorded before, or reserved): the caller replays or refuses it."""
    check_quoted(quoted, tenders)
    req, q = quoted.request, quoted.quote
    now = ctx.now()
    member_no = req.member_no
    account = None
    config = None
    if member_no:
        claim = (await session.execute(CLAIM, {"member_no": member_no})).one()
        config = await ctx.pricing.at(session, claim.version)
        account = (
            claim
            if claim.member_no is not None
            else await points.ensure_account(session, member_no, req.member_home_store_path or req.store_path)
        )
    tier = account.tier if account is not None else ""
    earn = q.points_to_earn if member_no else 0
    review = config is not None and any(t.rank > (_rank(config, tier)) for t in config.tiers)
    discount_total = sum(d.amount for d in q.discounts if d.kind != "points")
    wrote = (
        await session.execute(
            WRITE,
            {
                "checkout_id": checkout_id, "member_no": member_no, "card_no": req.card_no,
                "store_path": req.store_path, "quote": q.SerializeToString(), "tenders": json.dumps(tenders),
                "subtotal": q.subtotal, "discount_total": discount_total, "total_due": q.total_due, "earn": earn,
                "earn_rules": list(q.earn_rules), "tier": tier, "now": now, "lot_id": uuid.uuid4(),
                "expires_on": domain.default_expiry(ctx.local_date(now)), "review": review,
                "since": now - timedelta(days=365),
            },
        )
    ).one()  # fmt: skip
    if not wrote.written:
        return None
    home = (account.home_store_path or req.store_path) if account is not None else ""
    balance = (account.balance + earn) if account is not None else 0
    events: list[tuple[str, Message, str]] = []
    if earn:
        events.append((
            "loyalty.points.earned",
            ev.PointsChanged(
                member_no=member_no, kind="earn", points=earn, balance=balance, reference=checkout_id,
                rules=list(q.earn_rules), expires_on=domain.default_expiry(ctx.local_date(now)).isoformat(),
                home_store_path=home, at=ts(now),
            ),
            home,
        ))  # fmt: skip
    if account is not None and account.referrer_member_no:
        await campaigns.reward_referral(ctx, session, account, checkout_id, now)
    if review:
        assert config is not None
        target = domain.upgrade_to(
            list(config.tiers), tier, wrote.spend + q.total_due + q.points_value, wrote.earned + earn
        )
        if target is not None:
            tier = await campaigns.upgrade_tier(ctx, session, member_no, tier, target.code, home, now)
            await session.execute(
                purchases.update().where(purchases.c.checkout_id == checkout_id).values(tier=tier)
            )
    events.append((
        "loyalty.purchase.recorded",
        ev.PurchaseRecorded(
            checkout_id=checkout_id, member_no=member_no, card_no=req.card_no, store_path=req.store_path,
            subtotal=q.subtotal, total_due=q.total_due, discount_total=discount_total, points_used=0,
            points_earned=earn, first_purchase_at_store=wrote.first_at_store, at=ts(now),
            home_store_path=home,
        ),
        req.store_path,
    ))  # fmt: skip
    await ctx.emit_all(session, events)
    return pb.Purchase(
        checkout_id=checkout_id, member_no=member_no, card_no=req.card_no, store_path=req.store_path,
        status="completed", quote=q, tenders=[pb.Tender(**t) for t in tenders], points_earned=earn,
        points_balance=balance, tier=tier, created_at=ts(now),
    )  # fmt: skip


def _rank(config, code: str) -> int:  # type: ignore[no-untyped-def]
    tier = config.tier(code)
    return tier.rank if tier is not None else -1


async def known(session: AsyncSession | AsyncConnection, checkout_id: str):  # type: ignore[no-untyped-def]
    """Why nothing was written: (purchase row, None) when recorded before, else (None, the
    reservation row, locked)."""
    done = (await session.execute(select(purchases).where(purchases.c.checkout_id == checkout_id))).first()
    if done is not None:
        return done, None
    row = (
        await session.execute(
            select(reservations).where(reservations.c.checkout_id == checkout_id).with_for_update()
        )
    ).first()
    if row is None:  # only a concurrent call in between could do this; it is safe to retry
        raise Conflict(f"checkout {checkout_id} changed meanwhile; retry")
    return None, row
