"""Lists about members that only loyalty can answer: who is on a tier now (the tier moves with
purchases, so the members service's own tier column is only the tier at registration) and a
member's purchases for the consumption tab of the member's record."""

from __future__ import annotations

from sqlalchemy import select

from chainclub.common.v1 import common_pb2
from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.db import in_scope
from kit.errors import InvalidArgument, OutOfScope
from services.loyalty import access
from services.loyalty.context import LoyaltyContext
from services.loyalty.journal import ts
from services.loyalty.models import points_accounts, purchases

MAX_TIER_PAGE = 5000  # member numbers per page: the gateway pages through them for a search
MAX_PURCHASE_PAGE = 200
MAX_TIER_LOOKUP = 500  # members per MemberTiers call (a page of a member list)


def _offset(page: common_pb2.PageRequest) -> int:
    return int(page.cursor) if page.cursor.isdigit() else 0


def _scope(p: Principal, store_path: str) -> str:
    if not store_path:
        return p.scope
    if not p.may_access(store_path):
        raise OutOfScope("no such org unit in your scope")
    return store_path


async def members_on_tier(
    ctx: LoyaltyContext, p: Principal, req: pb.MembersOnTierRequest
) -> pb.MembersOnTierResponse:
    """Member numbers of the accounts on ``req.tier`` whose home store lies in the scope, in
    member-number order so the pages are stable."""
    access.require(p, access.READERS, "list members by tier")
    tier = req.tier.strip()
    if not tier or len(tier) > 32:
        raise InvalidArgument("tier must be a tier code (1..32 characters)", field="tier")
    scope = _scope(p, req.store_path)
    size = min(req.page.limit or 1000, MAX_TIER_PAGE)
    offset = _offset(req.page)
    a = points_accounts.c
    query = (
        select(a.member_no)
        .where(a.tier == tier, in_scope(a.home_store_path, scope))
        .order_by(a.member_no)
        .offset(offset)
        .limit(size + 1)
    )
    async with ctx.db.transaction() as session:
        found = list((await session.execute(query)).scalars())
    more = len(found) > size
    return pb.MembersOnTierResponse(
        member_nos=found[:size], page=common_pb2.PageInfo(next_cursor=str(offset + size) if more else "")
    )


async def member_tiers(
    ctx: LoyaltyContext, p: Principal, req: pb.MemberTiersRequest
) -> pb.MemberTiersResponse:
    """The current tier of the members asked for that have a points account; counter staff see
    any member's (the card works chain-wide), auditors those of their scope."""
    access.require(p, access.READERS, "read tiers of members")
    wanted = sorted(set(req.member_nos))
    if len(wanted) > MAX_TIER_LOOKUP:
        raise InvalidArgument(f"at most {MAX_TIER_LOOKUP} member numbers", field="member_nos")
    if not wanted:
        return pb.MemberTiersResponse()
    a = points_accounts.c
    query = (
        select(a.member_no, a.tier, a.home_store_path).where(a.member_no.in_(wanted)).order_by(a.member_no)
    )
    async with ctx.db.transaction() as session:
        rows = (await session.execute(query)).all()
    counter = p.role in access.COUNTER or p.role == "service"
    return pb.MemberTiersResponse(
        tiers=[
            pb.MemberTier(member_no=r.member_no, tier=r.tier)
            for r in rows
            if counter or p.may_access(r.home_store_path)
        ]
    )


def member_purchase_pb(row) -> pb.MemberPurchase:  # type: ignore[no-untyped-def]
    return pb.MemberPurchase(
        checkout_id=row.checkout_id, store_path=row.store_path, status=row.status, subtotal=row.subtotal,
        discount_total=row.discount_total, points_value=row.points_value, total_due=row.total_due,
        points_used=row.points_used, points_earned=row.points_earned, refunded_amount=row.refunded_amount,
        created_at=ts(row.created_at),
    )  # fmt: skip


async def list_member_purchases(
    ctx: LoyaltyContext, p: Principal, req: pb.ListMemberPurchasesRequest
) -> pb.ListMemberPurchasesResponse:
    """The member's purchases, newest first. Counter staff see any member's (the card works
    chain-wide); auditors only a member of their scope, as for points."""
    access.require(p, access.READERS, "read purchases")
    if not req.member_no:
        raise InvalidArgument("member_no is required", field="member_no")
    size = min(req.page.limit or 50, MAX_PURCHASE_PAGE)
    offset = _offset(req.page)
    async with ctx.db.transaction() as session:
        home = (
            await session.execute(
                select(points_accounts.c.home_store_path).where(points_accounts.c.member_no == req.member_no)
            )
        ).scalar_one_or_none()
        if home is not None:
            access.check_member_read(p, home)
        elif p.role not in access.COUNTER and p.role != "service":
            return pb.ListMemberPurchasesResponse()  # no account: nothing of theirs to show
        rows = (
            await session.execute(
                select(purchases)
                .where(purchases.c.member_no == req.member_no)
                .order_by(purchases.c.created_at.desc(), purchases.c.checkout_id)
                .offset(offset)
                .limit(size + 1)
            )
        ).all()
    more = len(rows) > size
    return pb.ListMemberPurchasesResponse(
        purchases=[member_purchase_pb(r) for r in rows[:size]],
        page=common_pb2.PageInfo(next_cursor=str(offset + size) if more else ""),
    )
