"""Loading what a quote needs (tier, promotions, earn rules, coupon, points) and turning
the domain's quote into protobuf. Quote itself: prices, changes nothing."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument
from services.loyalty import access, domain
from services.loyalty.config_cache import PricingConfig, tier_of
from services.loyalty.context import LoyaltyContext
from services.loyalty.models import coupon_templates, coupons, points_accounts, tiers


def checkout_store(p: Principal, given: str) -> str:
    """Where the checkout happens: the caller's own unit unless it names one in its scope."""
    if not given:
        return p.scope
    if not p.may_access(given):
        raise InvalidArgument("store_path lies outside your scope", field="store_path")
    return given


async def all_tiers(session: AsyncSession) -> list[domain.Tier]:
    return [tier_of(r) for r in (await session.execute(select(tiers).order_by(tiers.c.rank))).all()]


async def load_coupon(
    session: AsyncSession, code: str, member_no: str, checkout_id: str = ""
) -> domain.Coupon:
    """The member's coupon, usable now: available, or already held by this checkout."""
    row = (
        await session.execute(
            select(
                coupons,
                coupon_templates.c.name,
                coupon_templates.c.kind,
                coupon_templates.c.amount_off,
                coupon_templates.c.percent_off_bps,
                coupon_templates.c.min_spend,
                coupon_templates.c.scope,
            )
            .join(coupon_templates, coupon_templates.c.id == coupons.c.template_id)
            .where(coupons.c.code == code)
        )
    ).first()
    if row is None or row.member_no != member_no:
        raise domain.CouponUnavailable(f"coupon {code} is not this member's")
    held = row.status == "reserved" and checkout_id and row.checkout_id == checkout_id
    if row.status != "available" and not held:
        raise domain.CouponUnavailable(f"coupon {code} is {row.status}")
    return domain.Coupon(
        code=row.code, name=row.name, kind=row.kind, amount_off=row.amount_off,
        percent_off_bps=row.percent_off_bps, min_spend=row.min_spend, scope=row.scope,
        valid_from=row.valid_from, valid_until=row.valid_until,
    )  # fmt: skip


def check_request(req: pb.QuoteRequest) -> None:
    if req.card_no and not req.member_no:
        raise InvalidArgument("member_no is required with a card", field="member_no")
    if req.coupon_code and not req.member_no:
        raise InvalidArgument("a coupon needs a member card", field="coupon_code")
    if req.points_to_use < 0:
        raise InvalidArgument("points_to_use must not be negative", field="points_to_use")
    domain.check_bps(req.card_discount_bps, "card_discount_bps")


# A member loyalty has not seen yet (no points account): the standard tier, no points.
_NEW_ACCOUNT = SimpleNamespace(tier="standard", birthday="", balance=0, reserved=0)

# The quote's one read: the pricing configuration's version and the member's account.
QUOTE_READ = text(
    """
    SELECT v.version, a.tier, a.birthday, a.balance, a.reserved
    FROM pricing_config_version v
    LEFT JOIN points_accounts a ON a.member_no = :member_no
    WHERE v.id = 1
    """
)


async def price_request(
    ctx: LoyaltyContext,
    session: AsyncSession | AsyncConnection,
    req: pb.QuoteRequest,
    store_path: str,
    now: datetime,
    *,
    account=None,  # type: ignore[no-untyped-def]  # the (locked) points account, when known
    checkout_id: str = "",
    config: PricingConfig | None = None,
) -> domain.Quote:
    check_request(req)
    member = bool(req.member_no)
    if member and account is None:
        account = (
            await session.execute(select(points_accounts).where(points_accounts.c.member_no == req.member_no))
        ).first()
    config = config or await ctx.pricing.current(session)
    tier = config.tier(account.tier if account is not None else "standard")
    birthday = account.birthday if account is not None else ""
    coupon = (
        await load_coupon(session, req.coupon_code, req.member_no, checkout_id) if req.coupon_code else None
    )
    return domain.price(
        domain.PricingInput(
            lines=[domain.Line(x.sku, x.category, x.qty, x.unit_price, x.name) for x in req.lines],
            store_path=store_path,
            now=now,
            today=ctx.local_date(now),
            member=member,
            tier=tier,
            card_discount_bps=req.card_discount_bps,
            promotions=list(config.promotions),
            coupon=coupon,
            points_to_use=req.points_to_use,
            points_available=(account.balance - account.reserved) if account is not None else 0,
            points_per_yuan=ctx.settings.loyalty_points_per_yuan,
            points_max_share_bps=ctx.settings.loyalty_points_max_share_bps,
            earn_rules=list(config.earn_rules),
            birthday_month=int(birthday[5:7]) if len(birthday) >= 7 and birthday[5:7].isdigit() else 0,
        )
    )


def quote_pb(q: domain.Quote) -> pb.PriceQuote:
    return pb.PriceQuote(
        lines=[
            pb.QuotedLine(sku=x.sku, qty=x.qty, unit_price=x.unit_price, discount=x.discount, amount=x.amount)
            for x in q.lines
        ],
        subtotal=q.subtotal,
        discounts=[pb.Discount(kind=d.kind, rule=d.rule, amount=d.amount, sku=d.sku) for d in q.discounts],
        points_used=q.points_used,
        points_value=q.points_value,
        total_due=q.total_due,
        points_to_earn=q.points_to_earn,
        tier=q.tier,
        earn_rules=q.earn_rules,
    )


async def quote(ctx: LoyaltyContext, p: Principal, req: pb.QuoteRequest) -> pb.PriceQuote:
    """Price the lines; changes nothing. One statement (the configuration's version and the
    member's account) outside any transaction, plus the coupon's when one is named."""
    access.require(p, access.CHECKOUT, "quote")
    store_path = checkout_store(p, req.store_path)
    async with ctx.db.autocommit() as conn:
        read = (await conn.execute(QUOTE_READ, {"member_no": req.member_no})).one()
        config = await ctx.pricing.at(conn, read.version)
        account = read if req.member_no and read.tier is not None else None
        if req.member_no and account is None:
            account = _NEW_ACCOUNT  # loyalty has not seen the member yet: standard, no points
        return quote_pb(
            await price_request(ctx, conn, req, store_path, ctx.now(), account=account, config=config)
        )
