"""A member's purchases (the consumption tab of the member's record and ``GET
/api/v1/members/{member_no}/purchases``) and the members on a tier. Both are loyalty's: it
records the purchases and moves the tier with them (the members service's own tier is only
the tier at registration). The member is looked up in members first, so another scope's
member is a 404 as on every member route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chainclub.loyalty.v1 import loyalty_pb2 as pb
from kit.auth import Principal
from kit.errors import ChainclubError
from services.gateway.loyalty import READ_TIMEOUT, member_in_scope
from services.gateway.state import GatewayState

TIER_PAGE = 5000  # member numbers per MembersOnTier call


class MemberPurchase(BaseModel):
    checkout_id: str
    created_at: str  # RFC 3339, UTC
    store_path: str
    subtotal: int  # fen before discounts
    discount: int  # fen taken off by promotions, coupons, tier and card discounts
    points_used: int
    points_value: int  # fen paid with points
    total_due: int  # fen paid
    points_earned: int
    status: str  # completed, partially_refunded, refunded
    refunded_amount: int  # fen given back


class MemberPurchasePage(BaseModel):
    items: list[MemberPurchase]
    next_cursor: str | None


def purchase_json(m: pb.MemberPurchase) -> dict[str, Any]:
    return {
        "checkout_id": m.checkout_id, "created_at": m.created_at.ToDatetime().isoformat() + "Z",
        "store_path": m.store_path, "subtotal": m.subtotal, "discount": m.discount_total,
        "points_used": m.points_used, "points_value": m.points_value, "total_due": m.total_due,
        "points_earned": m.points_earned, "status": m.status, "refunded_amount": m.refunded_amount,
    }  # fmt: skip


async def purchases(
    state: GatewayState, p: Principal, member_no: str, limit: int = 20, cursor: str | None = None
) -> dict[str, Any]:
    """One page of the member's purchases, newest first. -> ``MemberPurchasePage``."""
    await member_in_scope(state, p, member_no)
    req = pb.ListMemberPurchasesRequest(member_no=member_no, page={"limit": limit, "cursor": cursor or ""})
    reply = await state.clients.call(state.clients.loyalty.ListMemberPurchases, req, p)
    return {
        "items": [purchase_json(m) for m in reply.purchases],
        "next_cursor": reply.page.next_cursor or None,
    }


async def members_on_tier(state: GatewayState, p: Principal, tier: str, store_path: str = "") -> list[str]:
    """Every member number on ``tier`` now, within the caller's scope or ``store_path``, paged
    through loyalty (a members search then narrows to them)."""
    found: list[str] = []
    cursor = ""
    while True:
        req = pb.MembersOnTierRequest(
            tier=tier, store_path=store_path, page={"limit": TIER_PAGE, "cursor": cursor}
        )
        reply = await state.clients.call(state.clients.loyalty.MembersOnTier, req, p)
        found.extend(reply.member_nos)
        cursor = reply.page.next_cursor
        if not cursor:
            return found


async def current_tiers(state: GatewayState, p: Principal, member_nos: list[str]) -> dict[str, str]:
    """Loyalty's tier of each of a page of members (those with a points account); {} when
    loyalty does not answer, so a member list still shows (with the tiers at registration)."""
    if not member_nos:
        return {}
    try:
        reply = await state.clients.call(
            state.clients.loyalty.MemberTiers,
            pb.MemberTiersRequest(member_nos=member_nos),
            p,
            timeout=READ_TIMEOUT,
        )
    except ChainclubError:
        return {}
    return {t.member_no: t.tier for t in reply.tiers}
