"""Coupon templates and coupons: create, issue (never over the total quantity nor the
per-member limit, under any concurrency), list a member's coupons."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.events.v1 import loyalty_pb2 as ev
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument, NotFound
from services.loyalty import access, domain, points, segments
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import run_once, ts
from services.loyalty.models import coupon_templates, coupons, points_accounts

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_code() -> str:
    return "C" + "".join(secrets.choice(_ALPHABET) for _ in range(12))


def template_pb(r) -> pb.CouponTemplate:  # type: ignore[no-untyped-def]
    return pb.CouponTemplate(
        id=str(r.id), name=r.name, kind=r.kind, amount_off=r.amount_off, percent_off_bps=r.percent_off_bps,
        min_spend=r.min_spend, gift_sku=r.gift_sku, valid_days=r.valid_days, valid_from=ts(r.valid_from),
        valid_until=ts(r.valid_until), scope=r.scope, per_member_limit=r.per_member_limit,
        total_quantity=r.total_quantity, issued=r.issued, campaign=r.campaign, active=r.active,
    )  # fmt: skip


def when(t: Timestamp) -> datetime | None:
    """An optional timestamp field: unset (zero) = None."""
    return t.ToDatetime(tzinfo=UTC) if t.seconds or t.nanos else None


def check_template(p: Principal, req: pb.CouponTemplate) -> str:
    """Refuse a coupon template the caller may not make (creating or editing it); its scope."""
    if not req.name:
        raise InvalidArgument("name is required", field="name")
    if req.kind not in domain.COUPON_KINDS:
        raise InvalidArgument(f"kind must be one of {', '.join(domain.COUPON_KINDS)}", field="kind")
    if req.kind == "amount_off" and req.amount_off <= 0:
        raise InvalidArgument("amount_off must be positive", field="amount_off")
    if req.kind == "percent_off":
        if not 0 < req.percent_off_bps <= 10_000:
            raise InvalidArgument("percent_off_bps must be between 1 and 10000", field="percent_off_bps")
    if req.campaign not in domain.CAMPAIGNS:
        raise InvalidArgument(f"campaign must be one of {', '.join(domain.CAMPAIGNS)}", field="campaign")
    if min(req.min_spend, req.valid_days, req.per_member_limit, req.total_quantity) < 0:
        raise InvalidArgument("amounts, days and quantities must not be negative")
    scope = req.scope or p.scope
    if not p.may_access(scope):
        raise InvalidArgument("scope lies outside yours", field="scope")
    return scope


def template_values(req: pb.CouponTemplate, scope: str) -> dict:
    """The columns of a checked coupon template (``active`` and ``issued`` are not among them)."""
    return dict(
        name=req.name, kind=req.kind, amount_off=req.amount_off, percent_off_bps=req.percent_off_bps,
        min_spend=req.min_spend, gift_sku=req.gift_sku, valid_days=req.valid_days,
        valid_from=when(req.valid_from), valid_until=when(req.valid_until), scope=scope,
        per_member_limit=req.per_member_limit, total_quantity=req.total_quantity, campaign=req.campaign,
    )  # fmt: skip


async def create_template(ctx: LoyaltyContext, p: Principal, req: pb.CouponTemplate) -> pb.CouponTemplate:
    access.require(p, access.HQ, "create coupon templates")
    values = template_values(req, check_template(p, req))
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                coupon_templates.insert().values(id=uuid.uuid4(), **values).returning(*coupon_templates.c)
            )
        ).one()
    return template_pb(row)


async def list_templates(ctx: LoyaltyContext, p: Principal) -> pb.ListCouponTemplatesResponse:
    access.require(p, access.READERS, "read coupon templates")
    async with ctx.db.transaction() as session:
        rows = (await session.execute(select(coupon_templates).order_by(coupon_templates.c.created_at))).all()
    return pb.ListCouponTemplatesResponse(templates=[template_pb(r) for r in rows])


async def issue_one(
    ctx: LoyaltyContext, session: AsyncSession, tpl, member_no: str, home: str, request_id: str, now: datetime
) -> str | None:  # type: ignore[no-untyped-def]
    """Issue one coupon of ``tpl`` to a member whose points account row the caller holds
    locked (that serialises the per-member limit). None when a limit says no."""
    if tpl.per_member_limit:
        held = (
            await session.execute(
                select(func.count())
                .select_from(coupons)
                .where(coupons.c.template_id == tpl.id, coupons.c.member_no == member_no)
            )
        ).scalar_one()
        if held >= tpl.per_member_limit:
            return None
    # The quantity check and the increment are one statement: never over-issued.
    counted = await session.execute(
        update(coupon_templates)
        .where(
            coupon_templates.c.id == tpl.id,
            (coupon_templates.c.total_quantity == 0)
            | (coupon_templates.c.issued < coupon_templates.c.total_quantity),
        )
        .values(issued=coupon_templates.c.issued + 1)
        .returning(coupon_templates.c.issued)
    )
    if counted.first() is None:
        return None
    valid_from = tpl.valid_from or now
    valid_until = tpl.valid_until or (now + timedelta(days=tpl.valid_days) if tpl.valid_days else None)
    code = new_code()
    await session.execute(
        coupons.insert().values(
            code=code, template_id=tpl.id, member_no=member_no, status="available", valid_from=valid_from,
            valid_until=valid_until, request_id=request_id, issued_at=now, updated_at=now,
        )
    )  # fmt: skip
    await ctx.emit(
        session,
        "loyalty.coupon.issued",
        ev.CouponChanged(
            member_no=member_no, code=code, template_id=str(tpl.id), name=tpl.name, kind=tpl.kind,
            valid_until=valid_until.date().isoformat() if valid_until else "", home_store_path=home, at=ts(now),
        ),
        home,
    )  # fmt: skip
    return code


async def issue_coupons(
    ctx: LoyaltyContext, p: Principal, req: pb.IssueCouponsRequest
) -> pb.IssueCouponsResponse:
    access.require(p, access.ISSUERS, "issue coupons")
    if req.segment:
        # The segment's members in the caller's scope, as last recomputed.
        members = sorted(set(req.member_nos) | set(await segments.members_in(ctx, p, req.segment)))
        if not members:
            return pb.IssueCouponsResponse()
    else:
        members = sorted(set(req.member_nos))
    if not members:
        raise InvalidArgument("member_nos is required", field="member_nos")
    if len(members) > 10_000:
        raise InvalidArgument("at most 10000 members per request", field="member_nos")
    try:
        template_id = uuid.UUID(req.template_id)
    except ValueError:
        raise InvalidArgument("template_id is not a valid id", field="template_id") from None

    async def work(session: AsyncSession) -> pb.IssueCouponsResponse:
        tpl = (
            await session.execute(select(coupon_templates).where(coupon_templates.c.id == template_id))
        ).first()
        if tpl is None or not tpl.active:
            raise NotFound(f"no coupon template {req.template_id}")
        now = ctx.now()
        # Lock the members' accounts in one order first, so two issuers cannot deadlock.
        homes = {}
        for member_no in members:
            homes[member_no] = (await points.ensure_account(session, member_no)).home_store_path
        codes: list[str] = []
        for member_no in members:
            code = await issue_one(ctx, session, tpl, member_no, homes[member_no], req.request_id, now)
            if code:
                codes.append(code)
        return pb.IssueCouponsResponse(issued=len(codes), skipped=len(members) - len(codes), codes=codes)

    return await run_once(ctx, "issue_coupons", req, pb.IssueCouponsResponse, work)


async def issue_campaign(
    ctx: LoyaltyContext, session: AsyncSession, campaign: str, member_no: str, home: str, reference: str
) -> list[str]:
    """Issue every active template of ``campaign`` to the member (account already locked)."""
    now = ctx.now()
    rows = (
        await session.execute(
            select(coupon_templates).where(coupon_templates.c.campaign == campaign, coupon_templates.c.active)
        )
    ).all()
    codes = []
    for tpl in rows:
        if tpl.valid_until is not None and tpl.valid_until <= now:
            continue
        if (code := await issue_one(ctx, session, tpl, member_no, home, reference, now)) is not None:
            codes.append(code)
    return codes


async def list_member_coupons(
    ctx: LoyaltyContext, p: Principal, req: pb.ListMemberCouponsRequest
) -> pb.ListMemberCouponsResponse:
    access.require(p, access.READERS, "read coupons")
    async with ctx.db.transaction() as session:
        account = (
            await session.execute(select(points_accounts).where(points_accounts.c.member_no == req.member_no))
        ).first()
        if account is not None:
            access.check_member_read(p, account.home_store_path)
        query = (
            select(
                coupons,
                coupon_templates.c.name,
                coupon_templates.c.kind,
                coupon_templates.c.amount_off,
                coupon_templates.c.percent_off_bps,
                coupon_templates.c.min_spend,
            )
            .join(coupon_templates, coupon_templates.c.id == coupons.c.template_id)
            .where(coupons.c.member_no == req.member_no)
            .order_by(coupons.c.issued_at)
        )
        if req.status:
            query = query.where(coupons.c.status == req.status)
        rows = (await session.execute(query)).mappings().all()
    now = ctx.now()
    out = []
    for r in rows:
        status = r["status"]
        if status == "available" and r["valid_until"] is not None and r["valid_until"] <= now:
            status = "expired"
        out.append(
            pb.MemberCoupon(
                code=r["code"], template_id=str(r["template_id"]), name=r["name"], kind=r["kind"],
                amount_off=r["amount_off"], percent_off_bps=r["percent_off_bps"], min_spend=r["min_spend"],
                status=status, valid_from=ts(r["valid_from"]), valid_until=ts(r["valid_until"]),
            )
        )  # fmt: skip
    return pb.ListMemberCouponsResponse(coupons=out)
